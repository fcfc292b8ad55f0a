"""Routes for matches: their lifecycle actions, disputes and event log."""

from __future__ import annotations

from handlers import schema
from handlers.base import ID, BaseHandler, Reply
from handlers.errors import ApiError
from tournament.models import Match

ACTIONS = ("open-check-in", "check-in", "start", "score", "result", "confirm", "forfeit", "cancel")


class MatchHandler(BaseHandler):
    async def get(self, match_id: str) -> None:
        self.user()
        match = await self.services.matches.get(match_id)
        self.reply(200, match.to_json())


class MatchActionHandler(BaseHandler):
    """POST /api/matches/{id}/{action}: one move of the match state machine."""

    async def post(self, match_id: str, action: str) -> None:
        async def act() -> Reply:
            match = await self._act(match_id, action)
            return 200, match.to_json()

        await self.write_once(act)

    async def _act(self, match_id: str, action: str) -> Match:
        user, body, version = self.user(), self.json_body(), self.if_match_version()
        matches = self.services.matches
        if action == "open-check-in":
            return await matches.open_check_in(match_id, user, version)
        if action == "check-in":
            return await matches.check_in(match_id, user, schema.identifier(body, "participant_id", required=False),
                                          version)
        if action == "start":
            return await matches.start(match_id, user, version)
        if action == "score":
            if version is not None:  # a guarded update cannot wait in a batch
                return await matches.update_score(match_id, user, schema.scores(body) or {}, version)
            return await (await self.services.batcher.submit(match_id, user, schema.scores(body) or {}))
        if action == "result":
            return await matches.report_result(match_id, user, schema.scores(body) or {}, version)
        if action == "confirm":
            return await matches.confirm(match_id, user, version)
        if action == "forfeit":
            return await matches.forfeit(match_id, user, schema.identifier(body, "participant_id") or "",
                                         version)
        if action == "cancel":
            return await matches.cancel(match_id, user, schema.text(body, "reason", default="",
                                                                    allow_empty=True, max_len=500), version)
        raise ApiError(404, "not_found", f"no match action {action!r}")


class MatchCorrectionHandler(BaseHandler):
    """POST /api/matches/{id}/correct: an organizer replaces a decided result (or undoes that)."""

    async def post(self, match_id: str) -> None:
        async def correct() -> Reply:
            body = self.json_body()
            undo = schema.flag(body, "undo")
            report = await self.services.brackets.correct(
                match_id, self.user(), None if undo else schema.scores(body), undo=undo,
                force=schema.flag(body, "force"), dry_run=schema.flag(body, "dry_run"))
            return 200, report

        await self.write_once(correct)


class MatchEventsHandler(BaseHandler):
    async def get(self, match_id: str) -> None:
        self.user()
        since = self._query_int("since", 0, 0, 2**53)
        limit = self._query_int("limit", 1000, 1, 1000)
        events = await self.services.matches.events(match_id, since, limit)
        self.reply(200, {"match_id": match_id, "since": since, "events": [e.to_json() for e in events]})

    def _query_int(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        if not (raw.isascii() and raw.isdigit()):
            raise ApiError(400, "invalid_schema", f"{name} must be a whole number", field=name)
        value = int(raw)
        if not low <= value <= high:
            raise ApiError(422, "invalid_value", f"{name} must be between {low} and {high}", field=name)
        return value


class MatchDisputesHandler(BaseHandler):
    async def get(self, match_id: str) -> None:
        self.user()
        disputes = await self.services.matches.disputes(match_id)
        self.reply(200, {"match_id": match_id, "disputes": [d.to_json() for d in disputes]})

    async def post(self, match_id: str) -> None:
        async def raise_dispute() -> Reply:
            body = self.json_body()
            dispute, match = await self.services.matches.raise_dispute(
                match_id, self.user(), schema.text(body, "reason", max_len=1000), self.if_match_version())
            self.set_header("Location", f"/api/disputes/{dispute.id}")
            return 201, {"dispute": dispute.to_json(), "match": match.to_json()}

        await self.write_once(raise_dispute)


class DisputeHandler(BaseHandler):
    async def get(self, dispute_id: str) -> None:
        self.user()
        dispute = await self.services.matches.get_dispute(dispute_id)
        self.reply(200, dispute.to_json())


class DisputeResolveHandler(BaseHandler):
    async def post(self, dispute_id: str) -> None:
        async def resolve() -> Reply:
            body = self.json_body()
            status = schema.text(body, "status", default="resolved")
            if status not in ("resolved", "rejected"):
                raise ApiError(422, "invalid_value", "status must be 'resolved' or 'rejected'", field="status")
            dispute, match = await self.services.matches.resolve_dispute(
                dispute_id, self.user(), reject=status == "rejected",
                scores=schema.scores(body, required=False),
                resolution=schema.text(body, "resolution", max_len=1000))
            return 200, {"dispute": dispute.to_json(), "match": match.to_json()}

        await self.write_once(resolve)


routes = [
    (rf"/api/matches/({ID})/?", MatchHandler),
    (rf"/api/matches/({ID})/({'|'.join(ACTIONS)})/?", MatchActionHandler),
    (rf"/api/matches/({ID})/events/?", MatchEventsHandler),
    (rf"/api/matches/({ID})/correct/?", MatchCorrectionHandler),
    (rf"/api/matches/({ID})/disputes/?", MatchDisputesHandler),
    (rf"/api/disputes/({ID})/?", DisputeHandler),
    (rf"/api/disputes/({ID})/resolve/?", DisputeResolveHandler),
]
