"""Routes for teams: a participant's roster."""

from __future__ import annotations

from handlers.base import ID, BaseHandler, Reply
from tournament import fields, teams


class RosterHandler(BaseHandler):
    async def put(self, tournament_id: str, participant_id: str) -> None:
        """`{"tag", "members": [{"id", "name", "role"}], "override"?}`: the participant's team.
        Members dropped from the roster lose their open sockets at once (4503)."""
        async def change() -> Reply:
            body = self.json_body()
            roster = teams.roster_from(body)
            participant = await self.services.teams.set_roster(tournament_id, participant_id, self.user(), roster,
                                                               override=fields.flag(body, "override"))
            self.services.sockets.close_revoked(tournament_id)
            return 200, participant.to_json()

        await self.once_per_key(self.count_write(), change)


routes = [
    (rf"/api/tournaments/({ID})/participants/({ID})/roster/?", RosterHandler),
]
