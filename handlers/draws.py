"""Routes for a live draw of the seeding: POST /api/tournaments/{id}/draw/{start,next,all,undo,abort}."""

from __future__ import annotations

from handlers.base import ID, BaseHandler, Reply
from tournament import fields

STEPS = ("start", "next", "all", "undo", "abort")


class DrawHandler(BaseHandler):
    """One step of the draw (organizers); answers the tournament, its draw as far as shown."""

    async def post(self, tournament_id: str, step: str) -> None:
        async def act() -> Reply:
            user, body, draws = self.user(), self.json_body(), self.services.draws
            if step == "start":
                tournament = await draws.start(tournament_id, user,
                                               fields.integer(body, "rng_seed", maximum=2**31 - 1))
            elif step in ("next", "all"):
                tournament = await draws.reveal(tournament_id, user, all_=step == "all")
            elif step == "undo":
                tournament = await draws.undo(tournament_id, user)
            else:
                tournament = await draws.abort(tournament_id, user)
            return 200, tournament.to_json()

        await self.once_per_key(self.count_write(), act)


routes = [(rf"/api/tournaments/({ID})/draw/({'|'.join(STEPS)})/?", DrawHandler)]
