"""WebhookAppender: this node's committed events, appended to their tournament's shared webhook
queue (tournament/webhookqueue.py) in the order they were published, never awaited by a write.

While the queue cannot be reached the events wait here, in order (bounded, as the one-node
outbox's early events); an append that lands where this node holds the tournament's lease says
so (`held`), so the node's outbox starts numbering at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable

from tournament.events import MATCH_ROOM_ONLY
from tournament.models import Event
from tournament.outbox import EARLY_EVENTS_MAX, store_wait_s
from tournament.store import StorageError
from tournament.tasks import stop_tasks
from tournament.webhookqueue import QueuedEvent, WebhookQueue

log = logging.getLogger(__name__)

BATCH = 64  # appends sent in one round trip


class WebhookAppender:
    """Appends to `queue`; `held(tournament_id)` when the append found this node the holder.
    `announced` (set once the node told the queue which tournaments have webhooks): until then
    every tournament's events are appended (the holder drops those no webhook wants)."""

    def __init__(self, queue: WebhookQueue, held: Callable[[str], None],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, limit: int = EARLY_EVENTS_MAX) -> None:
        self._queue = queue
        self._held = held
        self._sleep = sleep
        self._limit = limit
        self._unsent: list[QueuedEvent] = []
        self._task: asyncio.Task[None] | None = None
        self._numbers = itertools.count(1)
        self.announced = False
        self.closed = False

    def __len__(self) -> int:
        return len(self._unsent)

    def publish(self, event: Event) -> None:
        """Queue the event for its tournament's shared queue, in order. Never blocks or raises."""
        try:
            tournament_id = event.data.get("tournament_id")
            if self.closed or not isinstance(tournament_id, str):
                return
            match = event.stream.startswith("match:")
            if event.type in MATCH_ROOM_ONLY and not match:
                return
            data = {} if event.type in MATCH_ROOM_ONLY else event.data  # a chat only moves its match's cursor
            if len(self._unsent) >= self._limit:
                log.warning("webhooks: the queue does not answer and %d events wait: %s %s dropped",
                            len(self._unsent), event.stream, event.type)
                return
            self._unsent.append(QueuedEvent(self._queue.node, tournament_id, event.stream,
                                            event.seq if match else 0, event.type, data, event.ts,
                                            next(self._numbers)))
            if self._task is None or self._task.done():
                self._task = asyncio.ensure_future(self._append_all())
        except Exception:
            log.exception("webhooks could not take %s %s", event.stream, event.type)

    async def flush(self, timeout_s: float | None = None) -> None:
        """Return once every event published so far is appended (or `timeout_s` passed)."""
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task}, timeout=timeout_s)

    async def close(self, timeout_s: float) -> None:
        """Append what waits (for up to `timeout_s`), then stop."""
        self.closed = True
        await self.flush(timeout_s)
        if self._unsent:
            log.warning("%d events not queued for webhooks: the broker did not answer", len(self._unsent))
        if self._task is not None:
            await stop_tasks([self._task])

    async def _append_all(self) -> None:
        """Append the waiting events in order, a batch a round trip; while the queue is
        unreachable they wait (a batch sent again is appended once: each entry's number)."""
        failures = 0
        while self._unsent:
            batch = self._unsent[:BATCH]
            try:
                placed = await self._queue.append(batch, force=not self.announced)
            except StorageError as e:
                failures += 1
                if failures == 1:
                    log.warning("webhook events not queued (%s): retrying", e)
                await self._sleep(store_wait_s(failures))
                continue
            failures = 0
            del self._unsent[:len(batch)]
            held = {entry.tournament_id for entry, where in zip(batch, placed)
                    if where is not None and where.holder == self._queue.node}
            for tournament_id in held:
                if not self.closed:
                    self._held(tournament_id)
            # not heard: the holder is gone, and the sweep takes its tournament once its lease expired
