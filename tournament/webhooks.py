"""Webhooks: the organizer's URLs that get a tournament's events, their rules and signature,
and `WebhookService` (register, change, remove, the delivery log, replay).

Delivery itself, in order and retried, is the outbox's (tournament/outbox.py).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence

from tournament import events as ev
from tournament.errors import InvalidValueError
from tournament.locks import KeyedLocks
from tournament.models import Delivery, Webhook, new_id
from tournament.outbox import WEBHOOK_PING, WebhookOutbox
from tournament.roles import Principal
from tournament.store import NotFoundError, Store
from tournament.tournaments import require_organizer

MAX_WEBHOOKS = 10  # per tournament
MAX_URL_CHARS = 2048
SECRET_CHARS = (16, 128)  # an organizer's own secret: at least 16 characters

# Every event a webhook may ask for: the names in tournament/events.py, but a match's chat,
# which stays in its match's room, and the ping, which every webhook gets when asked.
EVENT_TYPES = frozenset(
    value for name, value in vars(ev).items()
    if name.isupper() and isinstance(value, str) and value not in ev.MATCH_ROOM_ONLY) | {WEBHOOK_PING}

# Says whether (host, port) reaches this server itself (a webhook to itself would loop).
# Raises InvalidValueError when the host cannot be resolved.
IsThisServer = Callable[[str, int], Awaitable[bool]]


def check_url(url: str) -> tuple[str, int]:
    """The host and port of a webhook URL. Raises InvalidValueError (422) unless it is an
    absolute http(s) URL with a host, no user or password, and no fragment."""
    if len(url) > MAX_URL_CHARS:
        raise InvalidValueError(f"url must be at most {MAX_URL_CHARS} characters", field="url")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise InvalidValueError(f"url is not a URL: {e}", field="url") from e
    if parts.scheme not in ("http", "https"):
        raise InvalidValueError("url must start with http:// or https://", field="url", code="invalid_webhook_url")
    if not parts.hostname:
        raise InvalidValueError("url must name a host", field="url", code="invalid_webhook_url")
    if parts.username is not None or parts.password is not None:
        raise InvalidValueError("url must not carry a user or password (the secret signs each delivery)",
                                field="url", code="invalid_webhook_url")
    if port == 0:
        raise InvalidValueError("url's port must be 1 to 65535", field="url", code="invalid_webhook_url")
    if parts.fragment:
        raise InvalidValueError("url must not have a #fragment", field="url", code="invalid_webhook_url")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_events(names: Sequence[str]) -> tuple[str, ...]:
    """The event types a webhook asks for, in the order given, once each (empty: every type).
    Raises InvalidValueError naming the unknown ones."""
    unknown = [name for name in names if name not in EVENT_TYPES]
    if unknown:
        raise InvalidValueError(f"unknown event types: {', '.join(unknown)}", field="events", unknown=unknown)
    return tuple(dict.fromkeys(names))


def check_secret(secret: str) -> str:
    low, high = SECRET_CHARS
    if not low <= len(secret) <= high:
        raise InvalidValueError(f"secret must be {low} to {high} characters", field="secret")
    return secret


class WebhookService:
    """Webhooks of a tournament, for its organizers: the stored records, kept in step with the
    outbox that delivers them."""

    def __init__(self, store: Store, outbox: WebhookOutbox, is_this_server: IsThisServer,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._outbox = outbox
        self._is_this_server = is_this_server
        self._clock = clock
        self._locks = KeyedLocks()  # per tournament: the count limit holds

    async def _checked_url(self, url: str) -> str:
        host, port = check_url(url)
        if await self._is_this_server(host, port):
            raise InvalidValueError("url points at this server itself", field="url", code="webhook_url_is_this_server")
        return url

    async def create(self, tournament_id: str, user: Principal, url: str, events: Sequence[str] = (),
                     secret: str | None = None) -> Webhook:
        """A new webhook, with its secret (made here unless given). Raises ForbiddenError,
        NotFoundError (the tournament), InvalidValueError (url, events, secret, too many)."""
        require_organizer(user, "add webhooks")
        await self._tournament(tournament_id)
        webhook = Webhook(id=new_id("wh"), tournament_id=tournament_id, url=await self._checked_url(url),
                          secret=check_secret(secret) if secret is not None else secrets.token_urlsafe(32),
                          created_by=user.user_id, created_at=self._clock(), events=check_events(events))
        async with self._locks.hold(tournament_id):
            if len(await self._store.list_webhooks(tournament_id)) >= MAX_WEBHOOKS:
                raise InvalidValueError(f"a tournament has at most {MAX_WEBHOOKS} webhooks", field="url",
                                        code="too_many_webhooks")
            await self._store.insert_webhook(webhook)
            await self._outbox.add(webhook)
        return webhook

    async def list_webhooks(self, tournament_id: str, user: Principal) -> list[Webhook]:
        """Raises ForbiddenError, NotFoundError."""
        require_organizer(user, "see webhooks")
        await self._tournament(tournament_id)
        return await self._store.list_webhooks(tournament_id)

    async def get(self, tournament_id: str, webhook_id: str, user: Principal) -> Webhook:
        """Raises ForbiddenError, NotFoundError (the tournament's webhook)."""
        require_organizer(user, "see webhooks")
        return await self._webhook(tournament_id, webhook_id)

    async def update(self, tournament_id: str, webhook_id: str, user: Principal, *, url: str | None = None,
                     events: Sequence[str] | None = None, enabled: bool | None = None) -> Webhook:
        """Change what is given. Raises ForbiddenError, NotFoundError, InvalidValueError."""
        require_organizer(user, "change webhooks")
        checked_url = await self._checked_url(url) if url is not None else None
        async with self._locks.hold(tournament_id):
            old = await self._webhook(tournament_id, webhook_id)
            new = dataclasses.replace(
                old, url=checked_url if checked_url is not None else old.url,
                events=check_events(events) if events is not None else old.events,
                enabled=enabled if enabled is not None else old.enabled)
            if new != old:
                new = self._outbox.changed(new)  # with the outbox's own state (paused)
                await self._store.save_webhook(new)
        return new

    async def delete(self, tournament_id: str, webhook_id: str, user: Principal) -> None:
        """The webhook and its outbox. Raises ForbiddenError, NotFoundError."""
        require_organizer(user, "remove webhooks")
        async with self._locks.hold(tournament_id):
            await self._outbox.remove(await self._webhook(tournament_id, webhook_id))
            await self._store.delete_webhook(webhook_id)

    async def deliveries(self, tournament_id: str, webhook_id: str, user: Principal,
                         before_seq: int | None = None, limit: int = 50) -> list[Delivery]:
        """The delivery log, newest first. Raises ForbiddenError, NotFoundError."""
        require_organizer(user, "see webhook deliveries")
        await self._webhook(tournament_id, webhook_id)
        return await self._store.recent_deliveries(webhook_id, before_seq, limit)

    async def replay(self, tournament_id: str, webhook_id: str, user: Principal, from_seq: int) -> int:
        """Deliver again, in order, every delivery from `from_seq` on (a paused webhook goes on
        from there); returns how many are queued. Raises ForbiddenError, NotFoundError,
        InvalidValueError (no such delivery)."""
        require_organizer(user, "replay webhook deliveries")
        async with self._locks.hold(tournament_id):
            webhook = await self._webhook(tournament_id, webhook_id)
            if not await self._store.list_deliveries(webhook_id, after_seq=from_seq - 1, limit=1):
                raise InvalidValueError(f"webhook {webhook_id} has no delivery {from_seq} or later", field="from_seq",
                                        code="no_such_delivery")
            return await self._outbox.replay(webhook, from_seq)

    async def ping(self, tournament_id: str, webhook_id: str, user: Principal) -> int:
        """Queue a test delivery (`webhook_ping`) to this webhook alone; its seq. Raises
        ForbiddenError, NotFoundError, InvalidValueError (a disabled webhook)."""
        require_organizer(user, "test webhooks")
        webhook = await self._webhook(tournament_id, webhook_id)
        if not webhook.enabled:
            raise InvalidValueError("the webhook is disabled: enable it first", field="enabled",
                                    code="webhook_disabled")
        return await self._outbox.ping(webhook, {"tournament_id": tournament_id, "by": user.user_id})

    async def _tournament(self, tournament_id: str) -> None:
        tournament = await self._store.get_tournament(tournament_id)
        if tournament.deleting:
            raise NotFoundError("tournament", tournament_id)

    async def _webhook(self, tournament_id: str, webhook_id: str) -> Webhook:
        await self._tournament(tournament_id)
        for webhook in await self._store.list_webhooks(tournament_id):
            if webhook.id == webhook_id:
                return webhook
        raise NotFoundError("webhook", webhook_id)
