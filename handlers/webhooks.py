"""Routes of a tournament's webhooks: register, change, remove, the delivery log, replay, a test."""

from __future__ import annotations

from typing import Any

from handlers.base import ID, BaseHandler, Reply
from tournament import fields
from tournament.webhooks import MAX_URL_CHARS


def _events(body: dict[str, Any]) -> tuple[str, ...] | None:
    """The event types asked for (which exist is the service's check); None when absent."""
    value = body.get("events")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fields.bad_request("events must be a list of event types", "events")
    if len(value) > 64:
        raise fields.invalid("events", "must name at most 64")
    return tuple(fields.check_text(item, "events")[:64] for item in value)


def _url(body: dict[str, Any], *, required: bool) -> str | None:
    if not required and body.get("url") is None:
        return None
    return fields.text(body, "url", max_len=MAX_URL_CHARS)


class WebhooksHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        webhooks = await self.services.webhooks.list_webhooks(tournament_id, self.user())
        self.reply(200, {"webhooks": [w.to_json() for w in webhooks]})

    async def post(self, tournament_id: str) -> None:
        async def add() -> Reply:
            body = self.json_body()
            url = _url(body, required=True)
            assert url is not None
            secret = fields.text(body, "secret", max_len=128) if body.get("secret") is not None else None
            webhook = await self.services.webhooks.create(tournament_id, self.user(), url, _events(body) or (),
                                                          secret)
            self.set_header("Location", f"/api/tournaments/{tournament_id}/webhooks/{webhook.id}")
            return 201, {**webhook.to_json(), "secret": webhook.secret}  # the only time it is answered

        await self.once_per_key(self.count_write(), add)


class WebhookHandler(BaseHandler):
    async def get(self, tournament_id: str, webhook_id: str) -> None:
        webhook = await self.services.webhooks.get(tournament_id, webhook_id, self.user())
        self.reply(200, webhook.to_json())

    async def patch(self, tournament_id: str, webhook_id: str) -> None:
        async def change() -> Reply:
            body = self.json_body()
            enabled = None if body.get("enabled") is None else fields.flag(body, "enabled")
            webhook = await self.services.webhooks.update(tournament_id, webhook_id, self.user(),
                                                          url=_url(body, required=False), events=_events(body),
                                                          enabled=enabled)
            return 200, webhook.to_json()

        await self.once_per_key(self.count_write(), change)

    async def delete(self, tournament_id: str, webhook_id: str) -> None:
        async def remove() -> Reply:
            await self.services.webhooks.delete(tournament_id, webhook_id, self.user())
            return 200, {"removed": webhook_id}

        await self.once_per_key(self.count_write(), remove)


class DeliveriesHandler(BaseHandler):
    async def get(self, tournament_id: str, webhook_id: str) -> None:
        limit = self.query_number("limit", 50, 1, 200)
        before = self.query_number("before", 0, 0, 10**15) or None
        deliveries = await self.services.webhooks.deliveries(tournament_id, webhook_id, self.user(), before, limit)
        self.reply(200, {"deliveries": [r.to_json() for r in deliveries],
                         "before": deliveries[-1].seq if len(deliveries) == limit else None})


class ReplayHandler(BaseHandler):
    async def post(self, tournament_id: str, webhook_id: str) -> None:
        async def replay() -> Reply:
            body = self.json_body()
            from_seq = fields.integer(body, "from_seq", minimum=1, maximum=10**15)
            if from_seq is None:
                raise fields.bad_request("from_seq is required", "from_seq")
            pending = await self.services.webhooks.replay(tournament_id, webhook_id, self.user(), from_seq)
            return 200, {"from_seq": from_seq, "pending": pending}

        await self.once_per_key(self.count_write(), replay)


class PingHandler(BaseHandler):
    async def post(self, tournament_id: str, webhook_id: str) -> None:
        async def ping() -> Reply:
            seq = await self.services.webhooks.ping(tournament_id, webhook_id, self.user())
            return 202, {"seq": seq}

        await self.once_per_key(self.count_write(), ping)


routes = [
    (rf"/api/tournaments/({ID})/webhooks/?", WebhooksHandler),
    (rf"/api/tournaments/({ID})/webhooks/({ID})/?", WebhookHandler),
    (rf"/api/tournaments/({ID})/webhooks/({ID})/deliveries/?", DeliveriesHandler),
    (rf"/api/tournaments/({ID})/webhooks/({ID})/replay/?", ReplayHandler),
    (rf"/api/tournaments/({ID})/webhooks/({ID})/ping/?", PingHandler),
]
