"""ScoreBatcher: live score updates coalesced per match, latest wins, within a bounded window.

Every match's batches share one window (`Scheduler.call_later`): the first update after a
window ended opens the next, later updates (of any match) join it without moving the timer,
so a steady stream still flushes once per window and no update waits longer than the window.
When it ends, each match's merged scores go to the `write` the batcher was built with
(MatchService's score write, which numbers and publishes the `score_updated` event), all at
once; once every one is written, `written` is called. That is when a tournament room's
`scores_updated` goes out (server.py wires it to the hub): right after the window's scores,
not up to a second window later, as a timer of its own would send it.

In a series a batch holds one game's scores: an update for another game sends the waiting
batch to be written at once and opens its own. A match's writes are made one after another,
in order. MatchService flushes a match before any other move of it (waiting for a write of
it under way too), so clients always see the final score before the completion, and flushes
every batch at shutdown.
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
                 stats: BatcherStats | None = None, written: Callable[[], None] | None = None) -> None:
        self._write = write
        self._scheduler = scheduler
        self.window_s = window_s
        self._written = written  # after a window's batches are written
        self._pending: dict[str, _Batch] = {}
        self._window: object = None  # the open window's timer
        self._writing: dict[str, asyncio.Future[None]] = {}  # match id -> its latest write under way
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
            self._start_write(match_id, batch)
            batch = None
        if batch is None:
            self._pending[match_id] = _Batch(user, dict(scores), [waiter], game)
            if self._window is None:
                self._window = self._scheduler.call_later(self.window_s, self._window_ended)
        else:
            self.stats.coalesced += 1
            batch.scores.update(scores)
            batch.user = user
            batch.waiters.append(waiter)
        return waiter

    async def queued(self) -> None:
        """At once: this process's batches are the ones here."""

    async def _window_ended(self) -> None:
        self._window = None
        batches, self._pending = self._pending, {}
        writes = [self._start_write(match_id, batch) for match_id, batch in batches.items()]
        if writes:
            await asyncio.gather(*writes)  # never raises: _write_batch sets failures on the waiters
            if self._written is not None:
                self._written()

    def _start_write(self, match_id: str, batch: _Batch) -> asyncio.Future[None]:
        """Write the batch after the match's write under way, if any."""
        before = self._writing.get(match_id)
        task = asyncio.ensure_future(self._write_after(before, match_id, batch))
        self._writing[match_id] = task
        task.add_done_callback(lambda done: self._written_one(match_id, done))
        return task

    def _written_one(self, match_id: str, task: asyncio.Future[None]) -> None:
        if self._writing.get(match_id) is task:
            del self._writing[match_id]

    async def _write_after(self, before: asyncio.Future[None] | None, match_id: str, batch: _Batch) -> None:
        if before is not None:
            await before  # never raises: _write_batch sets failures on the waiters
        await self._write_batch(match_id, batch)

    async def flush(self, match_id: str) -> None:
        """Write the match's waiting scores now, if any, and return once every write of the
        match under way is done. Never raises."""
        batch = self._pending.pop(match_id, None)
        if batch is not None:
            self._start_write(match_id, batch)
            if not self._pending and self._window is not None:
                self._scheduler.remove_timeout(self._window)
                self._window = None
        writing = self._writing.get(match_id)
        if writing is not None:
            await writing

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
        for writing in list(self._writing.values()):
            await writing


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
