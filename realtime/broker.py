"""RedisBroker: the rooms of many livebracket nodes carried through one Redis, in one order.

MongoDB stays the sequencer: a match's events are numbered by its commit (tournament/writer.py).
Publishing runs one Lua script, atomically: a match event goes into its room's stream (entry id
`<seq>-0`, trimmed to about `history_frames`, expiring `ttl_s` after the room's last event) only
if its seq is the stream's top + 1 (a duplicate after a retry changes nothing; a gap is refused,
and this node publishes the missing events from the MongoDB log first), then is PUBLISHed; its
copy for the tournament room takes the tournament's next seq in the same call. A tournament
room's seq and epoch live in a Redis hash, so a node's restart changes neither; they are made
again (a new epoch) when Redis lost them or restarted (its run id).

Every node subscribes to the rooms it has members in. A frame goes to the hub's local fan-out
when its seq is the next one; a duplicate is dropped; a gap is filled from the stream, else
(trimmed, expired) from the MongoDB log for a match room, while a tournament room is renumbered:
its members take a fresh snapshot (recovered: false), never a partial catch-up. After a lost
connection every room catches up the same way before it delivers a live frame again. While Redis
is away, events queue in order (bounded); past the bound a match's events are published from its
log later, and a tournament room is given a new epoch (its members' fresh snapshot says so).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import logging
import secrets
import urllib.parse
from collections.abc import Coroutine
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from realtime import protocol
from realtime.frames import Frame
from realtime.hub import Hub, match_room, rooms_of
from tournament.models import Event, match_stream
from tournament.store import NotFoundError, StorageError, StorageUnavailableError, Store

log = logging.getLogger(__name__)

TTL_S = 24 * 3600  # a room's stream and numbering outlive its last event by a tournament day
QUEUE_MAX = 10_000  # events waiting for Redis; past it matches catch up from their log
BACKLOG_MAX = 10_000  # frames of one room held while it catches up; past it, read again from the stream
REPLAY_LIMIT = 1000  # frames read at a time; a match room further behind renumbers (fresh snapshots)
BATCH = 64  # scripts sent in one pipeline
CATCH_UP_S = 1.0  # how long a committed seq may stay unseen before it is fetched and published again
PING_INTERVAL_S = 5.0  # the subscription is pinged when idle this long; silent for 3, it is lost
START_TIMEOUT_S = 5.0
ATTACH_TIMEOUT_S = 2.0  # a socket waits this long for a room this node does not carry yet
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 5.0

_TOP = """
local function top(stream)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  if last then return tonumber(string.match(last[1], '^%d+')) end
  return -1
end
local function numbering(stream, meta, candidate, run, ttl)
  local epoch, seen, seq = unpack(redis.call('HMGET', meta, 'epoch', 'run', 'seq'))
  if not epoch or seen ~= run then
    redis.call('DEL', stream, meta)
    epoch, seq = candidate, 0
    redis.call('HSET', meta, 'epoch', epoch, 'run', run, 'seq', 0)
  end
  redis.call('EXPIRE', meta, ttl)
  return epoch, tonumber(seq)
end
"""

# KEYS: the match room's stream (when ARGV[3] is not ''), then the tournament room's stream and
# hash (when ARGV[6] is not ''). ARGV: 1 maxlen, 2 ttl, 3 match seq, 4 match frame, 5 match
# channel, 6 and 7 the tournament frame before and after its seq, 8 tournament channel, 9 an
# epoch for a new numbering, 10 Redis's run id, 11 this node, 12 its number for this job.
# Returns {1, tournament seq or 0}; {0, top}: a duplicate; {-1, top}: a gap (nothing written).
PUBLISH_LUA = _TOP + """
local maxlen, ttl, k = ARGV[1], ARGV[2], 1
if ARGV[3] ~= '' then
  local stream, seq = KEYS[1], tonumber(ARGV[3])
  local t = top(stream)
  if t >= 0 and seq <= t then return {0, t} end
  if t >= 0 and seq > t + 1 then return {-1, t} end
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, ARGV[3] .. '-0', 'f', ARGV[4])
  redis.call('EXPIRE', stream, ttl)
  redis.call('PUBLISH', ARGV[5], ARGV[3] .. ' ' .. ARGV[4])
  k = 2
end
if ARGV[6] == '' then return {1, 0} end
local stream, meta = KEYS[k], KEYS[k + 1]
local epoch = numbering(stream, meta, ARGV[9], ARGV[10], ttl)
if ARGV[3] == '' then
  local field = 'n:' .. ARGV[11]
  if tonumber(redis.call('HGET', meta, field) or '0') >= tonumber(ARGV[12]) then return {0, 0} end
  redis.call('HSET', meta, field, ARGV[12])
end
local seq = string.format('%d', redis.call('HINCRBY', meta, 'seq', 1))
local frame = ARGV[6] .. seq .. ARGV[7]
redis.call('XADD', stream, 'MAXLEN', '~', maxlen, seq .. '-0', 'f', frame)
redis.call('EXPIRE', stream, ttl)
redis.call('PUBLISH', ARGV[8], seq .. ' ' .. epoch .. ' ' .. frame)
return {1, tonumber(seq)}
"""

# KEYS: a room's stream, and a tournament room's hash. ARGV: 1 the first seq wanted, 2 the last
# (0: no end), 3 how many at most, 4 an epoch for a new numbering, 5 the run id, 6 ttl.
# Returns {epoch ('' for a match room), top (-1: no stream), entries}.
READ_LUA = _TOP + """
local stream, epoch, last = KEYS[1], '', -1
if KEYS[2] then
  epoch, last = numbering(stream, KEYS[2], ARGV[4], ARGV[5], ARGV[6])
else
  last = top(stream)
end
local entries = {}
if tonumber(ARGV[3]) > 0 and last >= tonumber(ARGV[1]) then
  local upto = '+'
  if ARGV[2] ~= '0' then upto = ARGV[2] .. '-0' end
  entries = redis.call('XRANGE', stream, ARGV[1] .. '-0', upto, 'COUNT', ARGV[3])
end
return {epoch, last, entries}
"""

# A tournament room whose events this node could not keep: a new epoch now, announced (seq 0).
# KEYS: its stream and hash. ARGV: 1 the new epoch, 2 the run id, 3 ttl, 4 its channel.
RENEW_LUA = """
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'run', ARGV[2], 'seq', 0)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], '0 ' .. ARGV[1] .. ' ')
return 1
"""


class BrokerUnavailableError(StorageUnavailableError):
    """Redis cannot be reached (at start-up, or while a socket waits for a room this node does
    not carry yet): a 503 or a 1011 `store_unavailable`, as the store's own outage."""


def stream_key(room: str) -> str:
    return f"lb:{room}:log"


def meta_key(room: str) -> str:
    return f"lb:{room}:meta"


def channel_of(room: str) -> str:
    return f"lb:{room}"


def safe_url(url: str) -> str:
    """The URL without its password, for log lines and errors."""
    parts = urllib.parse.urlsplit(url)
    host = f"{parts.hostname}:{parts.port or 6379}"
    return f"{parts.scheme}://{host}{parts.path}"


def event_frame(event: Event) -> str:
    """A match event as its match room's frame (as Hub.publish builds it)."""
    return protocol.frame(event.type, event.data, seq=event.seq, ts=int(event.ts * 1000))


def seq_template(kind: str, data: dict[str, Any], **fields: Any) -> tuple[str, str]:
    """A frame as the text before and after its seq, which the script puts in between."""
    text = protocol.frame(kind, data, seq=0, **fields)
    at = text.index(',"seq":0,')  # the first: a JSON string (the type) holds no bare quote
    return text[:at] + ',"seq":', text[at + len(',"seq":0'):]


@dataclasses.dataclass(frozen=True)
class Job:
    """One event to publish: its match room's part and its tournament room's part."""

    match_id: str | None
    seq: int  # the match's seq (0: a tournament room's own event)
    frame: str  # the match room's frame
    tournament: str | None  # the tournament room's key
    head: str
    tail: str
    number: int  # this node's number for a tournament room's own event (a retry is refused)

    @classmethod
    def of(cls, event: Event, number: int) -> Job | None:
        match_key, tournament_key = rooms_of(event)
        if match_key is None and tournament_key is None:
            return None
        ts = int(event.ts * 1000)
        head = tail = ""
        if tournament_key is not None:
            extra = {"match_seq": event.seq} if match_key else {}
            head, tail = seq_template(event.type, event.data, ts=ts, **extra)
        return cls(match_key.partition(":")[2] if match_key else None, event.seq if match_key else 0,
                   event_frame(event) if match_key else "", tournament_key, head, tail, number)


class Message:
    """A frame as it came from the channel."""

    __slots__ = ("seq", "epoch", "text", "checked")

    def __init__(self, seq: int, epoch: str | None, text: str) -> None:
        self.seq = seq
        self.epoch = epoch
        self.text = text
        self.checked = False  # its epoch differed once; differing again after a read, it is old


@dataclasses.dataclass(eq=False)
class Room:
    """A room this node carries: subscribed while the hub has members in it."""

    key: str
    sink: Hub
    ready: asyncio.Future[None]  # done once its numbering is known and its first catch-up is over
    delivered: int | None = None  # the last seq handed to the hub (None: not known yet)
    epoch: str | None = None  # a tournament room's numbering
    live: bool = False  # False: frames wait in `backlog` while the room catches up
    backlog: collections.deque[Message] = dataclasses.field(default_factory=collections.deque)
    overflowed: bool = False
    waits: int = 0  # subscribe confirmations due before the subscription is known to be on
    generation: int = 0  # the connection it was subscribed on
    check_log: bool = False  # after a reconnect: are there committed events nobody published?
    expected: int = 0  # a committed seq a snapshot showed
    catching: asyncio.Task[None] | None = None
    expecting: asyncio.Task[None] | None = None

    @property
    def tournament(self) -> bool:
        return self.key.startswith("tournament:")


@dataclasses.dataclass
class BrokerStats:
    published: int = 0  # scripts that wrote
    refused_duplicates: int = 0
    refused_gaps: int = 0
    republished: int = 0  # events published again from a match's log
    delivered: int = 0  # frames handed to the hub
    duplicates_dropped: int = 0
    filled_from_stream: int = 0
    filled_from_log: int = 0
    renumbered: int = 0  # rooms whose members took a fresh snapshot
    reconnects: int = 0


class RedisBroker:
    """The Broker of realtime/hub.py over Redis (redis-py's asyncio client, hiredis).

    `store` is read for a match's committed log (the read MatchService.events makes, up to the
    match's committed seq: the broker is built before the match service). `start()` connects and
    raises BrokerUnavailableError when Redis does not answer; `flush()` publishes what waits.
    """

    def __init__(self, url: str, store: Store, *, history_frames: int = 512, ttl_s: int = TTL_S,
                 queue_max: int = QUEUE_MAX, backlog_max: int = BACKLOG_MAX, replay_limit: int = REPLAY_LIMIT,
                 catch_up_s: float = CATCH_UP_S, ping_interval_s: float = PING_INTERVAL_S,
                 attach_timeout_s: float = ATTACH_TIMEOUT_S, socket_timeout_s: float = 2.0) -> None:
        self.url = safe_url(url)
        self._redis = aioredis.Redis.from_url(  # retries are this module's own: each call is idempotent
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0))
        self._store = store
        self._maxlen = history_frames
        self._ttl_s = ttl_s
        self._queue_max = queue_max
        self._backlog_max = backlog_max
        self._replay_limit = replay_limit
        self._catch_up_s = catch_up_s
        self._ping_interval_s = ping_interval_s
        self._attach_timeout_s = attach_timeout_s
        self.node = secrets.token_hex(6)
        self._control = channel_of(f"node:{self.node}").encode()  # keeps the subscription open
        self._scripts = {name: self._redis.register_script(lua)
                         for name, lua in (("publish", PUBLISH_LUA), ("read", READ_LUA), ("renew", RENEW_LUA))}
        self._rooms: dict[str, Room] = {}
        self._by_channel: dict[bytes, Room] = {}
        self._pending_subs: collections.Counter[bytes] = collections.Counter()
        self._queue: collections.deque[Job] = collections.deque()
        self._lagging: dict[str, tuple[int, int]] = {}  # match id -> (first, last) seq to publish from its log
        self._lost: set[str] = set()  # tournament rooms whose events did not fit: a new epoch is due
        self._numbers = itertools.count(1)
        self._run_id = ""
        self._generation = 0
        self._pubsub: Any = None
        self._send_lock = asyncio.Lock()  # subscribes and unsubscribes go out in the order asked
        self._connected = asyncio.Event()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._spawned: set[asyncio.Task[None]] = set()
        self._down_since: float | None = None
        self._closed = False
        self.stats = BrokerStats()

    # -- life ----------------------------------------------------------------------------------

    async def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Connect and subscribe. Raises BrokerUnavailableError when Redis does not answer."""
        try:
            await asyncio.wait_for(self._redis.ping(), timeout_s)
        except (RedisError, OSError, asyncio.TimeoutError) as e:
            await self.close()
            raise BrokerUnavailableError(f"the broker {self.url} is unreachable ({e or type(e).__name__}): "
                                         "start Redis there or fix --broker") from None
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send())]
        try:
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise BrokerUnavailableError(f"the broker {self.url} did not take a subscription") from None
        log.info("broker %s (node %s)", self.url, self.node)

    async def flush(self, drain_s: float = 2.0) -> None:
        """Publish what waits, for up to `drain_s` while Redis answers (at shutdown)."""
        if self._tasks and (self._queue or self._lagging or self._lost):
            self._idle.clear()
            self._wake.set()
            try:
                await asyncio.wait_for(self._idle.wait(), drain_s)
            except asyncio.TimeoutError:
                log.warning("broker: %d events were not published before the shutdown", len(self._queue))

    async def close(self) -> None:
        """Stop subscribing and publishing, and disconnect (once)."""
        if self._closed:
            return
        self._closed = True
        tasks, self._tasks = self._tasks, []
        for task in (*tasks, *self._spawned):
            task.cancel()
        await asyncio.gather(*tasks, *self._spawned, return_exceptions=True)
        await self._redis.aclose()

    # -- publishing (the hub's publish, with a broker) -----------------------------------------

    def publish(self, event: Event) -> None:
        """Queue a committed event for Redis, in order. Never blocks or raises."""
        try:
            match_key, tournament_key = rooms_of(event)
            if match_key is not None:
                match_id = match_key.partition(":")[2]
                if match_id in self._lagging or len(self._queue) >= self._queue_max:
                    self._lag(match_id, event.seq, event.seq)  # its log has it
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

    def _lag(self, match_id: str, first: int, last: int) -> None:
        """Publish `match_id`'s events from `first` to `last` (at least) from its log."""
        was = self._lagging.get(match_id)
        self._lagging[match_id] = (min(first, was[0]), max(last, was[1])) if was else (first, last)
        self._wake.set()

    async def _send(self) -> None:
        """The queue, in order, a pipeline at a time; then the lagging matches and lost rooms."""
        delay = RETRY_FIRST_S
        while True:
            if not (self._queue or self._lagging or self._lost):
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._connected.wait()
            try:
                if self._lost:
                    await self._renew(next(iter(self._lost)))
                elif self._queue:
                    await self._send_batch()
                elif self._lagging:
                    await self._fill_lagging(*next(iter(self._lagging.items())))
                delay = RETRY_FIRST_S
            except (RedisError, OSError, StorageError) as e:  # the listener reconnects; the store comes back
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
            self._maxlen, self._ttl_s, str(job.seq) if job.match_id is not None else "", job.frame, match_channel,
            job.head, job.tail, channel_of(job.tournament) if job.tournament else "", secrets.token_hex(4),
            self._run_id, self.node, job.number]
        return keys, args

    async def _run_scripts(self, jobs: list[Job]) -> list[Any]:
        """One EVALSHA per job in one pipeline; loaded once more if Redis forgot the script."""
        script = self._scripts["publish"]
        for _ in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for job in jobs:
                keys, args = self._publish_call(job)
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in results):
                return results
            await self._redis.script_load(PUBLISH_LUA)  # a restarted Redis: every job again (idempotent)
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
        if status == 1:
            self.stats.published += 1
        elif status == 0:
            self.stats.refused_duplicates += 1
        else:  # another node's event went first: the ones in between come from the log
            self.stats.refused_gaps += 1
            assert job.match_id is not None
            self._lag(job.match_id, top + 1, job.seq)
        return status

    async def _fill_lagging(self, match_id: str, span: tuple[int, int]) -> None:
        """Publish a match's committed events after the stream's top (or after `first` - 1
        without a stream), from its log, up to at least `last`."""
        first, last = span
        _, top, _ = await self._read(match_room(match_id), 0, 0, 0)
        after = top if top >= 0 else first - 1
        events = await self._log(match_id, after, BATCH)
        gapped = False
        if events:
            jobs = [job for job in (Job.of(e, 0) for e in events) if job is not None]
            for job, result in zip(jobs, await self._run_scripts(jobs)):
                status = self._count(job, result) if not isinstance(result, Exception) else 0
                self.stats.republished += status == 1
                gapped = gapped or status == -1
            after = events[-1].seq
        if not events or (after >= self._lagging[match_id][1] and not gapped):
            del self._lagging[match_id]  # done (or the match is gone); later events queue again

    async def _renew(self, key: str) -> None:
        await self._scripts["renew"](keys=[stream_key(key), meta_key(key)],
                                     args=[secrets.token_hex(4), self._run_id, self._ttl_s, channel_of(key)])
        self._lost.discard(key)

    async def _log(self, match_id: str, after: int, limit: int) -> list[Event]:
        """The match's committed events after `after` ([] once it is gone). Raises StorageError."""
        try:
            match = await self._store.get_match(match_id)
        except NotFoundError:
            return []
        return await self._store.list_events(match_stream(match_id), after, limit, until=match.seq)

    async def _committed(self, match_id: str) -> int:
        """The match's committed seq (0 once it is gone). Raises StorageError."""
        try:
            return (await self._store.get_match(match_id)).seq
        except NotFoundError:
            return 0

    async def _read(self, key: str, first: int, last: int, count: int) -> tuple[str, int, list[Frame]]:
        """(epoch, top, frames) of a room's stream: frames from seq `first` to `last` (0: on),
        at most `count`. A tournament room without a numbering gets one. Raises RedisError."""
        keys = [stream_key(key)] + ([meta_key(key)] if key.startswith("tournament:") else [])
        epoch, top, entries = await self._scripts["read"](
            keys=keys, args=[first, last, count, secrets.token_hex(4), self._run_id, self._ttl_s])
        frames = [Frame(fields[1].decode(), int(entry_id.split(b"-")[0])) for entry_id, fields in entries]
        return epoch.decode() if isinstance(epoch, bytes) else str(epoch), int(top), frames

    # -- rooms (the hub's side) ----------------------------------------------------------------

    async def attach(self, key: str, sink: Hub) -> None:
        """Carry room `key` for `sink` (the hub): subscribed, its numbering known. Returns at once
        for a room already carried. Raises BrokerUnavailableError when Redis does not answer
        within `attach_timeout_s`."""
        if not key.startswith(("match:", "tournament:")):
            return  # the lobby stays on its node
        room = self._rooms.get(key)
        if room is None:
            room = self._rooms[key] = Room(key, sink, asyncio.get_running_loop().create_future())
            self._by_channel[channel_of(key).encode()] = room
            if self._connected.is_set():
                self._subscribe([room])
        if room.ready.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(room.ready), self._attach_timeout_s)
        except asyncio.TimeoutError:
            raise BrokerUnavailableError(f"the broker {self.url} does not answer") from None

    def detach(self, key: str) -> None:
        """Stop carrying room `key` (its last member left)."""
        room = self._rooms.pop(key, None)
        if room is None:
            return
        channel = channel_of(key).encode()
        self._by_channel.pop(channel, None)
        for task in (room.catching, room.expecting):
            if task is not None:
                task.cancel()
        if not room.ready.done():
            room.ready.set_result(None)
        if self._connected.is_set():
            self._spawn(self._unsubscribe(channel))

    async def history(self, key: str, since: int, latest: int, epoch: str) -> list[Frame] | None:
        """The frames after `since` up to `latest` from the room's stream, or None when it does
        not hold them all (or holds another epoch's numbering)."""
        if (latest - since > self._replay_limit or not self._connected.is_set()
                or not key.startswith(("match:", "tournament:"))):
            return None
        try:
            found, _, frames = await self._read(key, since + 1, latest, latest - since)
        except (RedisError, OSError):
            return None
        if key.startswith("tournament:") and found != epoch:
            return None
        if [f.seq for f in frames] != list(range(since + 1, latest + 1)):
            return None
        return frames

    def expect(self, key: str, seq: int) -> None:
        """A snapshot showed `seq` committed in match room `key`: if it has not come in
        `catch_up_s` (its node died between the commit and the publish), publish it from the log."""
        room = self._rooms.get(key)
        if room is None or room.tournament:
            return
        room.expected = max(room.expected, seq)
        if room.expecting is None:
            room.expecting = self._spawn(self._expect_later(room))

    async def _expect_later(self, room: Room) -> None:
        await asyncio.sleep(self._catch_up_s)
        room.expecting = None
        if self._rooms.get(room.key) is room and room.delivered is not None and room.delivered < room.expected:
            self._lag(room.key.partition(":")[2], room.delivered + 1, room.expected)

    # -- the subscription ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)
        return task

    def _mark(self, rooms: list[Room]) -> list[bytes]:
        """The channels of `rooms`, each room counting the subscribe confirmations due on its
        channel, its own last: it catches up once its own has come."""
        channels = [channel_of(r.key).encode() for r in rooms]
        for room, channel in zip(rooms, channels):
            self._pending_subs[channel] += 1
            room.waits, room.generation = self._pending_subs[channel], self._generation
        return channels

    def _subscribe(self, rooms: list[Room]) -> None:
        self._spawn(self._send_subscribe(self._pubsub, self._mark(rooms)))

    async def _send_subscribe(self, pubsub: Any, channels: list[bytes]) -> None:
        try:
            async with self._send_lock:  # in the order asked, after an unsubscribe asked before
                if pubsub is not None and pubsub is self._pubsub:
                    await pubsub.subscribe(*channels)
        except (RedisError, OSError):
            pass  # the listener reconnects and subscribes every room again

    async def _unsubscribe(self, channel: bytes) -> None:
        try:
            async with self._send_lock:
                if self._pubsub is not None:
                    await self._pubsub.unsubscribe(channel)
        except (RedisError, OSError):
            pass

    async def _listen(self) -> None:
        """Keep one subscription, reconnecting with backoff; every (re)connection subscribes
        every room again and catches each up before its live frames."""
        loop = asyncio.get_running_loop()
        delay = RETRY_FIRST_S
        while True:
            self._pubsub = pubsub = self._redis.pubsub()
            try:
                info = await self._redis.info("server")
                self._run_id = str(info["run_id"])
                self._generation += 1
                self._pending_subs.clear()
                for room in self._rooms.values():
                    room.live, room.check_log = False, True
                channels = self._mark(list(self._rooms.values()))
                async with self._send_lock:
                    await pubsub.subscribe(self._control, *channels)
                heard = loop.time()
                while True:
                    message = await pubsub.get_message(timeout=self._ping_interval_s)
                    if message is not None:
                        heard = loop.time()
                        self._dispatch(message)
                        delay = RETRY_FIRST_S
                    elif loop.time() - heard > 3 * self._ping_interval_s:
                        raise RedisError("the subscription went silent")
                    else:
                        await pubsub.ping()
            except Exception as e:  # RedisError, OSError; anything else is a bug, logged, and reconnects too
                if not isinstance(e, (RedisError, OSError)):
                    log.exception("broker: the subscription failed")
                self._connected.clear()
                if self._down_since is None:
                    self._down_since = loop.time()
                    log.warning("broker %s unreachable (%s): reconnecting with backoff; rooms catch up "
                                "once it is back", self.url, e)
                for room in self._rooms.values():
                    room.live = False
                    if room.catching is not None:
                        room.catching.cancel()
            finally:
                self._pubsub = None
                try:
                    await asyncio.wait_for(pubsub.aclose(), 1.0)  # type: ignore[no-untyped-call]
                except (RedisError, OSError, asyncio.TimeoutError):
                    pass
            await asyncio.sleep(delay)
            delay = min(2 * delay, RETRY_MAX_S)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message["channel"]
        if kind == "subscribe":
            if channel == self._control:
                self._connected.set()
                if self._down_since is not None:
                    log.info("broker %s reachable again after %.1f s", self.url,
                             asyncio.get_running_loop().time() - self._down_since)
                    self._down_since = None
                    self.stats.reconnects += 1
                late = [r for r in self._rooms.values() if r.generation != self._generation]
                if late:  # attached while this connection was being made
                    self._subscribe(late)
                self._wake.set()
                return
            self._pending_subs[channel] -= 1
            room = self._by_channel.get(channel)
            if room is not None and room.waits > 0:
                room.waits -= 1
                if room.waits == 0:
                    self._catch_up_later(room)
        elif kind == "message":
            room = self._by_channel.get(channel)
            if room is not None:
                self._receive(room, message["data"])

    def _receive(self, room: Room, data: bytes) -> None:
        head, _, rest = data.partition(b" ")
        epoch = None
        if room.tournament:
            epoch_bytes, _, rest = rest.partition(b" ")
            epoch = epoch_bytes.decode()
        message = Message(int(head), epoch, rest.decode())
        if room.live and room.delivered is not None:
            if message.epoch == room.epoch and message.seq <= room.delivered:
                self.stats.duplicates_dropped += 1
                return
            if message.epoch == room.epoch and message.seq == room.delivered + 1:
                self._deliver(room, message.seq, message.text)
                return
            room.live = False  # a gap, or another numbering: catch up first
        room.backlog.append(message)
        if len(room.backlog) > self._backlog_max:
            room.backlog.clear()  # the stream has them
            room.overflowed = True
        if room.waits == 0:
            self._catch_up_later(room)

    def _deliver(self, room: Room, seq: int, text: str) -> None:
        room.delivered = seq
        self.stats.delivered += 1
        room.sink.deliver(room.key, Frame(text, seq))

    def _catch_up_later(self, room: Room) -> None:
        if room.catching is None or room.catching.done():
            room.catching = self._spawn(self._catch_up(room))

    # -- catching up ---------------------------------------------------------------------------

    async def _catch_up(self, room: Room) -> None:
        """Number a new room, or deliver what it missed; then its backlog; then it is live."""
        delay = RETRY_FIRST_S
        while self._rooms.get(room.key) is room:
            try:
                if room.delivered is None:
                    await self._number(room)
                else:
                    await self._fill(room)
                if room.check_log and not room.tournament:
                    room.check_log = False  # a node may have died with events it never published
                    committed = await self._committed(room.key.partition(":")[2])
                    if committed > (room.delivered or 0):
                        self.expect(room.key, committed)
                if room.overflowed:
                    room.overflowed = False
                    continue
                if self._drain(room):
                    room.live = True
                    if not room.ready.done():
                        room.ready.set_result(None)
                    return
            except (RedisError, OSError, StorageError) as e:  # a lost connection cancels this task
                log.warning("broker: %s waits %.1f s to catch up: %s", room.key, delay, e)
            except Exception:
                log.exception("broker: %s could not catch up", room.key)
            await asyncio.sleep(delay)  # its frames wait in the backlog meanwhile
            delay = min(2 * delay, RETRY_MAX_S)

    def _drain(self, room: Room) -> bool:
        """Deliver the backlog in order; False at a gap or a frame of another numbering."""
        while room.backlog:
            message = room.backlog[0]
            assert room.delivered is not None
            if message.epoch != room.epoch:
                if message.checked:  # read again since: an older numbering's
                    room.backlog.popleft()
                    continue
                message.checked = True
                return False
            room.backlog.popleft()
            if message.seq <= room.delivered:
                self.stats.duplicates_dropped += 1
            elif message.seq == room.delivered + 1:
                self._deliver(room, message.seq, message.text)
            else:
                room.backlog.appendleft(message)
                return False
        return True

    async def _number(self, room: Room) -> None:
        """A room just attached: where its numbering stands (frames after it arrive live)."""
        epoch, top, _ = await self._read(room.key, 0, 0, 0)
        if room.tournament:
            room.epoch, room.delivered = epoch, top
        elif top >= 0:
            room.delivered = top
        else:  # no stream (expired, or Redis lost it): the store says where the match is
            room.delivered = await self._committed(room.key.partition(":")[2])
        room.sink.renumber(room.key, room.epoch, room.delivered, resync=False)

    async def _fill(self, room: Room) -> None:
        """Deliver every frame after `delivered` the stream holds, else (a match room) the log's;
        a room that cannot be caught up so is renumbered: its members take a fresh snapshot."""
        while True:
            assert room.delivered is not None
            after = room.delivered
            epoch, top, frames = await self._read(room.key, after + 1, 0, self._replay_limit)
            if room.tournament and epoch != room.epoch:
                self._renumber(room, epoch, top)
                return
            if top <= after:
                return
            if frames and frames[0].seq == after + 1:
                for frame in frames:
                    self._deliver(room, frame.seq or 0, frame.text)
                self.stats.filled_from_stream += len(frames)
                continue
            if room.tournament:  # trimmed or expired: no numbering left to catch up with
                self._renumber(room, epoch, top)
                return
            events = await self._log(room.key.partition(":")[2], after, self._replay_limit)
            if not events or events[0].seq != after + 1 or len(events) >= self._replay_limit:
                self._renumber(room, None, top)  # too far behind: a fresh snapshot is better
                return
            for event in events:
                self._deliver(room, event.seq, event_frame(event))
            self.stats.filled_from_log += len(events)

    def _renumber(self, room: Room, epoch: str | None, seq: int) -> None:
        log.info("broker: %s renumbered (%s, %d): its members take a fresh snapshot", room.key, epoch, seq)
        room.epoch, room.delivered = epoch, max(seq, 0)
        self.stats.renumbered += 1
        room.sink.renumber(room.key, epoch, room.delivered, resync=True)
