"""ScoreBatcher: live score updates coalesced per match, latest wins, within a bounded window.

The first update of a match opens a window (`Scheduler.call_later`); later updates merge into
it without moving the timer, so a steady stream still flushes once per window. A flush hands
the merged scores to the `write` it was built with (MatchService's score write, which numbers
and publishes the `score_updated` event). In a series a batch holds one game's scores: an
update for another game sends the waiting batch to be written at once and opens its own. MatchService flushes a match before any other move
of it, so clients always see the final score before the completion, and flushes every batch
at shutdown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from tournament.models import Match
from tournament.roles import Principal
from tournament.scheduler import Scheduler

log = logging.getLogger(__name__)

Write = Callable[[str, Principal, Mapping[str, int], int | None], Awaitable[Match]]


@dataclasses.dataclass
class _Batch:
    user: Principal
    scores: dict[str, int]
    waiters: list[asyncio.Future[Match]]
    game: int | None = None  # the game of a series the scores are for
    timer: object = None


@dataclasses.dataclass
class BatcherStats:
    submitted: int = 0
    coalesced: int = 0  # updates merged into a batch that was already waiting
    flushes: int = 0
    failures: int = 0


class Batcher(Protocol):
    """What MatchService asks of a batcher: the ScoreBatcher below (one process), or with several
    nodes the SharedScoreBatcher (tournament/sharedscores.py: the match's lease holder batches)."""

    stats: BatcherStats

    def __len__(self) -> int:
        """The matches with scores waiting here."""

    def submit(self, match_id: str, user: Principal, scores: Mapping[str, int],
               game: int | None = None) -> asyncio.Future[Match]:
        """Take a checked update; the future gives the match once written (or the write's error)."""

    async def queued(self) -> None:
        """Return once every update submitted so far is kept where its batch is built (an
        update's ack waits for this). Never raises: a failure is set on the update's future."""

    async def flush(self, match_id: str) -> None:
        """Write the match's waiting scores now."""

    async def flush_all(self) -> None:
        """Write every waiting batch (shutdown). Never raises."""


class ScoreBatcher:
    def __init__(self, write: Write, scheduler: Scheduler, window_s: float = 0.1,
                 stats: BatcherStats | None = None) -> None:
        self._write = write
        self._scheduler = scheduler
        self.window_s = window_s
        self._pending: dict[str, _Batch] = {}
        self.stats = stats if stats is not None else BatcherStats()  # shared with a SharedScoreBatcher's

    def pending(self, match_id: str) -> dict[str, int] | None:
        batch = self._pending.get(match_id)
        return dict(batch.scores) if batch else None

    def __len__(self) -> int:
        return len(self._pending)

    def submit(self, match_id: str, user: Principal, scores: Mapping[str, int],
               game: int | None = None) -> asyncio.Future[Match]:
        """Merge an update (already checked) into its match's batch; the future gives the match
        written. A failure of the later write is set on the future (and logged), never raised
        into the IOLoop."""
        waiter: asyncio.Future[Match] = asyncio.get_running_loop().create_future()
        batch = self._pending.get(match_id)
        self.stats.submitted += 1
        if batch is not None and batch.game != game:  # another game's: written now, in order
            del self._pending[match_id]
            self._scheduler.remove_timeout(batch.timer)
            stale = batch
            self._scheduler.call_later(0, lambda: self._write_batch(match_id, stale))
            batch = None
        if batch is None:
            batch = self._pending[match_id] = _Batch(user, dict(scores), [waiter], game)
            batch.timer = self._scheduler.call_later(self.window_s, lambda: self.flush(match_id))
        else:
            self.stats.coalesced += 1
            batch.scores.update(scores)
            batch.user = user
            batch.waiters.append(waiter)
        return waiter

    async def queued(self) -> None:
        """At once: this process's batches are the ones here."""

    async def flush(self, match_id: str) -> None:
        """Write the match's waiting scores now, if any. Never raises."""
        batch = self._pending.pop(match_id, None)
        if batch is None:
            return
        self._scheduler.remove_timeout(batch.timer)
        await self._write_batch(match_id, batch)

    async def _write_batch(self, match_id: str, batch: _Batch) -> None:
        self.stats.flushes += 1
        try:
            match = await self._write(match_id, batch.user, batch.scores, batch.game)
        except Exception as e:
            self.stats.failures += 1
            log.warning("score flush of %s failed: %s", match_id, e)
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_exception(e)
                    waiter.add_done_callback(_retrieve)  # nobody may be waiting any more
            return
        for waiter in batch.waiters:
            if not waiter.done():
                waiter.set_result(match)

    async def flush_all(self) -> None:
        """Write every waiting batch (shutdown)."""
        for match_id in list(self._pending):
            await self.flush(match_id)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
