"""WebhookOutbox: every event a webhook asks for, kept in the webhook's persisted outbox and
POSTed to it one at a time, in order, signed, retried with exponential backoff; a delivery
that fails every retry pauses its webhook until the organizer replays it.

It is a Publisher beside the hub: the writer's events reach it after their commit. Each event
gets the webhook's next seq at once (so the order is the order of `publish`), the rows are
written in that order by one writer task, and one sender task per webhook reads its outbox in
seq order. Delivery is at least once: a delivery cut off by a stop is sent again after the
start, with the same seq, so a receiver drops what it has already seen. With several nodes
(`--broker`) tournament/sharedoutbox.py numbers the events at one node per tournament instead,
and sends them with these senders.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tournament.events import MATCH_ROOM_ONLY, TOURNAMENT_DELETED
from tournament.models import Delivery, DeliveryStatus, Event, Webhook, tournament_stream
from tournament.scheduler import Scheduler
from tournament.store import StorageError, StorageUnavailableError, Store
from tournament.tasks import stop_tasks

log = logging.getLogger(__name__)

WEBHOOK_PING = "webhook_ping"  # a test delivery, queued from the desk
SIGNATURE_HEADER = "X-Livebracket-Signature"
USER_AGENT = "livebracket-webhooks/0.1"
READ_PAGE = 100  # outbox rows a sender reads at once
WRITE_BATCH = 500  # outbox rows the writer inserts at once
STORE_RETRY_S = 1.0  # the first wait after a store failure (doubling to 10 s)
EARLY_EVENTS_MAX = 100_000  # events kept while the webhooks are not loaded yet (the store is down)

# POST `body` to `url` with `headers`, answered within `timeout_s`: the HTTP status.
# Raises (OSError, TimeoutError, ...) when there is no answer.
Post = Callable[[str, bytes, dict[str, str], float], Awaitable[int]]
Sleep = Callable[[float], Awaitable[None]]


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>." + body>`,
    as Stripe signs (the timestamp inside the MAC makes an old delivery replayed later fail)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def retry_delay_s(attempts: int, base_s: float, cap_s: float) -> float:
    """The wait after a delivery's `attempts`-th failure: base, 2 base, 4 base, ... at most cap."""
    return min(cap_s, base_s * 2.0 ** min(attempts - 1, 30))


def store_wait_s(failures: int) -> float:
    """The wait after the `failures`-th store failure in a row: 1 s doubling to 10 s."""
    return min(10.0, STORE_RETRY_S * 2.0 ** min(failures - 1, 4))


@dataclasses.dataclass
class Hook:
    """A webhook as the outbox delivers it: its numbering and its sender."""

    webhook: Webhook
    next_seq: int  # the seq the next event queued for it gets
    cursor: int = 0  # a sender reads its undelivered rows after this seq
    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    idle: bool = False  # its sender waits with nothing to send (as of its last read); a write clears it
    sender: asyncio.Task[None] | None = None


class WebhookOutbox:
    """Queues and delivers webhooks' events. `start()` once the IOLoop runs, `close()` at
    shutdown (after the last events: it writes what is queued, then stops the senders)."""

    def __init__(self, store: Store, post: Post, scheduler: Scheduler, clock: Callable[[], float] = time.time, *,
                 sleep: Sleep = asyncio.sleep, retry_base_s: float = 1.0, retry_cap_s: float = 300.0,
                 max_attempts: int = 10, timeout_s: float = 10.0) -> None:
        self._store = store
        self._post = post
        self._scheduler = scheduler
        self._clock = clock
        self._sleep = sleep
        self._retry_base_s = retry_base_s
        self._retry_cap_s = retry_cap_s
        self._max_attempts = max_attempts
        self._timeout_s = timeout_s
        self._hooks: dict[str, Hook] = {}
        self._by_tournament: dict[str, dict[str, Hook]] = {}  # the same hooks, by their tournament
        self._unwritten: list[Delivery] = []
        self._writer: asyncio.Task[None] | None = None
        self._early: list[Event] | None = []  # None once the webhooks are loaded
        self._loading: asyncio.Task[None] | None = None
        self._closed = False
        self.delivered = 0  # deliveries answered 2xx, for /metrics
        self.failed_attempts = 0

    # --- life cycle ---

    def start(self) -> None:
        """Load every webhook (retried while the store is unreachable), then deliver; from the
        scheduler, so it may be called before the loop runs."""
        self._scheduler.call_later(0, self._begin)

    def _begin(self) -> None:
        if not self._closed and self._loading is None:
            self._loading = asyncio.ensure_future(self._load())

    async def loaded(self) -> None:
        """Return once the webhooks are loaded (tests, and the start-up's order)."""
        if self._loading is not None:
            await asyncio.shield(self._loading)

    async def flush(self) -> None:
        """Return once every event queued so far is in the store."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _load(self) -> None:
        failures = 0
        while True:
            try:
                webhooks = await self._store.list_webhooks()
                tails = [await self._store.recent_deliveries(w.id, limit=1) for w in webhooks]
                break
            except StorageError as e:
                failures += 1
                if failures == 1:
                    log.warning("webhooks not loaded (%s): retrying", e)
                await self._sleep(store_wait_s(failures))
        for webhook, tail in zip(webhooks, tails):
            self._track(webhook, next_seq=tail[0].seq + 1 if tail else 1)  # one added meanwhile is kept
        early, self._early = self._early or [], None
        for event in early:
            self.publish(event)
        for hook in self._hooks.values():
            self._start_sender(hook)

    async def close(self, write_timeout_s: float = 5.0) -> None:
        """Write what is queued (for up to `write_timeout_s`), then stop every sender (a delivery
        under way is sent again after the next start)."""
        self._closed = True
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
            if self._early:
                log.warning("%d events not queued for webhooks: the store never answered", len(self._early))
        if self._writer is not None and not self._writer.done():
            await asyncio.wait({self._writer}, timeout=write_timeout_s)
            if self._unwritten:
                log.warning("%d webhook deliveries not written: the store did not answer", len(self._unwritten))
        senders = [hook.sender for hook in self._hooks.values() if hook.sender is not None]
        await stop_tasks(task for task in (self._writer, self._loading, *senders) if task is not None)

    # --- what the WebhookService tells it ---

    async def add(self, webhook: Webhook) -> None:
        """Deliver to a webhook just stored."""
        hook = self._track(webhook, next_seq=1)
        self._start_sender(hook)

    def changed(self, webhook: Webhook) -> Webhook:
        """Take a changed webhook (url, events, enabled); returns it with the outbox's own
        state (`paused`) kept, which is what must be stored."""
        hook = self._hooks.get(webhook.id)
        if hook is None:
            return webhook
        hook.webhook = dataclasses.replace(webhook, paused=hook.webhook.paused, paused_seq=hook.webhook.paused_seq)
        hook.idle = False
        hook.wake.set()
        return hook.webhook

    async def remove(self, webhook: Webhook) -> None:
        """Stop delivering to a webhook about to be deleted; its queued rows are dropped."""
        webhook_id = webhook.id
        hook = self._untrack(webhook_id)
        self._unwritten = [row for row in self._unwritten if row.webhook_id != webhook_id]
        if hook is not None and hook.sender is not None:
            await stop_tasks([hook.sender])
        if self._writer is not None and not self._writer.done():  # a batch holding its rows may be landing
            await asyncio.wait({self._writer}, timeout=5.0)

    async def replay(self, webhook: Webhook, from_seq: int) -> int:
        """Deliver again from `from_seq` on, in order; a paused webhook goes on from there.
        Returns how many rows are pending again. Raises StorageError."""
        self._require_loaded()
        hook = self._track(webhook, next_seq=1)
        if hook.sender is not None:
            await stop_tasks([hook.sender])
        count = await self._store.reset_deliveries(webhook.id, from_seq)
        if hook.webhook.paused is not None:
            hook.webhook = dataclasses.replace(hook.webhook, paused=None, paused_seq=None)
            await self._store.save_webhook(hook.webhook)
        hook.cursor = from_seq - 1
        hook.idle = False
        self._start_sender(hook)
        return count

    async def ping(self, webhook: Webhook, data: dict[str, Any]) -> int:
        """Queue a test delivery to one webhook; its seq. Raises StorageUnavailableError."""
        self._require_loaded()
        hook = self._track(webhook, next_seq=1)
        return self._queue(hook, tournament_stream(hook.webhook.tournament_id), None, WEBHOOK_PING, data,
                           self._clock())

    def _require_loaded(self) -> None:
        """Raises StorageUnavailableError while the webhooks are not loaded (the store has not
        answered since the start): their seqs are not known yet."""
        if self._early is not None:
            raise StorageUnavailableError("webhooks are not loaded yet: the store has not answered")

    # --- the Publisher ---

    def publish(self, event: Event) -> None:
        """Queue the event for every webhook of its tournament that asks for it. Never raises."""
        try:
            if self._early is not None:
                if len(self._early) < EARLY_EVENTS_MAX:
                    self._early.append(event)
                return
            if self._closed or event.type in MATCH_ROOM_ONLY:
                return
            tournament_id = event.data.get("tournament_id")
            if not isinstance(tournament_id, str):
                return
            hooks = self._of_tournament(tournament_id)
            if not hooks:
                return
            if event.type == TOURNAMENT_DELETED:  # its webhooks go with its records
                for hook in hooks:
                    self._forget(hook)
                return
            stream_seq = event.seq if event.stream.startswith("match:") else None
            for hook in hooks:
                webhook = hook.webhook
                if webhook.enabled and (not webhook.events or event.type in webhook.events):
                    self._queue(hook, event.stream, stream_seq, event.type, event.data, event.ts)
        except Exception:
            log.exception("webhooks could not take %s %s", event.stream, event.type)

    def _of_tournament(self, tournament_id: str) -> list[Hook]:
        """The tournament's webhooks, in the order they were added."""
        hooks = self._by_tournament.get(tournament_id)
        return list(hooks.values()) if hooks else []

    def _track(self, webhook: Webhook, next_seq: int) -> Hook:
        """The hook of `webhook`: the one tracked already, else a new one numbering from `next_seq`."""
        hook = self._hooks.get(webhook.id)
        if hook is None:
            hook = self._hooks[webhook.id] = Hook(webhook, next_seq=next_seq)
            self._by_tournament.setdefault(webhook.tournament_id, {})[webhook.id] = hook
        return hook

    def _untrack(self, webhook_id: str) -> Hook | None:
        hook = self._hooks.pop(webhook_id, None)
        if hook is not None:
            siblings = self._by_tournament.get(hook.webhook.tournament_id, {})
            siblings.pop(webhook_id, None)
            if not siblings:
                self._by_tournament.pop(hook.webhook.tournament_id, None)
        return hook

    def _queue(self, hook: Hook, stream: str, stream_seq: int | None, kind: str, data: dict[str, Any],
               ts: float) -> int:
        row = Delivery(webhook_id=hook.webhook.id, seq=hook.next_seq, stream=stream, stream_seq=stream_seq,
                       type=kind, tournament_id=hook.webhook.tournament_id, data=data, ts=ts)
        hook.next_seq += 1
        self._unwritten.append(row)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write())
        return row.seq

    def _forget(self, hook: Hook) -> None:
        self._untrack(hook.webhook.id)
        self._unwritten = [row for row in self._unwritten if row.webhook_id != hook.webhook.id]
        if hook.sender is not None:
            hook.sender.cancel()

    # --- writing and sending ---

    async def _write(self) -> None:
        """Insert the queued rows in order, a batch at a time, until none is left; wake their senders."""
        failures = 0
        while self._unwritten:
            batch = self._unwritten[:WRITE_BATCH]
            try:
                await self._store.insert_deliveries(batch)
            except StorageError as e:
                failures += 1
                if failures == 1:
                    log.warning("webhook deliveries not written (%s): retrying", e)
                await self._sleep(store_wait_s(failures))
                continue
            failures = 0
            written = {id(row) for row in batch}
            self._unwritten = [row for row in self._unwritten if id(row) not in written]
            for webhook_id in {row.webhook_id for row in batch}:
                hook = self._hooks.get(webhook_id)
                if hook is not None:
                    hook.idle = False
                    hook.wake.set()

    def _start_sender(self, hook: Hook) -> None:
        if self._early is None and not self._closed and (hook.sender is None or hook.sender.done()):
            hook.sender = asyncio.ensure_future(self._send_all(hook))

    async def _send_all(self, hook: Hook) -> None:
        """Deliver the webhook's outbox in seq order, for as long as it runs."""
        failures = 0
        while True:
            hook.wake.clear()  # before the read: a row written after it wakes us again
            if hook.webhook.paused is not None or not hook.webhook.enabled:
                await self._wait(hook)
                continue
            try:
                rows = await self._store.list_deliveries(hook.webhook.id, after_seq=hook.cursor, limit=READ_PAGE,
                                                         undelivered=True)
            except StorageError:
                failures += 1
                await self._sleep(store_wait_s(failures))
                continue
            failures = 0
            if not rows:
                await self._wait(hook)
                continue
            for row in rows:
                if not await self._deliver(hook, row):
                    break  # paused
                hook.cursor = row.seq

    async def _wait(self, hook: Hook) -> None:
        """Wait, idle, until the hook is woken (a row written, a change)."""
        hook.idle = True
        self._sender_idle(hook)
        await hook.wake.wait()
        hook.idle = False

    def _sender_idle(self, hook: Hook) -> None:
        """A sender has nothing to send (tournament/sharedoutbox.py may give its lease up then)."""

    async def _deliver(self, hook: Hook, row: Delivery) -> bool:
        """POST one row until it is answered 2xx (True), or it has failed every retry (False:
        the webhook is paused at it)."""
        body = json.dumps(row.body(), separators=(",", ":"), ensure_ascii=False).encode()
        while True:
            webhook = hook.webhook  # its url may have changed since the last attempt
            now = self._clock()
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                       "X-Livebracket-Webhook": webhook.id, "X-Livebracket-Seq": str(row.seq),
                       SIGNATURE_HEADER: sign(webhook.secret, body, int(now))}
            status: int | None = None
            error: str | None = None
            try:
                status = await self._post(webhook.url, body, headers, self._timeout_s)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # no answer: refused, reset, timed out, a bad certificate
                error = (f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)[:300]
            attempts = row.attempts + 1
            if status is not None and 200 <= status < 300:
                await self._saved(dataclasses.replace(
                    row, status=DeliveryStatus.DELIVERED, attempts=attempts, last_attempt_at=now, last_status=status,
                    last_error=None, delivered_at=self._clock()))
                self.delivered += 1
                return True
            self.failed_attempts += 1
            error = error or f"answered {status}"
            failed = attempts >= self._max_attempts
            row = dataclasses.replace(row, status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
                                      attempts=attempts, last_attempt_at=now, last_status=status, last_error=error)
            await self._saved(row)
            if failed:
                hook.webhook = dataclasses.replace(
                    hook.webhook, paused=f"delivery {row.seq} failed {attempts} times (last: {error})",
                    paused_seq=row.seq)
                await self._saved_webhook(hook.webhook)
                log.warning("webhook %s paused: %s", webhook.id, hook.webhook.paused)
                return False
            await self._sleep(retry_delay_s(attempts, self._retry_base_s, self._retry_cap_s))

    async def _saved(self, row: Delivery) -> None:
        """Save an attempt's outcome, waiting out a store outage (the POST is not sent again for it)."""
        failures = 0
        while True:
            try:
                await self._store.save_delivery(row)
                return
            except StorageError:
                failures += 1
                await self._sleep(store_wait_s(failures))

    async def _saved_webhook(self, webhook: Webhook) -> None:
        failures = 0
        while True:
            try:
                await self._store.save_webhook(webhook)
                return
            except StorageError:  # NotFoundError too: deleted meanwhile, nothing to keep
                failures += 1
                if webhook.id not in self._hooks:
                    return
                await self._sleep(store_wait_s(failures))
