"""BrokerPublisher: the broker's publishing side, this node's committed events into Redis in order.

MongoDB stays the sequencer: a match's events are numbered by its commit (tournament/writer.py).
`publish` queues each event; one sender runs the publish script (realtime/brokerscripts.py) a
pipeline at a time: a match event goes into its room's stream only as the stream's next seq (a
duplicate after a retry changes nothing; a gap is refused, and the missing events are published
from the MongoDB log first), its tournament copy numbered in the same call. While Redis is away,
events queue in order (bounded); past the bound a match's events are published from its log
later, and a tournament room is given a new epoch (its members' fresh snapshot says so).
Apart from the subscriber because it only writes: this node's own frames come back to it through
the subscriber, as every other node's do.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import secrets
from typing import Any

from redis.exceptions import NoScriptError, RedisError

from realtime.brokerlink import RETRY_FIRST_S, RETRY_MAX_S, BrokerLink
from realtime.brokerscripts import PUBLISH_LUA, Job, channel_of, meta_key, stream_key
from realtime.hub import match_room, rooms_of
from tournament.models import Event
from tournament.store import StorageError

log = logging.getLogger(__name__)

QUEUE_MAX = 10_000  # events waiting for Redis; past it matches catch up from their log
BATCH = 64  # scripts sent in one pipeline


class BrokerPublisher:
    """The queue and its sender. `send()` runs until cancelled; `flush()` publishes what waits."""

    def __init__(self, link: BrokerLink, *, history_frames: int = 512, queue_max: int = QUEUE_MAX) -> None:
        self._link = link
        self._maxlen = history_frames
        self._queue_max = queue_max
        self._queue: collections.deque[Job] = collections.deque()
        self._lagging: dict[str, tuple[int, int]] = {}  # match id -> (first, last) seq to publish from its log
        self._lost: set[str] = set()  # tournament rooms whose events did not fit: a new epoch is due
        self._numbers = itertools.count(1)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()

    async def flush(self, drain_s: float = 2.0) -> None:
        """Publish what waits, for up to `drain_s` while Redis answers (at shutdown; the sender
        must be running)."""
        if self._queue or self._lagging or self._lost:
            self._idle.clear()
            self._wake.set()
            try:
                await asyncio.wait_for(self._idle.wait(), drain_s)
            except asyncio.TimeoutError:
                log.warning("broker: %d events were not published before the shutdown", len(self._queue))

    def wake(self) -> None:
        """Look at the queue again (the subscription is back)."""
        self._wake.set()

    def publish(self, event: Event) -> None:
        """Queue a committed event for Redis, in order. Never blocks or raises."""
        try:
            match_key, tournament_key = rooms_of(event)
            if match_key is not None:
                match_id = match_key.partition(":")[2]
                if match_id in self._lagging or len(self._queue) >= self._queue_max:
                    self.lag(match_id, event.seq, event.seq)  # its log has it
                    return
            elif tournament_key is not None:
                if tournament_key in self._lost:
                    return  # a new epoch is due: its members' fresh snapshot shows this
                if len(self._queue) >= self._queue_max:
                    log.warning("broker: %s's events do not fit the queue: it will be renumbered",
                                tournament_key)
                    self._lost.add(tournament_key)
                    self._wake.set()
                    return
            job = Job.of(event, next(self._numbers))
            if job is not None:
                self._queue.append(job)
                self._wake.set()
        except Exception:
            log.exception("broker: could not queue %s %s", event.stream, event.type)

    def lag(self, match_id: str, first: int, last: int) -> None:
        """Publish `match_id`'s events from `first` to `last` (at least) from its log."""
        was = self._lagging.get(match_id)
        self._lagging[match_id] = (min(first, was[0]), max(last, was[1])) if was else (first, last)
        self._wake.set()

    async def send(self) -> None:
        """The queue, in order, a pipeline at a time; then the lagging matches and lost rooms."""
        delay = RETRY_FIRST_S
        while True:
            if not (self._queue or self._lagging or self._lost):
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._link.connected.wait()
            try:
                if self._lost:
                    await self._renew(next(iter(self._lost)))
                elif self._queue:
                    await self._send_batch()
                elif self._lagging:
                    await self._fill_lagging(*next(iter(self._lagging.items())))
                delay = RETRY_FIRST_S
            except (RedisError, OSError, StorageError) as e:  # the subscriber reconnects; the store comes back
                log.debug("broker: publishing waits %.1f s: %s", delay, e)
                await asyncio.sleep(delay)
                delay = min(2 * delay, RETRY_MAX_S)
            except Exception:  # a bug: said once per failure, and publishing goes on
                log.exception("broker: publishing failed")
                await asyncio.sleep(RETRY_MAX_S)

    def _publish_call(self, job: Job) -> tuple[list[str], list[str | int]]:
        keys: list[str] = []
        if job.match_id is not None:
            keys.append(stream_key(match_room(job.match_id)))
        if job.tournament is not None:
            keys += [stream_key(job.tournament), meta_key(job.tournament)]
        match_channel = channel_of(match_room(job.match_id)) if job.match_id is not None else ""
        args: list[str | int] = [
            self._maxlen, self._link.ttl_s, str(job.seq) if job.match_id is not None else "", job.frame,
            match_channel, job.head, job.tail, channel_of(job.tournament) if job.tournament else "",
            secrets.token_hex(4), self._link.run_id, self._link.node, job.number]
        return keys, args

    async def _run_scripts(self, jobs: list[Job]) -> list[Any]:
        """One EVALSHA per job in one pipeline; loaded once more if Redis forgot the script."""
        script = self._link.scripts["publish"]
        for _ in range(2):
            pipe = self._link.redis.pipeline(transaction=False)
            for job in jobs:
                keys, args = self._publish_call(job)
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in results):
                return results
            await self._link.redis.script_load(PUBLISH_LUA)  # a restarted Redis: every job again (idempotent)
        raise RedisError("the publish script could not be loaded")

    async def _send_batch(self) -> None:
        jobs = [job for job in itertools.islice(self._queue, BATCH)]
        results = await self._run_scripts(jobs)
        for job, result in zip(jobs, results):
            self._queue.popleft()
            if isinstance(result, Exception):  # a bug, not an outage: say so and go on
                log.error("broker: the publish script failed on %s: %s", job.match_id or job.tournament, result)
                continue
            self._count(job, result)

    def _count(self, job: Job, result: list[int]) -> int:
        """The script's answer (1 written, 0 a duplicate, -1 a gap), a gap sent to the log."""
        status, top = int(result[0]), int(result[1])
        stats = self._link.stats
        if status == 1:
            stats.published += 1
        elif status == 0:
            stats.refused_duplicates += 1
        else:  # another node's event went first: the ones in between come from the log
            stats.refused_gaps += 1
            assert job.match_id is not None
            self.lag(job.match_id, top + 1, job.seq)
        return status

    async def _fill_lagging(self, match_id: str, span: tuple[int, int]) -> None:
        """Publish a match's committed events after the stream's top (or after `first` - 1
        without a stream), from its log, up to at least `last`."""
        first, last = span
        _, top, _ = await self._link.read(match_room(match_id), 0, 0, 0)
        after = top if top >= 0 else first - 1
        events = await self._link.log(match_id, after, BATCH)
        gapped = False
        if events:
            jobs = [job for job in (Job.of(e, 0) for e in events) if job is not None]
            for job, result in zip(jobs, await self._run_scripts(jobs)):
                status = self._count(job, result) if not isinstance(result, Exception) else 0
                self._link.stats.republished += status == 1
                gapped = gapped or status == -1
            after = events[-1].seq
        if not events or (after >= self._lagging[match_id][1] and not gapped):
            del self._lagging[match_id]  # done (or the match is gone); later events queue again

    async def _renew(self, key: str) -> None:
        await self._link.scripts["renew"](keys=[stream_key(key), meta_key(key)],
                                          args=[secrets.token_hex(4), self._link.run_id, self._link.ttl_s,
                                                channel_of(key)])
        self._lost.discard(key)
