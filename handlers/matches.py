"""Routes for matches: their moves (the command table), corrections, disputes and event log."""

from __future__ import annotations

from handlers.base import ID, BaseHandler, Reply
from realtime.protocol import parse_since
from tournament import fields, series
from tournament.commands import BY_REST

ACTIONS = tuple(name for name in BY_REST if name != "dispute")  # disputes have their own route


class MatchHandler(BaseHandler):
    async def get(self, match_id: str) -> None:
        self.user()
        match = await self.services.matches.get(match_id)
        self.reply(200, match.to_json())


class MatchActionHandler(BaseHandler):
    """POST /api/matches/{id}/{action}: one command of the table (docs/api.md#match-actions)."""

    async def post(self, match_id: str, action: str) -> None:
        async def act() -> Reply:
            done = await BY_REST[action].run(self.services.matches, match_id, self.user(), self.json_body(),
                                             self.if_match_version())
            return 200, (await done.written()).to_json()  # a live score waits for its batch

        await self.once_per_key(self.count_write(), act)


class MatchCorrectionHandler(BaseHandler):
    """POST /api/matches/{id}/correct: an organizer replaces a decided result (or undoes that)."""

    async def post(self, match_id: str) -> None:
        async def correct() -> Reply:
            body = self.json_body()
            undo = fields.flag(body, "undo")
            games = fields.score_list(body, "games", series.MAX_BEST_OF)
            report = await self.services.brackets.correct(
                match_id, self.user(), None if undo else fields.scores(body, required=games is None), undo=undo,
                force=fields.flag(body, "force"), dry_run=fields.flag(body, "dry_run"),
                game=fields.integer(body, "game", minimum=1, maximum=series.MAX_BEST_OF), games=games)
            return 200, report

        await self.once_per_key(self.count_write(), correct)


class MatchEventsHandler(BaseHandler):
    async def get(self, match_id: str) -> None:
        self.user()
        since = parse_since(self.query("since")) or 0
        limit = self.query_number("limit", 1000, 1, 1000)
        events = await self.services.matches.events(match_id, since, limit)
        self.reply(200, {"match_id": match_id, "since": since, "events": [e.to_json() for e in events]})


class MatchDisputesHandler(BaseHandler):
    async def get(self, match_id: str) -> None:
        self.user()
        disputes = await self.services.matches.disputes(match_id)
        self.reply(200, {"match_id": match_id, "disputes": [d.to_json() for d in disputes]})

    async def post(self, match_id: str) -> None:
        async def raise_dispute() -> Reply:
            done = await BY_REST["dispute"].run(self.services.matches, match_id, self.user(), self.json_body(),
                                                self.if_match_version())
            assert done.dispute is not None and done.match is not None
            self.set_header("Location", f"/api/disputes/{done.dispute.id}")
            return 201, {"dispute": done.dispute.to_json(), "match": done.match.to_json()}

        await self.once_per_key(self.count_write(), raise_dispute)


class DisputeHandler(BaseHandler):
    async def get(self, dispute_id: str) -> None:
        self.user()
        dispute = await self.services.matches.get_dispute(dispute_id)
        self.reply(200, dispute.to_json())


class DisputeResolveHandler(BaseHandler):
    async def post(self, dispute_id: str) -> None:
        async def resolve() -> Reply:
            body = self.json_body()
            status = fields.text(body, "status", default="resolved")
            if status not in ("resolved", "rejected"):
                raise fields.invalid("status", "must be 'resolved' or 'rejected'")
            dispute, match = await self.services.matches.resolve_dispute(
                dispute_id, self.user(), reject=status == "rejected",
                scores=fields.scores(body, required=False),
                games=fields.score_list(body, "games", series.MAX_BEST_OF),
                resolution=fields.text(body, "resolution", max_len=1000, multiline=True))
            return 200, {"dispute": dispute.to_json(), "match": match.to_json()}

        await self.once_per_key(self.count_write(), resolve)


routes = [
    (rf"/api/matches/({ID})/?", MatchHandler),
    (rf"/api/matches/({ID})/({'|'.join(ACTIONS)})/?", MatchActionHandler),
    (rf"/api/matches/({ID})/events/?", MatchEventsHandler),
    (rf"/api/matches/({ID})/correct/?", MatchCorrectionHandler),
    (rf"/api/matches/({ID})/disputes/?", MatchDisputesHandler),
    (rf"/api/disputes/({ID})/?", DisputeHandler),
    (rf"/api/disputes/({ID})/resolve/?", DisputeResolveHandler),
]
