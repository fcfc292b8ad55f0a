"""SharedWebhookOutbox: with several nodes, a tournament's webhooks are numbered and sent by one
node, the holder of the tournament's webhook lease, from a queue every node appends to.

Every node appends the events it committed to the tournament's queue (`WebhookQueue`;
realtime/webhookqueue.py keeps it in Redis), in its own publish order, never awaited by the
write. The append takes the lease when nobody holds it, atomically, and otherwise tells the
holder. The holder reads the queue, puts each match's events back in their match's order
(`plan`: the nodes' appends interleave in any order, but a match's seqs are its log's, so a
later seq waits for the earlier ones in the same read, and a seq nobody appended is read from
the match's log), gives each webhook that asks for an event its next seq, and commits that
numbering in the queue in one step guarded by the lease (the rows in, the events out, the
matches' cursors moved). Only then are the rows written to the store and taken out of the
queue, and the holder's sender of each webhook POSTs them as one node does (tournament/outbox.py).

Why a queue of our own rather than the broker's tournament stream, which is ordered already:
that stream is trimmed (`history_frames`) and made again with a new epoch when Redis restarts,
and a dead node's tournament events never reach it; this queue keeps each event until its rows
are in the store, and belongs to the tournament, so the next holder reads it with nothing to hand
over. The price is the order, restored here per match by the seqs its log gave its events.

A holder's death: the numbering is all or nothing in the queue, and the store write is an upsert
by webhook and seq, so the next holder writes the numbered rows again (the same seqs) and numbers
what is left. A busy tournament whose holder is gone is found by every node's sweep once the lease
expired (`lease.ttl_s`); the next holder's senders start from each webhook's first undelivered row,
so a delivery cut off is sent again with its seq (at least once, as on one node). Idle for a renewal
(nothing queued, every sender waiting), the holder gives the lease up. What another node asks of a webhook
(a replay, a test delivery, a change) it asks of the holder, or does itself when nobody holds it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tournament.events import MATCH_ROOM_ONLY, TOURNAMENT_DELETED
from tournament.leases import Lease
from tournament.locks import KeyedLocks
from tournament.models import Delivery, Event, Webhook, tournament_stream
from tournament.outbox import WEBHOOK_PING, Hook, Post, WebhookOutbox, store_wait_s
from tournament.scheduler import Scheduler
from tournament.store import NotFoundError, StorageError, StorageUnavailableError, Store
from tournament.tasks import stop_tasks
from tournament.webhookappender import WebhookAppender
from tournament.webhookqueue import Answer, Fill, Placed, QueuedEvent, WebhookQueue, plan, webhook_lease

log = logging.getLogger(__name__)

FILL_PAGE = 1000  # log events read at once to fill a gap


class NotHoldingError(StorageUnavailableError):
    """This node gave the tournament's lease up (or lost it) meanwhile: ask again."""

    def __init__(self) -> None:
        super().__init__("this node holds the tournament's webhooks no more; retry")


@dataclasses.dataclass
class _Held:
    """A tournament whose lease this node holds."""

    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    pump: asyncio.Task[None] | None = None
    renewal: object = None
    loaded: bool = False  # its webhooks, their next seqs and the cursors are known
    cursors: dict[str, int] = dataclasses.field(default_factory=dict)
    since: dict[str, float] = dataclasses.field(default_factory=dict)  # webhook id -> its last row's ts at the load
    failures: int = 0
    idle_since: float | None = None  # when a pass first found nothing to do (the lease goes a renewal later)
    renewed_at: float = 0.0  # when the lease was last taken or renewed (the outbox's clock)


class SharedWebhookOutbox(WebhookOutbox):
    """The WebhookOutbox with several nodes (`--broker`): the same senders and rules, the events
    numbered by the tournament's lease holder from the shared queue."""

    def __init__(self, store: Store, post: Post, scheduler: Scheduler, lease: Lease, queue: WebhookQueue,
                 clock: Callable[[], float] = time.time, **options: Any) -> None:
        super().__init__(store, post, scheduler, clock, **options)
        self._lease = lease
        self._shared = queue
        self._early = None  # nothing to load first: the queue numbers
        self._held: dict[str, _Held] = {}
        self._locks = KeyedLocks()  # per tournament: a pass, a load, an asked op take turns
        self._appender = WebhookAppender(queue, self._hold, self._sleep)
        self._sweeper: object = None
        self._tasks: set[asyncio.Future[Any]] = set()
        queue.listen(self)

    # --- life cycle ---

    def start(self) -> None:
        """Tell the queue which tournaments have webhooks (and rows to send), then sweep for
        tournaments nobody holds every `lease.ttl_s`."""
        self._scheduler.call_later(0, self._begin)

    def _begin(self) -> None:
        if not self._closed and self._loading is None:
            self._loading = asyncio.ensure_future(self._seed())

    async def _seed(self) -> None:
        failures = 0
        while not self._closed:
            try:
                webhooks = await self._store.list_webhooks()
                busy = [w.tournament_id for w in webhooks
                        if await self._store.list_deliveries(w.id, limit=1, undelivered=True)]
                await self._shared.known(sorted({w.tournament_id for w in webhooks}), complete=True)
                await self._shared.mark_busy(sorted(set(busy)))
                break
            except StorageError as e:
                failures += 1
                if failures == 1:
                    log.warning("webhooks not announced to the queue (%s): retrying", e)
                await self._sleep(store_wait_s(failures))
        self._appender.announced = True
        if self._sweeper is None:
            await self._sweep()

    async def flush(self) -> None:
        """Return once every event published so far is in the queue."""
        await self._appender.flush()

    async def close(self, write_timeout_s: float = 5.0) -> None:
        """Append what waits and number it (for up to `write_timeout_s`), stop every sender and
        give every lease up (the next holder sends what is left)."""
        self._closed = True
        self._cancel(self._sweeper)
        await self._appender.close(write_timeout_s)
        for tid, held in list(self._held.items()):
            self._stop(tid)
            if held.pump is not None:
                await asyncio.wait({held.pump}, timeout=write_timeout_s)
            try:
                await asyncio.wait_for(self._last_pass(tid, held), write_timeout_s)
            except (StorageError, asyncio.TimeoutError) as e:
                log.warning("webhooks of %s not numbered before the shutdown: %s", tid, e)
            self._forget_all(tid)
            try:
                await self._lease.release(webhook_lease(tid))
            except StorageError as e:
                log.warning("webhook lease of %s not released (it expires): %s", tid, e)
        await stop_tasks(task for task in (self._loading, *self._tasks) if task is not None)
        await super().close(write_timeout_s)

    async def _last_pass(self, tid: str, held: _Held) -> None:
        """Number what is queued and write it to the store (the senders are stopped)."""
        async with self._locks.hold(tid):
            if held.loaded:
                entries = await self._shared.read(tid)
                if entries:
                    await self._number(tid, held, entries)
                await self._drain(tid)

    # --- what the WebhookService tells it ---

    async def add(self, webhook: Webhook) -> None:
        """Append the tournament's events from now on; the holder, if any, loads the webhook."""
        try:
            await self._shared.known([webhook.tournament_id])
            await self._at_holder(webhook.tournament_id, "load", {}, take=False)
        except StorageError as e:  # announced again when the queue's connection comes back
            log.warning("webhook %s not announced to the queue: %s", webhook.id, e)

    def changed(self, webhook: Webhook) -> Webhook:
        """The holder takes the change (a node takes the lease for it when nobody holds it:
        an enabled webhook's waiting rows go out)."""
        args = {"w": webhook.id, "url": webhook.url, "events": list(webhook.events), "enabled": webhook.enabled}
        self._spawn(self._quietly(self._at_holder(webhook.tournament_id, "changed", args, take=True)))
        return webhook

    async def remove(self, webhook: Webhook) -> None:
        """The holder stops delivering to a webhook about to be deleted."""
        try:
            await self._at_holder(webhook.tournament_id, "remove", {"w": webhook.id}, take=False)
        except StorageError as e:
            log.warning("webhook %s not removed from its holder (it stops at the next load): %s", webhook.id, e)

    async def replay(self, webhook: Webhook, from_seq: int) -> int:
        """As on one node, done by the holder. Raises StorageError."""
        return int(await self._at_holder(webhook.tournament_id, "replay", {"w": webhook.id, "from": from_seq},
                                         take=True))

    async def ping(self, webhook: Webhook, data: dict[str, Any]) -> int:
        """Numbered by the holder. Raises StorageUnavailableError, NotFoundError."""
        return int(await self._at_holder(webhook.tournament_id, "ping", {"w": webhook.id, "d": data}, take=True))

    async def _at_holder(self, tid: str, op: str, args: dict[str, Any], *, take: bool) -> Any:
        """Do `op` where the tournament's lease is held: here (taken when free, if `take`), or
        asked of the holder. Without `take`, nothing is done when nobody holds it (the next
        holder reads the store). Raises StorageUnavailableError when the holder does not answer
        within twice the lease's TTL."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2 * self._lease.ttl_s
        while True:
            if self._closed:
                raise StorageUnavailableError("the server is shutting down; retry")
            if take:
                where = await self._shared.take(tid)
            else:
                holder = await self._lease.holder(webhook_lease(tid))
                if holder is None:
                    return None
                where = Placed(holder, True, self._lease.ttl_s)
            if where.holder == self._shared.node:
                self._hold(tid)
                try:
                    return await self._do(tid, op, args)
                except NotHoldingError:
                    continue  # released in between: take it again
            left = deadline - loop.time()
            if left <= 0:
                raise StorageUnavailableError("the node sending this tournament's webhooks does not answer; retry")
            answer = await self._shared.ask(where.holder, tid, op, args, left)
            if answer.status == "done":
                return answer.result
            if answer.status == "failed":
                raise StorageUnavailableError(f"the node sending this tournament's webhooks failed: {answer.error}")
            if answer.status == "gone":
                if not take:
                    return None
                await self._pause(min(max(where.expires_s, 0.01), left))
            # refused: it gave the lease up meanwhile; look again

    async def asked(self, tournament_id: str, op: str, args: dict[str, Any]) -> Answer:
        if self._closed or tournament_id not in self._held:
            return Answer("refused")
        try:
            return Answer("done", await self._do(tournament_id, op, args))
        except NotHoldingError:
            return Answer("refused")
        except StorageError as e:
            return Answer("failed", error=str(e))

    async def _do(self, tid: str, op: str, args: dict[str, Any]) -> Any:
        """An op of the holder, under the tournament's lock. Raises StorageError, NotFoundError."""
        async with self._locks.hold(tid):
            held = self._held.get(tid)
            if held is None:
                raise NotHoldingError()
            if op == "load" and held.loaded:
                await self._load_tournament(tid, held)
                return None
            await self._ensure_loaded(tid, held)
            hook = self._hooks.get(str(args.get("w", "")))
            if op == "load":
                return None
            if op == "remove":
                if hook is not None:
                    self._forget(hook)
                    await stop_tasks(t for t in (hook.sender,) if t is not None)
                return None
            if hook is None:
                raise NotFoundError("webhook", str(args.get("w")))
            if op == "changed":
                hook.webhook = dataclasses.replace(hook.webhook, url=str(args["url"]),
                                                   events=tuple(args["events"]), enabled=bool(args["enabled"]))
                hook.idle = False
                hook.wake.set()
                return None
            if op == "replay":
                return await WebhookOutbox.replay(self, hook.webhook, int(args["from"]))
            if op == "ping":
                row = Delivery(webhook_id=hook.webhook.id, seq=hook.next_seq, stream=tournament_stream(tid),
                               stream_seq=None, type=WEBHOOK_PING, tournament_id=tid, data=dict(args["d"]),
                               ts=self._clock())
                await self._commit(tid, held, [], [row], {})
                await self._drain(tid)
                return row.seq
            raise ValueError(f"unknown webhook op {op!r}")

    # --- the Publisher ---

    def publish(self, event: Event) -> None:
        """Queue the event for its tournament's shared queue, in order. Never blocks or raises."""
        self._appender.publish(event)

    # --- holding ---

    def _hold(self, tid: str) -> None:
        """This node holds the tournament's lease: its pump runs (woken now), and the renewals."""
        if self._closed:
            return  # the lease expires: the next holder takes what is left
        held = self._held.get(tid)
        if held is None:
            held = self._held[tid] = _Held(renewed_at=self._clock())
            held.pump = asyncio.ensure_future(self._pump(tid, held))
            self._tasks.add(held.pump)  # awaited at close
            held.pump.add_done_callback(self._tasks.discard)
            self._renew_later(tid, held)
        held.wake.set()

    def _renew_later(self, tid: str, held: _Held) -> None:
        held.renewal = self._scheduler.call_later(self._lease.ttl_s / 3, lambda: self._renew(tid, held))

    async def _renew(self, tid: str, held: _Held) -> None:
        if self._held.get(tid) is not held:
            return
        try:
            kept = await self._lease.renew(webhook_lease(tid))
            held.renewed_at = self._clock()
        except StorageError as e:
            # unknown: kept until it may have expired (another node may send then), never longer
            kept = self._clock() - held.renewed_at < self._lease.ttl_s
            log.warning("webhook lease of %s not renewed%s: %s", tid, "" if kept else ", its senders stop", e)
        if self._held.get(tid) is not held:
            return
        if kept:
            self._renew_later(tid, held)
            if held.idle_since is not None:
                held.wake.set()  # idle since the last renewal: the pass gives the lease up
        else:
            log.warning("webhook lease of %s lost: another node sends its webhooks", tid)
            self._drop(tid)

    def _drop(self, tid: str) -> None:
        """This node holds the tournament no more: its pump, renewals and senders stop."""
        if self._stop(tid) is not None:
            self._forget_all(tid)

    def _stop(self, tid: str) -> _Held | None:
        """Stop the tournament's pump and renewals (its senders go on)."""
        held = self._held.pop(tid, None)
        if held is not None:
            self._cancel(held.renewal)
            held.wake.set()  # out of the pump's loop even if a library swallowed the cancel
            if held.pump is not None and held.pump is not asyncio.current_task():
                held.pump.cancel()
        return held

    def _forget_all(self, tid: str) -> None:
        """Stop the tournament's senders and forget its webhooks."""
        for hook in self._of_tournament(tid):
            self._forget(hook)
            if hook.sender is not None:  # awaited at close
                self._tasks.add(hook.sender)
                hook.sender.add_done_callback(self._tasks.discard)

    async def _pump(self, tid: str, held: _Held) -> None:
        """One pass whenever woken, for as long as this node holds the tournament."""
        while self._held.get(tid) is held:
            await held.wake.wait()
            held.wake.clear()
            try:
                async with self._locks.hold(tid):
                    if self._held.get(tid) is held:
                        await self._pass(tid, held)
                held.failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:
                held.failures += 1
                if held.failures == 1:
                    if isinstance(e, StorageError):
                        log.warning("webhooks of %s wait: %s", tid, e)
                    else:
                        log.exception("webhooks of %s failed", tid)
                await self._sleep(store_wait_s(held.failures))
                held.wake.set()

    async def _pass(self, tid: str, held: _Held) -> None:
        """Renew, load when needed, number what is queued; idle since a renewal, give the lease up."""
        if not await self._lease.renew(webhook_lease(tid)):
            log.warning("webhook lease of %s lost: another node sends its webhooks", tid)
            self._drop(tid)
            return
        held.renewed_at = self._clock()
        await self._ensure_loaded(tid, held)
        entries = await self._shared.read(tid)
        if entries:
            held.idle_since = None
            await self._number(tid, held, entries)
            await self._drain(tid)
            held.wake.set()  # more may have come: read again (an empty read is the idle check)
        elif not all(hook.idle for hook in self._of_tournament(tid)):
            held.idle_since = None
        elif held.idle_since is None:
            held.idle_since = self._clock()  # kept a while: the next event finds it loaded
        elif not self._closed and self._clock() - held.idle_since >= self._lease.ttl_s / 4:
            if await self._shared.release_if_idle(tid):
                woken = held.wake.is_set()  # this node appended meanwhile, maybe taking the lease again
                self._drop(tid)
                if woken:
                    self._spawn(self._quietly(self._take(tid)))

    async def _ensure_loaded(self, tid: str, held: _Held) -> None:
        if not held.loaded:
            await self._load_tournament(tid, held)

    async def _load_tournament(self, tid: str, held: _Held) -> None:
        """The tournament's webhooks from the store, after the rows numbered before (a holder that
        died numbered them) are written: so each next seq follows the store's last."""
        held.loaded = False
        webhooks = await self._store.list_webhooks(tid)
        ids = {w.id for w in webhooks}
        await self._drain(tid, ids)
        for hook in self._of_tournament(tid):
            if hook.webhook.id not in ids:
                self._forget(hook)
        for webhook in webhooks:
            tail = await self._store.recent_deliveries(webhook.id, limit=1)
            next_seq = tail[0].seq + 1 if tail else 1
            held.since[webhook.id] = tail[0].ts if tail else webhook.created_at
            known = self._hooks.get(webhook.id)
            if known is None:
                hook = self._track(webhook, next_seq=next_seq)
            else:
                hook = known
                hook.webhook, hook.next_seq = webhook, next_seq
            hook.idle = False
            self._start_sender(hook)
        held.cursors = await self._shared.cursors(tid)
        held.loaded = True

    async def _number(self, tid: str, held: _Held, entries: list[QueuedEvent]) -> None:
        """Number the entries for the tournament's webhooks (in `plan`'s order) and commit."""
        steps, moved = plan(entries, held.cursors)
        rows: list[Delivery] = []
        hooks = self._of_tournament(tid)
        next_seq = {hook.webhook.id: hook.next_seq for hook in hooks}
        deleted = False
        for step in steps:
            events = await self._filled(step) if isinstance(step, Fill) else [step]
            fresh = isinstance(step, Fill) and step.fresh
            for event in events:
                if event.type == TOURNAMENT_DELETED:
                    deleted = True  # its webhooks go with its records
                if deleted or event.type in MATCH_ROOM_ONLY:
                    continue
                match = event.stream.startswith("match:")
                for hook in hooks:
                    webhook = hook.webhook
                    if fresh and event.ts <= held.since.get(webhook.id, webhook.created_at):
                        continue  # before this webhook's last row, or before it was made
                    if webhook.enabled and (not webhook.events or event.type in webhook.events):
                        rows.append(Delivery(webhook_id=webhook.id, seq=next_seq[webhook.id], stream=event.stream,
                                             stream_seq=event.seq if match else None, type=event.type,
                                             tournament_id=tid, data=event.data, ts=event.ts))
                        next_seq[webhook.id] += 1
        await self._commit(tid, held, [e.id for e in entries], rows, moved)
        if deleted:
            for hook in hooks:
                self._forget(hook)

    async def _filled(self, fill: Fill) -> list[Event]:
        """The events of a match's log after `fill.after`, to `fill.until`. Raises StorageError."""
        found: list[Event] = []
        after = fill.after
        while after < fill.until:
            page = await self._store.list_events(fill.stream, after, FILL_PAGE, until=fill.until)
            if not page:
                break
            found += page
            after = page[-1].seq
        return found

    async def _commit(self, tid: str, held: _Held, taken: list[str], rows: list[Delivery],
                      moved: dict[str, int]) -> None:
        """Commit a numbering in the queue; then the hooks' next seqs and the cursors follow it.
        Raises StorageError (the outcome unknown: everything is loaded again)."""
        try:
            committed = await self._shared.commit(tid, taken, rows, moved)
        except StorageError:
            held.loaded = False
            raise
        if not committed:
            log.warning("webhook lease of %s lost before its numbering: another node sends its webhooks", tid)
            self._drop(tid)
            raise NotHoldingError()
        for row in rows:
            hook = self._hooks.get(row.webhook_id)
            if hook is not None:
                hook.next_seq = row.seq + 1
        held.cursors.update(moved)

    async def _drain(self, tid: str, webhook_ids: set[str] | None = None) -> None:
        """Write the numbered rows to the store, take them out of the queue, wake their senders.
        Rows of webhooks not in `webhook_ids` (default: those tracked) are dropped: deleted."""
        keep = webhook_ids if webhook_ids is not None else {hook.webhook.id for hook in self._of_tournament(tid)}
        while numbered := await self._shared.numbered(tid):
            rows = [row for _, row in numbered if row.webhook_id in keep]
            if rows:
                await self._store.insert_deliveries(rows)
            await self._shared.stored(tid, [entry_id for entry_id, _ in numbered])
            for webhook_id in {row.webhook_id for _, row in numbered}:
                hook = self._hooks.get(webhook_id)
                if hook is not None:
                    hook.idle = False
                    hook.wake.set()

    def _sender_idle(self, hook: Hook) -> None:
        held = self._held.get(hook.webhook.tournament_id)
        if held is not None:
            held.wake.set()  # maybe every sender is idle: the pass gives the lease up

    # --- the sweep and the messages ---

    async def _sweep(self) -> None:
        """Take the busy tournaments nobody holds (their holder died); again after `lease.ttl_s`."""
        self._sweeper = None
        if self._closed:
            return
        try:
            for tid in await self._shared.orphans():
                if tid not in self._held and (await self._shared.take(tid)).holder == self._shared.node:
                    log.info("webhooks of %s taken over", tid)
                    self._hold(tid)
        except StorageError as e:
            log.debug("webhook sweep: %s", e)
        finally:
            if not self._closed:
                self._sweeper = self._scheduler.call_later(self._lease.ttl_s, self._sweep)

    def events_waiting(self, tournament_id: str) -> None:
        if self._closed:
            return
        if tournament_id in self._held:
            self._hold(tournament_id)
        else:  # released meanwhile: whoever holds it now, or this node again
            self._spawn(self._quietly(self._take(tournament_id)))

    async def _take(self, tid: str) -> None:
        if (await self._shared.take(tid)).holder == self._shared.node:
            self._hold(tid)

    def reconnected(self) -> None:
        for tid, held in list(self._held.items()):
            held.loaded = False  # a webhook added meanwhile may not have reached this node
            self._hold(tid)
        if self._loading is not None and self._loading.done():  # Redis may have restarted empty
            self._loading = asyncio.ensure_future(self._seed())

    # --- helpers ---

    async def _pause(self, delay_s: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._scheduler.call_later(delay_s, lambda: None if done.done() else done.set_result(None))
        await done

    async def _quietly(self, call: Awaitable[Any]) -> None:
        try:
            await call
        except Exception as e:
            log.warning("webhooks: %s", e)

    def _cancel(self, timer: object) -> None:
        if timer is not None:
            self._scheduler.remove_timeout(timer)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
