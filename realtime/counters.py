"""RedisCounts: this node's socket counts kept in Redis beside every other node's, and summed.

Each node writes its own counts into one hash, `lb:counts:<node>`: `u:<user>`, `i:<ip>` and
`r:<room>` (open sockets), `p:<room>` (the room's presence here, JSON), and `alive` (the hash is
whole). It lists itself in the sorted set `lb:nodes` with a deadline; every write, and a
heartbeat every `ttl_s / 3`, push the deadline and the hash's expiry `ttl_s` on. A node that
dies (kill -9) renews nothing: past its deadline no sum counts it, and its hash expires.

The values written are absolute, read from this node's own exact counts (its ConnectionCounter
and its rooms) when the write is sent: a write lost is made good by the next. One sender sends
them in order, a pipeline per round trip. A hash that lapsed (Redis away longer than `ttl_s`,
an empty Redis after a restart, the process stopped) has no `alive`: the next write makes it
again whole, alone in its round trip. The scripts read the other nodes' hashes by name, so
they need one Redis (not a Redis Cluster), as the broker does.

An admission runs one script: for the room, the user and the address, the other live nodes'
counts plus this node's (the new socket included) against the limit, atomically: past one,
nothing is written and the socket is refused; else this node's counts are written.

Presence: each round trip that changed rooms' counts names them in one message on `lb:counts`;
every node reads the other nodes' part of those of its rooms with members (`others`, cached)
and tells its hub when it moved (`Hub.presence_moved`): a presence frame follows, as for a
change here. Every heartbeat reads them all again (a dead node's part goes; a message lost
while the subscription was away is made good).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from realtime.brokerlink import BrokerUnavailableError, safe_url
from realtime.countscripts import LIMITS, NODES, NOTICE, PREFIX, READ_LUA, RESERVE_LUA, SYNC_LUA, headcount, node_key
from realtime.hub import Headcount, Hub
from realtime.limits import ConnectionCounter, SharedCountsUnavailableError
from tournament.tasks import stop_tasks

log = logging.getLogger(__name__)

TTL_S = 15.0  # a node's counts outlive its last heartbeat by this much
RESERVE_TIMEOUT_S = 0.5  # an admission waits this long for Redis, then goes by this node's counts
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 2.0
NOTICE_ROOMS_MAX = 200  # rooms named in one notice; past it "*"


@dataclasses.dataclass
class Reservation:
    """An admission waiting for its round trip."""

    user_id: str
    ip: str
    room: str
    maxima: tuple[int, int, int]  # room, user, ip (0: none)
    answer: asyncio.Future[str | None]


@dataclasses.dataclass
class CountsStats:
    admitted: int = 0
    refused: int = 0
    failed_open: int = 0  # admissions decided by this node's own counts (Redis did not answer)
    restores: int = 0  # times this node's hash was written whole
    reads: int = 0  # rooms whose other nodes' part was read


class RedisCounts:
    """The SharedCounts of realtime/limits.py and the Census of realtime/hub.py, over Redis.

    `sockets` is this node's own ConnectionCounter: a socket is counted there first, then here.
    `start()` raises BrokerUnavailableError when Redis does not answer; `close()` takes this
    node's counts out at once (a clean shutdown need not wait for the expiry).
    """

    def __init__(self, url: str, sockets: ConnectionCounter, *, node: str | None = None, ttl_s: float = TTL_S,
                 reserve_timeout_s: float = RESERVE_TIMEOUT_S, socket_timeout_s: float = 2.0) -> None:
        self.url = safe_url(url)
        self._redis = aioredis.Redis.from_url(  # no retries of its own: a failed round trip is made good
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0))
        self._sockets = sockets
        self.node = node or secrets.token_hex(6)
        self._own = node_key(self.node)
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self.heartbeat_s = ttl_s / 3
        self._reserve_timeout_s = reserve_timeout_s
        self._scripts = {name: self._redis.register_script(lua)
                         for name, lua in (("reserve", RESERVE_LUA), ("sync", SYNC_LUA), ("read", READ_LUA))}
        self._rooms: collections.Counter[str] = collections.Counter()  # this node's sockets per room
        self._waiting: collections.deque[Reservation] = collections.deque()
        self._inflight: list[Reservation] = []
        self._dirty: set[str] = set()  # fields to write again (their values read when sent)
        self._moved: set[str] = set()  # rooms whose presence here changed (their `p:`)
        self._parts: dict[str, str] = {}  # room -> its `p:` as last written
        self._shown: set[str] = set()  # rooms with members here: the other nodes' part is read
        self._stale: set[str] = set()  # ... and read again in the next round trip
        self._others: dict[str, Headcount] = {}
        self._sink: Hub | None = None
        self._whole = True  # the next round trip writes the hash whole first
        self._beat = False  # the next round trip renews the deadline even with nothing to write
        self._up = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.stats = CountsStats()

    # -- life ----------------------------------------------------------------------------------

    async def start(self, timeout_s: float = 5.0) -> None:
        """Connect and write this node's (empty) counts. Raises BrokerUnavailableError."""
        try:
            await asyncio.wait_for(self._redis.ping(), timeout_s)
        except (RedisError, OSError, asyncio.TimeoutError) as e:
            await self.close()
            raise BrokerUnavailableError(f"the broker {self.url} is unreachable ({e or type(e).__name__}): "
                                         "start Redis there or fix --broker") from None
        self._up = True
        self._tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._tick()),
                       asyncio.create_task(self._listen())]
        self._wake.set()

    async def close(self) -> None:
        """Stop, and take this node's counts out of Redis (once; best effort)."""
        if self._closed:
            return
        self._closed = True
        tasks, self._tasks = self._tasks, []
        await stop_tasks(tasks)
        self._fail_waiting()
        if self._up:
            try:
                pipe = self._redis.pipeline(transaction=False)
                pipe.delete(self._own)
                pipe.zrem(NODES, self.node)
                pipe.publish(NOTICE, f"{self.node} *")
                await asyncio.wait_for(pipe.execute(), 1.0)
            except (RedisError, OSError, asyncio.TimeoutError):
                pass  # its counts expire by themselves
        await self._redis.aclose()

    # -- admissions (the SharedCounts of realtime/limits.py) ----------------------------------

    async def reserve(self, user_id: str, ip: str, room: str, *, user_max: int, ip_max: int,
                      room_max: int) -> str | None:
        """Check the room, the user and the address against their limits summed over the live
        nodes, this node's counts (the socket already in its ConnectionCounter) included; admitted,
        this node's counts are written. Returns None, or the limit reached ("room", "user",
        "ip"). The room counts the socket from here on, either way, until `release`. Raises
        SharedCountsUnavailableError when Redis does not answer within reserve_timeout_s."""
        self._rooms[room] += 1
        if not self._up or self._closed:
            self._unsure()
            raise SharedCountsUnavailableError(f"the counts in {self.url} are unreachable")
        reservation = Reservation(user_id, ip, room, (room_max, user_max, ip_max),
                                  asyncio.get_running_loop().create_future())
        self._waiting.append(reservation)
        self._wake.set()
        try:
            verdict = await asyncio.wait_for(reservation.answer, self._reserve_timeout_s)
        except (asyncio.TimeoutError, SharedCountsUnavailableError):
            self._unsure()  # written or not: the hash is written whole again
            raise SharedCountsUnavailableError(f"the counts in {self.url} did not answer") from None
        if verdict is None:
            self.stats.admitted += 1
        else:
            self.stats.refused += 1
            self._sockets.refused += 1
        return verdict

    def _unsure(self) -> None:
        self.stats.failed_open += 1
        self._whole = True

    def release(self, user_id: str, ip: str, room: str) -> None:
        """A socket `reserve` counted closed: this node's counts are written again."""
        self._rooms[room] -= 1
        if self._rooms[room] <= 0:
            del self._rooms[room]
            if room not in self._shown:  # admitted, never joined (refused later)
                self._others.pop(room, None)
        self._dirty.update((f"r:{room}", f"u:{user_id}", f"i:{ip}"))
        self._wake.set()

    # -- presence (the Census of realtime/hub.py) ---------------------------------------------

    def changed(self, key: str, sink: Hub) -> None:
        """This node's presence in `key` changed: its `p:` is written; a room with members here
        has the other nodes' part read (once now, then when they announce a change)."""
        self._sink = sink
        self._moved.add(key)
        if sink.members_here(key):
            if key not in self._shown:
                self._shown.add(key)
                self._stale.add(key)
        else:
            self._shown.discard(key)
            self._stale.discard(key)
            self._others.pop(key, None)
        self._wake.set()

    def others(self, key: str) -> Headcount | None:
        return self._others.get(key)

    async def watchers(self, rooms: list[str]) -> dict[str, int]:
        """Every live node's sockets in each of `rooms`, this node's included, read now (the
        lobby's counts of rooms this node may not show). Raises SharedCountsUnavailableError."""
        if not rooms:
            return {}
        if not self._up:
            raise SharedCountsUnavailableError(f"the counts in {self.url} are unreachable")
        try:
            result = await asyncio.wait_for(self._scripts["read"](
                keys=[NODES], args=[self.node, PREFIX, *(f"r:{room}" for room in rooms)]), 4 * self._reserve_timeout_s)
        except (RedisError, OSError, asyncio.TimeoutError) as e:
            raise SharedCountsUnavailableError(f"the counts in {self.url} did not answer: {e}") from None
        return {room: self._rooms.get(room, 0) + sum(int(v) for v in values) for room, values in zip(rooms, result)}

    def _part(self, key: str) -> str:
        """Room `key`'s presence on this node as its `p:` ('' when there is none)."""
        if self._sink is None:
            return ""
        here = self._sink.presence_here(key)
        part = {name: here[name] for name in ("participants", "spectators", "online") if here.get(name)}
        return json.dumps(part, sort_keys=True, separators=(",", ":")) if part else ""

    # -- the sender ----------------------------------------------------------------------------

    async def _send(self) -> None:
        """One round trip at a time, in order: what waits, a pipeline each time."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._up:
                continue  # the ticker reconnects, then wakes this
            try:
                if self._whole:
                    await self._restore()
                await self._round()
            except (RedisError, OSError) as e:
                self._lost(e)
            except Exception:  # a bug: said, and the counts are written whole once Redis answers
                log.exception("counts: a round trip failed")
                self._lost(None)
            if self._whole or self._waiting or self._dirty or self._moved or self._stale:
                self._wake.set()

    def _fields(self) -> list[str]:
        """Every field of this node's counts, as field, value pairs."""
        pairs: list[str] = []
        for prefix, counts in (("u:", self._sockets.by_user), ("i:", self._sockets.by_ip), ("r:", self._rooms)):
            for name, count in counts.items():
                pairs += [prefix + name, str(count)]
        for room, part in self._parts.items():
            pairs += ["p:" + room, part]
        return pairs

    async def _restore(self) -> None:
        """Write the hash whole, alone in its round trip: nothing of this node's is in flight, so
        its counts are exactly what was admitted and not released."""
        self._whole = False
        self._dirty.clear()
        for room in self._moved:
            self._parts[room] = self._part(room)
        self._moved.clear()
        self._parts = {room: part for room, part in self._parts.items() if part}
        def build(pipe: Any) -> None:
            self._sync(pipe, self._fields(), whole=True)
            pipe.publish(NOTICE, f"{self.node} *")  # every node reads this one's part again

        await self._run(build)
        self.stats.restores += 1

    def _sync(self, pipe: Any, pairs: list[str], whole: bool = False) -> None:
        script = self._scripts["sync"]
        pipe.evalsha(script.sha, 2, NODES, self._own, self.node, self._ttl_ms, "1" if whole else "", *pairs)

    async def _run(self, build: Callable[[Any], None]) -> list[Any]:
        """Run the pipeline `build` fills; once more with the scripts loaded again if Redis forgot
        them (a restart). Raises RedisError, OSError."""
        for _ in range(2):
            pipe = self._redis.pipeline(transaction=False)
            build(pipe)
            results: list[Any] = await pipe.execute(raise_on_error=False)  # a lost connection raises
            if not any(isinstance(r, NoScriptError) for r in results):
                return results
            for script in self._scripts.values():
                await self._redis.script_load(script.script)
        raise RedisError("the counts' scripts could not be loaded")

    async def _round(self) -> None:
        """The waiting admissions, the counts to write again, the presence parts that moved, a
        notice naming their rooms, and the reads due: one pipeline."""
        reservations = [r for r in self._waiting if not r.answer.done()]  # not given up on meanwhile
        self._inflight = reservations
        self._waiting.clear()
        pairs: list[str] = []
        touched: set[str] = set()
        for field in sorted(self._dirty):
            kind, _, name = field.partition(":")
            counts = {"u": self._sockets.by_user, "i": self._sockets.by_ip, "r": self._rooms}[kind]
            pairs += [field, str(counts[name]) if counts.get(name) else ""]
            if kind == "r":
                touched.add(name)
        self._dirty.clear()
        for room in sorted(self._moved):
            part = self._part(room)
            if part != self._parts.get(room, ""):
                pairs += ["p:" + room, part]
                touched.add(room)
                if part:
                    self._parts[room] = part
                else:
                    self._parts.pop(room, None)
        self._moved.clear()
        touched.update(r.room for r in reservations)
        reads = sorted(self._stale & self._shown)
        self._stale.clear()
        beat, self._beat = self._beat, False
        if not (reservations or pairs or reads or beat):
            self._inflight = []
            return

        def build(pipe: Any) -> None:
            for r in reservations:
                counts = (self._rooms[r.room], self._sockets.by_user[r.user_id], self._sockets.by_ip[r.ip])
                args: list[str | int] = [self.node, self._ttl_ms, PREFIX]
                for field, count, limit in zip((f"r:{r.room}", f"u:{r.user_id}", f"i:{r.ip}"), counts, r.maxima):
                    args += [field, count, limit]
                pipe.evalsha(self._scripts["reserve"].sha, 2, NODES, self._own, *args)
            if pairs or beat:
                self._sync(pipe, pairs)
            if touched:
                names = sorted(touched) if len(touched) <= NOTICE_ROOMS_MAX else ["*"]
                pipe.publish(NOTICE, " ".join([self.node, *names]))
            if reads:
                fields = [f"{kind}:{room}" for room in reads for kind in ("r", "p")]
                pipe.evalsha(self._scripts["read"].sha, 1, NODES, self.node, PREFIX, *fields)

        results = await self._run(build)
        self._inflight = []
        for r, result in zip(reservations, results):
            self._answer(r, result)
        rest = results[len(reservations):]
        if (pairs or beat) and rest:
            if not isinstance(rest[0], Exception) and int(rest[0]) == 0:
                self._whole = True  # lapsed: written whole in the next round trip
            rest = rest[1:]
        if touched and rest:
            rest = rest[1:]
        if reads and rest and not isinstance(rest[0], Exception):
            self._read(reads, rest[0])

    def _answer(self, r: Reservation, result: Any) -> None:
        if isinstance(result, Exception):  # a bug in the script, not an outage: admitted on local counts
            log.error("counts: the reserve script failed on %s: %s", r.room, result)
            self._whole = True
            if not r.answer.done():
                r.answer.set_exception(SharedCountsUnavailableError(str(result)))
            return
        alive, index, *sums = (int(x) for x in result)
        if index:
            verdict: str | None = LIMITS[index - 1]
        else:
            verdict = None
            if not alive:
                self._whole = True
            # the other nodes' sockets in the room, summed just now: the welcome counts them (the
            # rest of their part is read once the socket has joined: `changed`)
            self._others[r.room] = dataclasses.replace(self._others.get(r.room, Headcount()), watchers=sums[0])
        if not r.answer.done():
            r.answer.set_result(verdict)

    def _read(self, rooms: list[str], result: list[list[bytes]]) -> None:
        self.stats.reads += len(rooms)
        for i, room in enumerate(rooms):
            if room not in self._shown:
                continue
            count = headcount(result[2 * i], result[2 * i + 1])
            if self._others.get(room) != count:
                self._others[room] = count
                if self._sink is not None:
                    self._sink.presence_moved(room)

    def _fail_waiting(self) -> None:
        for r in (*self._inflight, *self._waiting):
            if not r.answer.done():
                r.answer.set_exception(SharedCountsUnavailableError(f"the counts in {self.url} are unreachable"))
        self._inflight = []
        self._waiting.clear()

    def _lost(self, error: Exception | None) -> None:
        if self._up and error is not None:
            log.warning("counts: Redis at %s does not answer (%s): sockets are admitted on this node's own "
                        "counts until it does", self.url, error)
        self._up = False
        self._whole = True
        self._fail_waiting()

    # -- heartbeat and notices -----------------------------------------------------------------

    async def _tick(self) -> None:
        """Renew this node's deadline and read every shown room again, every heartbeat_s; while
        Redis is away, try it with backoff."""
        delay = RETRY_FIRST_S
        while True:
            if self._up:
                await asyncio.sleep(self.heartbeat_s)
                self._beat = True
                self._stale |= self._shown
                self._wake.set()
                continue
            try:
                await self._redis.ping()
            except (RedisError, OSError):
                await asyncio.sleep(delay)
                delay = min(2 * delay, RETRY_MAX_S)
                continue
            log.info("counts: Redis at %s answers again: this node's counts are written whole", self.url)
            delay = RETRY_FIRST_S
            self._up = True
            self._whole = True
            self._stale |= self._shown
            self._wake.set()

    async def _listen(self) -> None:
        """Hear the other nodes' notices: their rooms that are shown here are read again."""
        delay = RETRY_FIRST_S
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(NOTICE)
                self._stale |= self._shown  # what was said while not subscribed
                self._wake.set()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.heartbeat_s)
                    if message is None:
                        await pubsub.ping()  # a silent subscription that is gone raises here
                        continue
                    delay = RETRY_FIRST_S
                    if message.get("type") == "message":
                        self._notice(message["data"])
            except (RedisError, OSError):
                pass  # the sender's own failure says so once
            finally:
                try:
                    await asyncio.wait_for(pubsub.aclose(), 1.0)  # type: ignore[no-untyped-call]
                except (RedisError, OSError, asyncio.TimeoutError):
                    pass
            await asyncio.sleep(delay)
            delay = min(2 * delay, RETRY_MAX_S)

    def _notice(self, data: bytes) -> None:
        node, *rooms = data.decode().split(" ")
        if node == self.node:
            return
        due = self._shown if "*" in rooms else self._shown.intersection(rooms)
        if due:
            self._stale |= due
            self._wake.set()
