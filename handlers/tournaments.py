"""Routes for tournaments and their matches (their participants: participants.py)."""

from __future__ import annotations

from handlers.base import ID, BaseHandler, Reply, paged
from tournament import fields, series
from tournament.models import BEST_OF_1


class TournamentsHandler(BaseHandler):
    async def get(self) -> None:
        """Newest first, a page at a time: `limit` (1 to 500, default 100) and the `after`
        cursor, the `next` of the page before."""
        self.user()
        limit = self.query_number("limit", 100, 1, 500)
        archived = self.query("archived")
        if archived not in (None, "true", "false"):
            raise fields.invalid("archived", "must be true or false")
        tournaments = await self.services.tournaments.list_tournaments(limit + 1, self.cursor(),
                                                                       archived=archived == "true")
        page, next_id = paged(tournaments, limit)
        self.reply(200, {"tournaments": [t.to_json() for t in page], "next": next_id})

    async def post(self) -> None:
        async def create() -> Reply:
            body = self.json_body()
            tournament = await self.services.tournaments.create(
                self.user(), name=fields.text(body, "name"),
                game=fields.text(body, "game", default="", allow_empty=True),
                format=fields.text(body, "format", default="single_elimination"),
                spectator_chat=fields.flag(body, "spectator_chat"))
            self.set_header("Location", f"/api/tournaments/{tournament.id}")
            return 201, tournament.to_json()

        await self.once_per_key(self.count_write(), create)


class TournamentHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        self.user()
        tournament = await self.services.tournaments.get(tournament_id)
        participants = await self.services.tournaments.list_participants(tournament_id)
        self.reply(200, {**tournament.to_json(), "participants": [p.to_json() for p in participants]})

    async def patch(self, tournament_id: str) -> None:
        async def change() -> Reply:
            body = self.json_body()
            given = {k for k in ("name", "game", "archived", "team_actors") if body.get(k) is not None}
            if not given:
                raise fields.invalid("name", "send at least one of name, game, archived and team_actors")
            tournament = await self.services.tournaments.update(
                tournament_id, self.user(),
                name=fields.text(body, "name") if "name" in given else None,
                game=fields.text(body, "game", allow_empty=True) if "game" in given else None,
                archived=fields.flag(body, "archived") if "archived" in given else None,
                team_actors=fields.text(body, "team_actors", max_len=20) if "team_actors" in given else None)
            return 200, tournament.to_json()

        await self.once_per_key(self.count_write(), change)

    async def delete(self, tournament_id: str) -> None:
        """`?confirm=<the tournament's name>`: what the desk asks the organizer to type."""
        async def remove() -> Reply:
            confirm = self.query("confirm")
            if confirm is None:
                raise fields.invalid("confirm", "send confirm=<the tournament's name> to delete it")
            await self.services.tournaments.delete(tournament_id, self.user(), confirm)
            return 200, {"deleted": tournament_id}

        await self.once_per_key(self.count_write(), remove)


class TournamentMatchesHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        """Every match in creation order, or with `limit` (1 to 1000) a page at a time after
        the `after` cursor (the `next` of the page before)."""
        self.user()
        limit = None if self.query("limit") is None else self.query_number("limit", 0, 1, 1000)
        matches = await self.services.tournaments.list_matches(
            tournament_id, None if limit is None else limit + 1, self.cursor())
        page, next_id = paged(matches, limit)
        self.reply(200, {"matches": [m.to_json() for m in page], "next": next_id})

    async def post(self, tournament_id: str) -> None:
        async def create() -> Reply:
            body = self.json_body()
            match = await self.services.tournaments.create_match(
                tournament_id, self.user(), fields.id_list(body, "participant_ids"),
                round=fields.integer(body, "round", minimum=1, maximum=1000),
                label=fields.text(body, "label", default="", allow_empty=True, max_len=100),
                fmt=series.format_from(body["format"]) if body.get("format") is not None else BEST_OF_1)
            self.set_header("Location", f"/api/matches/{match.id}")
            return 201, match.to_json()

        await self.once_per_key(self.count_write(), create)


routes = [
    (r"/api/tournaments/?", TournamentsHandler),
    (rf"/api/tournaments/({ID})/?", TournamentHandler),
    (rf"/api/tournaments/({ID})/matches/?", TournamentMatchesHandler),
]
