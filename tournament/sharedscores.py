"""SharedScoreBatcher: with several nodes, a match's live scores are batched by one node, the
holder of the match's score lease, in the order they arrived at the shared queue.

Every node appends the updates it accepts to the match's queue (`ScoreQueue`; realtime/scorequeue.py
keeps it as a Redis stream per match). The append takes the match's lease when nobody holds it,
atomically, and otherwise tells the holder. The holder opens the window at the first update it
learns of, renews the lease just before each flush, reads the queue, merges it as the ScoreBatcher
does (latest wins; one game per batch), writes, and only then removes what it wrote; idle, it
releases the lease. The nodes whose updates were in a batch are told the outcome (their waiters
resolve: REST answers, late failures reach sockets).

Why a queue in the shared store rather than a message to the holder: an update stays there until
a batch holding it is committed, so a holder's death loses nothing. The next holder (a node that
appended, when the lease expires; or the next node to touch the match) writes it. An update is
acked once it is in the queue (MatchService awaits `queued`; an append that fails is an error,
never an ack), so an acked update is lost only if Redis loses its data before it is written.
Written twice (the same scores, one more `score_updated`): a batch whose holder died between its
commit and the removal, or stalled longer than the lease between its renewal and its write.

Final score first: a move on any node flushes the match here (this node's holds), or asks the
holder to flush and waits for its answer, or, when the holder is gone, waits for its lease to
expire and writes the queue itself, before the move is written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol

from tournament import errors
from tournament.leases import Lease
from tournament.locks import KeyedLocks
from tournament.models import Match
from tournament.roles import Principal, Role
from tournament.scheduler import Scheduler
from tournament.scores import BatcherStats, ScoreBatcher, Write
from tournament.store import ConflictError, NotFoundError, StorageError, StorageUnavailableError

log = logging.getLogger(__name__)

Read = Callable[[str], Awaitable[Match]]
Asked = Literal["done", "refused", "gone"]  # a flush asked of the holder: answered, it holds no more, not listening


def score_lease(match_id: str) -> str:
    """The name of a match's score lease."""
    return f"scores:{match_id}"


@dataclasses.dataclass(frozen=True)
class QueuedScore:
    """One accepted update in a match's queue: who accepted it (`origin`, its number `ref` there)."""

    origin: str
    ref: int
    user: Principal
    scores: dict[str, int]
    game: int | None
    id: str = ""  # its place in the queue, once read

    def to_json(self) -> dict[str, Any]:
        u = self.user
        return {"o": self.origin, "r": self.ref, "s": self.scores, "g": self.game,
                "u": [u.user_id, u.name, int(u.role), u.tournament_id, list(u.link) if u.link else None,
                      u.link_ttl_s, u.acts_for]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], entry_id: str = "") -> QueuedScore:
        user_id, name, role, tournament_id, link, link_ttl_s, acts_for = data["u"]
        user = Principal(user_id, name, Role(role), tournament_id, tuple(link) if link else None, link_ttl_s,
                         acts_for)
        return cls(data["o"], int(data["r"]), user, {k: int(v) for k, v in data["s"].items()}, data["g"], entry_id)


@dataclasses.dataclass(frozen=True)
class Appended:
    """Where a match's lease stands after an append or a claim: `holder` (this node's name when it
    holds it), whether the holder heard of the waiting updates, and the lease's time left."""

    holder: str
    heard: bool
    expires_s: float


class QueueListener(Protocol):
    """What the queue tells the batcher of its node (messages from the other nodes)."""

    def scores_waiting(self, match_id: str) -> None:
        """Another node appended to a match whose lease this node held."""

    async def flush_asked(self, match_id: str) -> bool:
        """Another node asks this one to write the match's batch; False: it holds it no more."""

    def reported(self, match_id: str, refs: list[int], error: dict[str, Any] | None) -> None:
        """The holder wrote (or failed to write) this node's updates `refs`."""

    def reconnected(self) -> None:
        """Messages may have been lost meanwhile."""


class ScoreQueue(Protocol):
    """The matches' shared update queues (realtime/scorequeue.py). Every call raises
    StorageUnavailableError when the shared store cannot be reached."""

    @property
    def node(self) -> str: ...

    def listen(self, listener: QueueListener) -> None:
        """Tell `listener` what other nodes send this one (one listener)."""

    async def append(self, match_id: str, update: QueuedScore) -> Appended:
        """Append, taking the match's lease when nobody holds it, or telling its holder."""

    async def claim(self, match_id: str) -> Appended | None:
        """None when nothing waits in the queue; else take the lease when nobody holds it, or
        remind its holder (`heard`)."""

    async def read(self, match_id: str) -> list[QueuedScore]:
        """The queue, oldest first (each with its `id`)."""

    async def remove(self, match_id: str, ids: list[str]) -> None: ...

    async def release_if_idle(self, match_id: str) -> bool:
        """Release the lease when this node holds it and nothing waits; True when released."""

    async def ask_flush(self, holder: str, match_id: str, timeout_s: float) -> Asked:
        """Ask `holder` to write the match's batch and wait for its answer."""

    async def report(self, origin: str, match_id: str, refs: list[int], error: dict[str, Any] | None) -> None:
        """Tell `origin` the outcome of its updates `refs`."""


def describe_error(e: Exception) -> dict[str, Any]:
    """A batch's failure as the nodes whose updates it held are told it."""
    return {"kind": type(e).__name__, "message": str(getattr(e, "message", e)), "code": getattr(e, "code", None),
            "details": getattr(e, "details", None) or {}}


_REMOTE: dict[str, type[Exception]] = {cls.__name__: cls for cls in (
    errors.InvalidTransitionError, errors.ForbiddenError, errors.InvalidValueError, errors.StaleVersionError)}
_STORE: dict[str, type[Exception]] = {cls.__name__: cls for cls in (NotFoundError, ConflictError)}


def rebuild_error(data: Mapping[str, Any]) -> Exception:
    """The error `describe_error` described, as the same domain error (else a store outage)."""
    kind, message = data.get("kind", ""), str(data.get("message", ""))
    if kind in _REMOTE:
        return _REMOTE[kind](message, data.get("code"), **data.get("details", {}))
    return StorageUnavailableError(message or "the batch was not written")


@dataclasses.dataclass
class _Held:
    """A match whose lease this node holds."""

    window: object = None  # the flush timer while a window is open
    renewal: object = None


class SharedScoreBatcher:
    """The Batcher of MatchService with several nodes. `write` is MatchService's score write,
    `read` reads a match (a remote holder's outcome gives the waiters here the match as read
    after its batch was written, at least that version)."""

    def __init__(self, write: Write, read: Read, scheduler: Scheduler, lease: Lease, queue: ScoreQueue,
                 window_s: float = 0.1, ask_timeout_s: float | None = None) -> None:
        self._write = write
        self._read = read
        self._scheduler = scheduler
        self._lease = lease
        self._queue = queue
        self.window_s = window_s
        self._ask_timeout_s = ask_timeout_s if ask_timeout_s is not None else 2 * lease.ttl_s
        self._held: dict[str, _Held] = {}
        self._waiters: dict[str, dict[int, asyncio.Future[Match]]] = {}  # this node's updates, by match and ref
        self._watches: dict[str, object] = {}  # matches whose updates here wait on another node: a check timer
        self._refs = itertools.count(1)
        self._unsent: list[tuple[str, QueuedScore]] = []  # appends in the order accepted
        self._sender: asyncio.Task[None] | None = None
        self._sent = 0  # appends done (or failed), in order
        self._queued = 0
        self._sent_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._locks = KeyedLocks()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._closed = False
        self.stats = BatcherStats()
        # while the shared queue cannot be reached, this node batches what it accepts itself
        self._local = ScoreBatcher(write, scheduler, window_s, self.stats)
        queue.listen(self)

    def __len__(self) -> int:
        return len(self._held) + len(self._unsent) + len(self._local)

    # -- accepting -----------------------------------------------------------------------------

    def submit(self, match_id: str, user: Principal, scores: Mapping[str, int],
               game: int | None = None) -> asyncio.Future[Match]:
        """Queue a checked update for the match's queue (appended in the order submitted); the
        future gives the match once a batch holding it is written. Never raises."""
        waiter: asyncio.Future[Match] = asyncio.get_running_loop().create_future()
        ref = next(self._refs)
        self._waiters.setdefault(match_id, {})[ref] = waiter
        self.stats.submitted += 1
        self._unsent.append((match_id, QueuedScore(self._queue.node, ref, user, dict(scores), game)))
        self._queued += 1
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send())
        return waiter

    async def _send(self) -> None:
        while self._unsent:
            match_id, update = self._unsent[0]  # kept there until appended: _check looks
            try:
                appended = await self._queue.append(match_id, update)
            except StorageError as e:  # batched here meanwhile: scoring goes on without the queue
                self._batch_here(match_id, update, e)
            except Exception:  # a bug: the update fails (a late failure), never silently
                log.exception("score append of %s failed", match_id)
                self._resolve(match_id, [update.ref], StorageUnavailableError("the score was not queued"), None)
            else:
                self._placed(match_id, appended)
            finally:
                self._unsent.pop(0)
            self._sent += 1
            for target, done in list(self._sent_waiters):
                if self._sent >= target and not done.done():
                    done.set_result(None)
            self._sent_waiters = [(t, d) for t, d in self._sent_waiters if not d.done()]

    def _batch_here(self, match_id: str, update: QueuedScore, error: Exception) -> None:
        if not self._local:
            log.warning("score queue unreachable (%s): this node batches the scores it accepts", error)
        self.stats.submitted -= 1  # counted once, here
        written = self._local.submit(match_id, update.user, update.scores, update.game)
        waiters = self._waiters.get(match_id, {})
        waiter = waiters.pop(update.ref, None)
        if not waiters:
            self._waiters.pop(match_id, None)
        if waiter is not None:
            written.add_done_callback(lambda f: _copy(f, waiter))

    async def queued(self) -> None:
        await self._appended()

    async def _appended(self) -> None:
        """Return once every update submitted so far was appended (or failed)."""
        if self._sent >= self._queued:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent_waiters.append((self._queued, done))
        await done

    def _placed(self, match_id: str, where: Appended) -> None:
        """Act on where the lease stands: hold it (a window), or watch the holder."""
        if where.holder == self._queue.node:
            self._hold(match_id)
        elif self._waiters.get(match_id):
            self._watch(match_id, self._lease.ttl_s if where.heard else where.expires_s)

    # -- holding -------------------------------------------------------------------------------

    def _hold(self, match_id: str, at_once: bool = False) -> None:
        """This node holds the match's lease: a window open (unless one is) and the renewals."""
        held = self._held.get(match_id)
        if held is None:
            held = self._held[match_id] = _Held()
            self._renew_later(match_id, held)
        if held.window is None:
            held.window = self._scheduler.call_later(0 if at_once else self.window_s,
                                                     lambda: self._window_ended(match_id))

    def _renew_later(self, match_id: str, held: _Held) -> None:
        held.renewal = self._scheduler.call_later(self._lease.ttl_s / 3, lambda: self._renew(match_id, held))

    async def _renew(self, match_id: str, held: _Held) -> None:
        if self._held.get(match_id) is not held:
            return
        try:
            kept = await self._lease.renew(score_lease(match_id))
        except StorageError as e:
            log.warning("score lease of %s not renewed: %s", match_id, e)
            kept = True  # unknown: the flush renews again before it writes
        if self._held.get(match_id) is not held:
            return
        if kept:
            self._renew_later(match_id, held)
        else:
            log.warning("score lease of %s lost: another node batches it", match_id)
            self._drop(match_id)

    def _drop(self, match_id: str) -> None:
        held = self._held.pop(match_id, None)
        if held is not None:
            self._cancel(held.window)
            self._cancel(held.renewal)

    async def _window_ended(self, match_id: str) -> None:
        await self._flush_held(match_id)

    async def _flush_held(self, match_id: str) -> bool:
        """Write the match's queue if this node holds its lease (True), then release it when
        idle. Never raises."""
        async with self._locks.hold(match_id):
            held = self._held.get(match_id)
            if held is None:
                return False
            self._cancel(held.window)
            held.window = None
            try:
                if not await self._lease.renew(score_lease(match_id)):
                    self._drop(match_id)
                    return False
                entries = await self._queue.read(match_id)
            except StorageError as e:
                log.warning("score queue of %s not read: %s", match_id, e)
                self._hold(match_id)  # another window: the queue keeps the updates
                return True
            await self._write_runs(match_id, entries)
            try:
                if entries:
                    await self._queue.remove(match_id, [e.id for e in entries])
                if await self._queue.release_if_idle(match_id):
                    self._drop(match_id)
                    return True
            except StorageError as e:
                log.warning("score queue of %s not trimmed: %s", match_id, e)
            if match_id in self._held:
                self._hold(match_id)  # updates came meanwhile (their window), or the trim is due again
            return True

    async def _write_runs(self, match_id: str, entries: list[QueuedScore]) -> None:
        """Write the entries as batches: consecutive updates of one game merged, latest wins."""
        runs: list[list[QueuedScore]] = []
        for entry in entries:
            if runs and runs[-1][-1].game == entry.game:
                runs[-1].append(entry)
            else:
                runs.append([entry])
        for run in runs:
            scores: dict[str, int] = {}
            for entry in run:
                scores.update(entry.scores)
            self.stats.flushes += 1
            self.stats.coalesced += len(run) - 1
            match: Match | None = None
            error: Exception | None = None
            try:
                match = await self._write(match_id, run[-1].user, scores, run[-1].game)
            except Exception as e:
                self.stats.failures += 1
                log.warning("score flush of %s failed: %s", match_id, e)
                error = e
            by_origin: dict[str, list[int]] = {}
            for entry in run:
                by_origin.setdefault(entry.origin, []).append(entry.ref)
            for origin, refs in by_origin.items():
                if origin == self._queue.node:
                    self._resolve(match_id, refs, error, match)
                else:
                    self._spawn(self._report(origin, match_id, refs, error))

    async def _report(self, origin: str, match_id: str, refs: list[int], error: Exception | None) -> None:
        try:
            await self._queue.report(origin, match_id, refs, describe_error(error) if error else None)
        except StorageError as e:
            log.warning("score outcome of %s not told to %s: %s", match_id, origin, e)

    # -- outcomes ------------------------------------------------------------------------------

    def _resolve(self, match_id: str, refs: list[int], error: Exception | None, match: Match | None) -> None:
        waiters = self._waiters.get(match_id, {})
        for ref in refs:
            waiter = waiters.pop(ref, None)
            if waiter is None or waiter.done():
                continue
            if error is not None:
                waiter.set_exception(error)
                waiter.add_done_callback(_retrieve)  # nobody may be waiting any more
            elif match is not None:
                waiter.set_result(match)
        if not waiters:
            self._waiters.pop(match_id, None)
            self._cancel(self._watches.pop(match_id, None))

    def reported(self, match_id: str, refs: list[int], error: dict[str, Any] | None) -> None:
        if error is not None:
            self._resolve(match_id, refs, rebuild_error(error), None)
        else:
            self._spawn(self._resolve_read(match_id, refs))

    async def _resolve_read(self, match_id: str, refs: list[int]) -> None:
        try:
            match = await self._read(match_id)
        except Exception as e:
            self._resolve(match_id, refs, e, None)
            return
        self._resolve(match_id, refs, None, match)

    def _watch(self, match_id: str, delay_s: float) -> None:
        """Check on the holder after `delay_s` while updates of this node wait on it."""
        if match_id not in self._watches and not self._closed:
            self._watches[match_id] = self._scheduler.call_later(max(delay_s, 0.0), lambda: self._check(match_id))

    async def _check(self, match_id: str) -> None:
        """Updates of this node still wait: take the lease when its holder is gone (and write them)."""
        self._watches.pop(match_id, None)
        if self._closed or not self._waiters.get(match_id):
            return
        try:
            where = await self._queue.claim(match_id)
        except StorageError:
            self._watch(match_id, self._lease.ttl_s)
            return
        if where is None:  # the queue is empty: those appended were written, their outcome never came
            unsent = {update.ref for m, update in self._unsent if m == match_id}
            self._spawn(self._resolve_read(match_id, [r for r in self._waiters.get(match_id, {}) if r not in unsent]))
        elif where.holder == self._queue.node:
            self._hold(match_id, at_once=True)
        else:
            self._watch(match_id, self._lease.ttl_s if where.heard else where.expires_s)

    # -- what the other nodes say --------------------------------------------------------------

    def scores_waiting(self, match_id: str) -> None:
        if self._closed:
            return
        if match_id in self._held:
            self._hold(match_id)
        else:  # released meanwhile: whoever holds it now, or this node again
            self._spawn(self._check_waiting(match_id))

    async def _check_waiting(self, match_id: str) -> None:
        try:
            where = await self._queue.claim(match_id)
        except StorageError:
            return  # the appender watches its updates
        if where is not None and where.holder == self._queue.node:
            self._hold(match_id)

    async def flush_asked(self, match_id: str) -> bool:
        if self._closed or match_id not in self._held:
            return False
        return await self._flush_held(match_id)

    def reconnected(self) -> None:
        for match_id in list(self._held):  # a notification may have been missed: look again soon
            self._hold(match_id)
        for match_id in list(self._waiters):
            self._watch(match_id, 0)

    # -- flushing ------------------------------------------------------------------------------

    async def flush(self, match_id: str) -> None:
        """Have the match's queue written, wherever it is batched, before the caller's move:
        this node's own appends first, then here, or by the holder (asked), or here once a gone
        holder's lease expired. Raises StorageUnavailableError when that cannot be done within
        the ask timeout (the move is refused; nothing is written)."""
        await self._appended()
        await self._local.flush(match_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._ask_timeout_s
        while True:
            if match_id in self._held and await self._flush_held(match_id):
                return
            try:
                where = await self._queue.claim(match_id)
            except StorageUnavailableError:
                return  # no queue to look at: the move goes on (docs/architecture.md, "many nodes")
            if where is None:
                return
            if where.holder == self._queue.node:
                self._hold(match_id, at_once=True)
                continue
            left = deadline - loop.time()
            if left <= 0:
                raise StorageUnavailableError("the node batching this match's scores does not answer; retry")
            asked = await self._queue.ask_flush(where.holder, match_id, left)
            if asked == "done":
                return
            if asked == "gone":  # its lease runs out by itself: then it is this node's to take
                await self._pause(min(max(where.expires_s, 0.001), max(left, 0.001)))

    async def _pause(self, delay_s: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._scheduler.call_later(delay_s, lambda: None if done.done() else done.set_result(None))
        await done

    async def flush_all(self) -> None:
        """Write every batch this node holds and give its leases up (shutdown). Never raises."""
        try:
            await asyncio.wait_for(self._appended(), 5.0)
        except asyncio.TimeoutError:
            log.warning("%d live scores were not queued before the shutdown", len(self._unsent))
        await self._local.flush_all()
        for match_id in list(self._held):
            await self._flush_held(match_id)
        self._closed = True
        for match_id in list(self._held):  # updates came during the last flush: the next holder writes them
            self._drop(match_id)
            try:
                await self._lease.release(score_lease(match_id))
            except StorageError as e:
                log.warning("score lease of %s not released (it expires): %s", match_id, e)
        for timer in self._watches.values():
            self._cancel(timer)
        self._watches.clear()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2.0)

    def _cancel(self, timer: object) -> None:
        if timer is not None:  # Tornado's remove_timeout takes only a timer
            self._scheduler.remove_timeout(timer)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _copy(source: asyncio.Future[Match], target: asyncio.Future[Match]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (error := source.exception()) is not None:
        target.set_exception(error)
        target.add_done_callback(_retrieve)
    else:
        target.set_result(source.result())


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
