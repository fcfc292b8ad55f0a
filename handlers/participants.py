"""Routes for a tournament's participants: list, add (one, or many from a list or CSV), edit,
remove, and set every seed at once."""

from __future__ import annotations

from handlers.base import ID, BaseHandler, Reply
from tournament import fields, participant_rows
from tournament.participants import UNCHANGED


class ParticipantsHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        self.user()
        participants = await self.services.tournaments.list_participants(tournament_id)
        self.reply(200, {"participants": [p.to_json() for p in participants]})

    async def post(self, tournament_id: str) -> None:
        async def add() -> Reply:
            body = self.json_body()
            participant = await self.services.participants.add(
                tournament_id, self.user(), name=participant_rows.name(body),
                participant_id=fields.identifier(body, "id", required=False), seed=participant_rows.seed(body))
            return 201, participant.to_json()

        await self.once_per_key(self.count_write(), add)


class BulkParticipantsHandler(BaseHandler):
    """`{"participants": [...]}` or `{"csv": "..."}`: every row added, in order, or none."""

    async def post(self, tournament_id: str) -> None:
        async def add() -> Reply:
            rows = participant_rows.from_body(self.json_body())
            added = await self.services.participants.add_many(tournament_id, self.user(), rows)
            return 201, {"participants": [p.to_json() for p in added]}

        await self.once_per_key(self.count_write(), add)


class ParticipantHandler(BaseHandler):
    async def patch(self, tournament_id: str, participant_id: str) -> None:
        """`name` (absent or null: unchanged) and `seed` (absent: unchanged; null: no seed)."""
        async def change() -> Reply:
            body = self.json_body()
            participant = await self.services.participants.update(
                tournament_id, participant_id, self.user(),
                name=None if body.get("name") is None else participant_rows.name(body),
                seed=participant_rows.seed(body) if "seed" in body else UNCHANGED)
            return 200, participant.to_json()

        await self.once_per_key(self.count_write(), change)

    async def delete(self, tournament_id: str, participant_id: str) -> None:
        async def remove() -> Reply:
            removed = await self.services.participants.remove(tournament_id, participant_id, self.user())
            return 200, {"removed": removed.to_json()}

        await self.once_per_key(self.count_write(), remove)


class SeedsHandler(BaseHandler):
    async def put(self, tournament_id: str) -> None:
        """`{"order": [participant id, ...]}`: seeds 1 to n in that order."""
        async def reseed() -> Reply:
            order = fields.id_list(self.json_body(), "order")
            seeded = await self.services.participants.reseed(tournament_id, self.user(), order)
            return 200, {"participants": [p.to_json() for p in seeded]}

        await self.once_per_key(self.count_write(), reseed)


routes = [
    (rf"/api/tournaments/({ID})/participants/?", ParticipantsHandler),
    # before the participant route: "bulk" is a well-formed id (and reserved, so no participant has it)
    (rf"/api/tournaments/({ID})/participants/bulk/?", BulkParticipantsHandler),
    (rf"/api/tournaments/({ID})/participants/({ID})/?", ParticipantHandler),
    (rf"/api/tournaments/({ID})/seeds/?", SeedsHandler),
]
