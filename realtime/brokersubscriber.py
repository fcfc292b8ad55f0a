"""BrokerSubscriber: the broker's receiving side, the rooms this node carries for its hub.

Every node subscribes to the rooms it has members in (one subscription, pinged when idle). A
frame goes to the hub's local fan-out when its seq is the next one; a duplicate is dropped; a
gap is filled from the stream, else (trimmed, expired) from the MongoDB log for a match room,
while a tournament room is renumbered: its members take a fresh snapshot (recovered: false),
never a partial catch-up. After a lost connection the subscription is made again with backoff
and every room catches up the same way before it delivers a live frame again. Apart from the
publisher because a room's order is decided in Redis, by the publish script: this side takes
what comes in that order, and asks the publisher (`lag`) for a committed event nobody published.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
from collections.abc import Coroutine
from typing import Any

from redis.exceptions import RedisError

from realtime.brokerlink import RETRY_FIRST_S, RETRY_MAX_S, BrokerLink, BrokerUnavailableError
from realtime.brokerpublisher import BrokerPublisher
from realtime.brokerscripts import channel_of, event_frame
from realtime.frames import Frame
from realtime.hub import Hub
from tournament.store import StorageError

log = logging.getLogger(__name__)

BACKLOG_MAX = 10_000  # frames of one room held while it catches up; past it, read again from the stream
REPLAY_LIMIT = 1000  # frames read at a time; a match room further behind renumbers (fresh snapshots)
CATCH_UP_S = 1.0  # how long a committed seq may stay unseen before it is fetched and published again
PING_INTERVAL_S = 5.0  # the subscription is pinged when idle this long; silent for 3, it is lost
ATTACH_TIMEOUT_S = 2.0  # a socket waits this long for a room this node does not carry yet


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


class BrokerSubscriber:
    """The subscription and the rooms on it, for the hub (the Broker's `attach`, `detach`,
    `history`, `expect`). `listen()` keeps the subscription until cancelled."""

    def __init__(self, link: BrokerLink, publisher: BrokerPublisher, *, backlog_max: int = BACKLOG_MAX,
                 replay_limit: int = REPLAY_LIMIT, catch_up_s: float = CATCH_UP_S,
                 ping_interval_s: float = PING_INTERVAL_S, attach_timeout_s: float = ATTACH_TIMEOUT_S) -> None:
        self._link = link
        self._publisher = publisher
        self._backlog_max = backlog_max
        self._replay_limit = replay_limit
        self._catch_up_s = catch_up_s
        self._ping_interval_s = ping_interval_s
        self._attach_timeout_s = attach_timeout_s
        self._control = channel_of(f"node:{link.node}").encode()  # keeps the subscription open
        self._rooms: dict[str, Room] = {}
        self._by_channel: dict[bytes, Room] = {}
        self._pending_subs: collections.Counter[bytes] = collections.Counter()
        self._generation = 0
        self._pubsub: Any = None
        self._send_lock = asyncio.Lock()  # subscribes and unsubscribes go out in the order asked
        self._spawned: set[asyncio.Task[None]] = set()
        self._down_since: float | None = None

    @property
    def spawned(self) -> tuple[asyncio.Task[None], ...]:
        """The tasks it started that have not ended (catch-ups, waits, unsubscribes)."""
        return tuple(self._spawned)

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
            if self._link.connected.is_set():
                self._subscribe([room])
        if room.ready.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(room.ready), self._attach_timeout_s)
        except asyncio.TimeoutError:
            raise BrokerUnavailableError(f"the broker {self._link.url} does not answer") from None

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
        if self._link.connected.is_set():
            self._spawn(self._unsubscribe(channel))

    async def history(self, key: str, since: int, latest: int, epoch: str) -> list[Frame] | None:
        """The frames after `since` up to `latest` from the room's stream, or None when it does
        not hold them all (or holds another epoch's numbering)."""
        if (latest - since > self._replay_limit or not self._link.connected.is_set()
                or not key.startswith(("match:", "tournament:"))):
            return None
        try:
            found, _, frames = await self._link.read(key, since + 1, latest, latest - since)
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
            self._publisher.lag(room.key.partition(":")[2], room.delivered + 1, room.expected)

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

    async def listen(self) -> None:
        """Keep one subscription, reconnecting with backoff; every (re)connection subscribes
        every room again and catches each up before its live frames."""
        loop = asyncio.get_running_loop()
        delay = RETRY_FIRST_S
        while True:
            self._pubsub = pubsub = self._link.redis.pubsub()
            try:
                info = await self._link.redis.info("server")
                self._link.run_id = str(info["run_id"])
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
                self._link.connected.clear()
                if self._down_since is None:
                    self._down_since = loop.time()
                    log.warning("broker %s unreachable (%s): reconnecting with backoff; rooms catch up "
                                "once it is back", self._link.url, e)
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
                self._link.connected.set()
                if self._down_since is not None:
                    log.info("broker %s reachable again after %.1f s", self._link.url,
                             asyncio.get_running_loop().time() - self._down_since)
                    self._down_since = None
                    self._link.stats.reconnects += 1
                late = [r for r in self._rooms.values() if r.generation != self._generation]
                if late:  # attached while this connection was being made
                    self._subscribe(late)
                self._publisher.wake()
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
                self._link.stats.duplicates_dropped += 1
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
        self._link.stats.delivered += 1
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
                    committed = await self._link.committed(room.key.partition(":")[2])
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
                self._link.stats.duplicates_dropped += 1
            elif message.seq == room.delivered + 1:
                self._deliver(room, message.seq, message.text)
            else:
                room.backlog.appendleft(message)
                return False
        return True

    async def _number(self, room: Room) -> None:
        """A room just attached: where its numbering stands (frames after it arrive live)."""
        epoch, top, _ = await self._link.read(room.key, 0, 0, 0)
        if room.tournament:
            room.epoch, room.delivered = epoch, top
        elif top >= 0:
            room.delivered = top
        else:  # no stream (expired, or Redis lost it): the store says where the match is
            room.delivered = await self._link.committed(room.key.partition(":")[2])
        room.sink.renumber(room.key, room.epoch, room.delivered, resync=False)

    async def _fill(self, room: Room) -> None:
        """Deliver every frame after `delivered` the stream holds, else (a match room) the log's;
        a room that cannot be caught up so is renumbered: its members take a fresh snapshot."""
        while True:
            assert room.delivered is not None
            after = room.delivered
            epoch, top, frames = await self._link.read(room.key, after + 1, 0, self._replay_limit)
            if room.tournament and epoch != room.epoch:
                self._renumber(room, epoch, top)
                return
            if top <= after:
                return
            if frames and frames[0].seq == after + 1:
                for frame in frames:
                    self._deliver(room, frame.seq or 0, frame.text)
                self._link.stats.filled_from_stream += len(frames)
                continue
            if room.tournament:  # trimmed or expired: no numbering left to catch up with
                self._renumber(room, epoch, top)
                return
            events = await self._link.log(room.key.partition(":")[2], after, self._replay_limit)
            if not events or events[0].seq != after + 1 or len(events) >= self._replay_limit:
                self._renumber(room, None, top)  # too far behind: a fresh snapshot is better
                return
            for event in events:
                self._deliver(room, event.seq, event_frame(event))
            self._link.stats.filled_from_log += len(events)

    def _renumber(self, room: Room, epoch: str | None, seq: int) -> None:
        log.info("broker: %s renumbered (%s, %d): its members take a fresh snapshot", room.key, epoch, seq)
        room.epoch, room.delivered = epoch, max(seq, 0)
        self._link.stats.renumbered += 1
        room.sink.renumber(room.key, epoch, room.delivered, resync=True)
