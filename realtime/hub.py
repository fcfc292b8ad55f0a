"""Hub: rooms of connections, fan-out, recent history for recovery, and presence.

The hub is the live Publisher: each persisted match event goes to the match's room (with the
match's sequence number) and to its tournament's room (with the tournament's own sequence).
A broadcast serializes the frame once and hands it to every member without awaiting any of
them; a connection applies its own output bound. Nothing here knows Tornado.

With a Broker (many nodes, realtime/broker.py) `publish` hands each event to it instead, and
the local fan-out happens when the broker delivers the event back (`deliver`), in the broker's
order, on every node alike; `ready`, `renumber` and the history step of `missed` are its seam.
With a Census (realtime/counters.py) `watchers` and `presence` add the other nodes' part of a
room to this node's own, and the census hears of every change here (`Census.changed`).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from realtime import protocol
from realtime.frames import Frame
from tournament.events import MATCH_ROOM_ONLY, SCORE_UPDATED
from tournament.models import Event
from tournament.scheduler import Scheduler

log = logging.getLogger(__name__)

HISTORY_FRAMES = 512  # recent events kept per room for ?since= recovery
HISTORY_ROOMS = 1024  # rooms whose history is kept once empty (least recently used go)
ROOM_IDLE_S = 600.0  # an empty room unused this long is forgotten when a new room is made
PRESENCE_INTERVAL_S = 1.0
REPLAY_LIMIT = 1000  # events replayed from the stored log at most; further behind gets a snapshot
# A tournament room's live scores within one window go out as one `scores_updated` frame: the
# latest of each match that changed (docs/protocol.md#tournament-rooms). Its traffic then grows
# with the windows, not with the matches in play times their update rate.
SCORES_UPDATED = "scores_updated"


def score_change(event: Event) -> dict[str, Any]:
    """A `score_updated` as a tournament room's `scores_updated` lists it: what the score changed
    (`scores`, in a series `game`, and the match's `version`, `updated_at` and `match_seq`), not
    the match's whole snapshot, which the room holds already: 32 live matches' snapshots in every
    frame were 25 KB a frame, sent to each of the room's sockets."""
    change = {k: v for k, v in event.data.items() if k not in ("match", "tournament_id")}
    match = event.data.get("match")
    if isinstance(match, dict):
        change["version"], change["updated_at"] = match.get("version"), match.get("updated_at")
    change["match_seq"] = event.seq
    return change


class Connection(Protocol):
    """What the hub needs of a socket."""

    def send(self, frame: Frame) -> None:
        """Queue a frame without blocking; a connection over its bound closes itself."""

    def close(self, code: int, reason: str) -> None: ...


class Broker(Protocol):
    """What the hub needs of a broker that carries rooms between nodes (realtime/broker.py)."""

    def publish(self, event: Event) -> None:
        """Take a persisted event; it comes back through `Hub.deliver`. Never raises."""

    async def attach(self, key: str, sink: Hub) -> None:
        """Carry the room for `sink`: subscribed and numbered (`Hub.renumber`). Raises
        StorageUnavailableError when that cannot be done now."""

    def detach(self, key: str) -> None: ...

    async def history(self, key: str, since: int, latest: int, epoch: str) -> list[Frame] | None:
        """The room's frames after `since` up to `latest`, or None when not all are kept."""

    def expect(self, key: str, seq: int) -> None:
        """A snapshot showed `seq` committed: make sure it reaches the room."""


@dataclasses.dataclass(frozen=True)
class Headcount:
    """The other nodes' part of a room's presence, as the census last read it."""

    watchers: int = 0
    participants: frozenset[str] = frozenset()  # a match room's players with a socket there
    spectators: int = 0
    online: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)  # a tournament room's


class Census(Protocol):
    """What the hub needs of the counts other nodes keep (realtime/counters.py)."""

    def changed(self, key: str, sink: Hub) -> None:
        """This node's presence in room `key` changed (a join, an identification, a leave). The
        census reads the other nodes' part of rooms with members here, and calls
        `sink.presence_moved(key)` when it moved. Never raises."""

    def others(self, key: str) -> Headcount | None:
        """The other nodes' part of room `key` as last read (None: nothing known)."""


class Member:
    """A connection in a room, with the last sequence number it was sent."""

    __slots__ = ("conn", "last_seq", "held", "who", "resync", "generation")

    def __init__(self, conn: Connection, resync: Callable[[], None] | None = None) -> None:
        self.conn = conn
        self.last_seq = 0
        self.held: list[Frame] | None = []  # frames held back while the member catches up
        self.who: str | None = None  # the participant this socket is, in its match's room
        self.resync = resync  # takes a fresh snapshot (its room was renumbered)
        self.generation = 0  # how many times its room was renumbered under it

    def deliver(self, frame: Frame) -> None:
        if self.held is not None:
            self.held.append(frame)
        elif frame.seq is None or frame.seq > self.last_seq:
            self.conn.send(frame)
            if frame.seq is not None:
                self.last_seq = frame.seq

    def release(self) -> None:
        """Send what arrived while catching up (nothing already sent), then go live."""
        held, self.held = self.held or [], None
        for frame in held:
            self.deliver(frame)


@dataclasses.dataclass
class Room:
    key: str
    history: collections.deque[Frame]  # the last frames broadcast, for recovery
    # Names this room's in-memory numbering: a room forgotten and made again numbers from 1
    # under a new epoch, so nobody is caught up across the two.
    epoch: str = dataclasses.field(default_factory=lambda: secrets.token_hex(4))
    members: set[Member] = dataclasses.field(default_factory=set)
    seq: int = 0  # the latest sequence number broadcast here
    used: float = 0.0  # when the room was last used (the hub's clock)
    presence_timer: object | None = None
    parent: str | None = None  # a match room's tournament room, whose presence counts its players
    # a tournament room's scores waiting for its window to end: the latest event of each match
    scores: dict[str, Event] = dataclasses.field(default_factory=dict)
    scores_timer: object | None = None

    def since(self, seq: int, latest: int) -> list[Frame] | None:
        """The kept frames after `seq`, or None if some of those up to `latest` are not kept."""
        if seq >= latest:
            return []
        if not self.history or (self.history[0].seq or 0) > seq + 1:
            return None
        return [f for f in self.history if (f.seq or 0) > seq]


@dataclasses.dataclass
class HubStats:
    broadcasts: int = 0
    frames_out: int = 0
    frames_in: int = 0  # counted by the socket handlers
    replayed: int = 0
    recoveries_refused: int = 0
    fanout_seconds: float = 0.0  # time spent handing broadcasts to members, in all


Persisted = Callable[[int, int], Awaitable[list[Event]]]  # (since, limit) -> stored events


def match_room(match_id: str) -> str:
    return f"match:{match_id}"


def tournament_room(tournament_id: str) -> str:
    return f"tournament:{tournament_id}"


def rooms_of(event: Event) -> tuple[str | None, str | None]:
    """The match room and the tournament room that announce `event` (None: none of that kind)."""
    kind, _, ident = event.stream.partition(":")
    if kind == "match":
        tournament_id = event.data.get("tournament_id")
        if tournament_id and event.type not in MATCH_ROOM_ONLY:
            return match_room(ident), tournament_room(str(tournament_id))
        return match_room(ident), None
    return (None, event.stream) if kind == "tournament" else (None, None)


class Hub:
    """Rooms keyed `match:<id>` and `tournament:<id>`, kept least recently used first.

    Empty rooms are forgotten when a new room is made and they have been idle `room_idle_s`,
    or there are more than `history_rooms`: memory does not grow with the tournaments a
    server has seen. A forgotten match room recovers from the stored log; a tournament room,
    numbered in memory, comes back under a new epoch (clients then take a fresh snapshot).
    """

    def __init__(self, scheduler: Scheduler, presence_interval_s: float = PRESENCE_INTERVAL_S,
                 history_frames: int = HISTORY_FRAMES, history_rooms: int = HISTORY_ROOMS,
                 replay_limit: int = REPLAY_LIMIT, room_idle_s: float = ROOM_IDLE_S,
                 clock: Callable[[], float] = time.monotonic, broker: Broker | None = None,
                 census: Census | None = None,
                 scores_window_s: float = 0.0) -> None:
        self._scheduler = scheduler
        self._scores_window_s = scores_window_s  # 0: every score is its own tournament-room frame
        self._presence_interval_s = presence_interval_s
        self._history_frames = history_frames
        self._history_rooms = history_rooms
        self._replay_limit = replay_limit
        self._room_idle_s = room_idle_s
        self._clock = clock
        self._broker = broker
        self._census = census
        self._rooms: collections.OrderedDict[str, Room] = collections.OrderedDict()
        self._children: dict[str, set[str]] = {}  # a tournament room -> its match rooms with players in
        self.stats = HubStats()

    def room(self, key: str) -> Room:
        now = self._clock()
        room = self._rooms.get(key)
        if room is None:
            self._forget_idle_rooms(now)
            room = self._rooms[key] = Room(key, collections.deque(maxlen=self._history_frames))
        else:
            self._rooms.move_to_end(key)
        room.used = now
        return room

    def __len__(self) -> int:
        """How many rooms are kept."""
        return len(self._rooms)

    def __contains__(self, key: object) -> bool:
        return key in self._rooms

    def watchers(self, key: str) -> int:
        """The room's sockets: this node's, and with a census the other nodes' as last read."""
        others = self._census.others(key) if self._census is not None else None
        return self.members_here(key) + (others.watchers if others is not None else 0)

    def members_here(self, key: str) -> int:
        """The room's sockets on this node."""
        room = self._rooms.get(key)
        return len(room.members) if room else 0

    def publish(self, event: Event) -> None:
        """Fan a persisted event out (the Publisher interface), or hand it to the broker. Never raises."""
        if self._broker is not None:
            self._broker.publish(event)
            return
        try:
            match_key, tournament_key = rooms_of(event)
            data, ts = event.data, int(event.ts * 1000)
            if match_key is not None:
                room = self.room(match_key)
                room.seq = max(room.seq, event.seq)
                self._broadcast(room, Frame(protocol.frame(event.type, data, seq=event.seq, ts=ts), event.seq))
            if tournament_key is not None and match_key is not None and event.type == SCORE_UPDATED \
                    and self._scores_window_s > 0:
                self._coalesce_score(tournament_key, event)
            elif tournament_key is not None and match_key is not None:
                self.broadcast_event(tournament_key, event.type, data, ts, match_seq=event.seq)
            elif tournament_key is not None:
                self.broadcast_event(tournament_key, event.type, data, ts)
        except Exception:  # a bug here must not fail the write that was already stored
            log.exception("could not publish %s %s", event.stream, event.type)

    def broadcast_event(self, key: str, kind: str, data: dict[str, Any], ts: int, **extra: Any) -> None:
        """Number an event with the room's next sequence number and send it to the room (after
        the room's waiting scores: a match's final score is always before its completion)."""
        room = self.room(key)
        self._send_scores(room)
        room.seq += 1
        self._broadcast(room, Frame(protocol.frame(kind, data, seq=room.seq, ts=ts, **extra), room.seq))

    def _coalesce_score(self, key: str, event: Event) -> None:
        """Keep a match's latest score for its tournament room until the window ends."""
        room = self.room(key)
        room.scores.pop(event.stream, None)  # re-inserted: the frame lists matches by latest change
        room.scores[event.stream] = event
        if room.scores_timer is None:
            room.scores_timer = self._scheduler.call_later(self._scores_window_s,
                                                           functools.partial(self._scores_due, key))

    def _scores_due(self, key: str) -> None:
        room = self._rooms.get(key)
        if room is not None:
            room.scores_timer = None
            self._send_scores(room)

    def _send_scores(self, room: Room) -> None:
        """The room's waiting scores as one `scores_updated` frame, numbered as any event."""
        if room.scores_timer is not None:
            self._scheduler.remove_timeout(room.scores_timer)
            room.scores_timer = None
        if not room.scores:
            return
        events = list(room.scores.values())
        room.scores.clear()
        room.seq += 1
        data = {"tournament_id": events[0].data.get("tournament_id"), "updates": [score_change(e) for e in events]}
        text = protocol.frame(SCORES_UPDATED, data, seq=room.seq, ts=int(events[-1].ts * 1000))
        self._broadcast(room, Frame(text, room.seq))

    def flush_scores(self) -> None:
        """Send every tournament room's waiting scores now: once a window's batches are written
        (the ScoreBatcher's `written`, so the frame follows the window's scores at once; the
        room's own timer is then only a bound), and before a shutdown closes the sockets."""
        for room in list(self._rooms.values()):
            self._send_scores(room)

    async def ready(self, key: str) -> None:
        """Before a member reads its snapshot: with a broker, the room is carried here and
        numbered as the broker numbers it. Raises StorageUnavailableError."""
        if self._broker is not None:
            await self._broker.attach(key, self)

    def deliver(self, key: str, frame: Frame) -> None:
        """The broker's next frame of a room carried here: to its members."""
        room = self._rooms.get(key)
        if room is not None:
            room.seq = frame.seq or room.seq
            self._broadcast(room, frame)

    def renumber(self, key: str, epoch: str | None, seq: int, *, resync: bool) -> None:
        """The broker's numbering of a room from now on (its kept history no longer follows on).
        With `resync`, what came before could not be caught up: every member takes a fresh
        snapshot (recovered: false), its frames held until then."""
        room = self._rooms.get(key)
        if room is None:
            return
        room.history.clear()
        room.seq = seq
        if epoch is not None:
            room.epoch = epoch
        for member in list(room.members) if resync else ():
            member.generation += 1
            member.held = []
            if member.resync is not None:
                member.resync()
            else:
                member.conn.close(protocol.CloseCode.INTERNAL_ERROR, "resync")

    def _broadcast(self, room: Room, frame: Frame) -> None:
        room.history.append(frame)
        started = time.perf_counter()
        for member in list(room.members):
            member.deliver(frame)
        stats = self.stats
        stats.fanout_seconds += time.perf_counter() - started
        stats.broadcasts += 1
        stats.frames_out += len(room.members)

    def join(self, key: str, conn: Connection, resync: Callable[[], None] | None = None) -> Member:
        """Add a connection to a room, holding its frames until `resume` releases them.
        `resync` takes it a fresh snapshot when a broker renumbers the room."""
        member = Member(conn, resync)
        self.room(key).members.add(member)
        self._presence_changed(key)
        return member

    def identify(self, key: str, member: Member, who: str | None, parent: str | None) -> None:
        """Say which participant a member of a match room is (None: a spectator or an
        organizer), and the tournament room that shows who of its players is online."""
        room = self.room(key)
        member.who = who
        if parent is not None and room.parent is None:
            room.parent = parent
            self._children.setdefault(parent, set()).add(key)
        self._presence_changed(key)

    def leave(self, key: str, member: Member) -> None:
        room = self._rooms.get(key)
        if room and member in room.members:
            room.members.discard(member)
            self._presence_changed(key)
            if self._broker is not None and not room.members:
                self._broker.detach(key)

    async def missed(self, key: str, snapshot_seq: int, since: int | None,
                     persisted: Persisted | None) -> list[Frame] | None:
        """Every frame after `since` that a member joining now would otherwise miss, in order,
        from memory or else from `persisted`; None when that is impossible (then the member
        starts from its fresh snapshot: never a partial catch-up)."""
        room = self.room(key)
        if self._broker is not None and snapshot_seq > room.seq:
            self._broker.expect(key, snapshot_seq)  # committed, not delivered here yet
        replay = await self._replay(room, snapshot_seq, since, persisted)
        if replay is None and since is not None:
            self.stats.recoveries_refused += 1
        return replay

    def resume(self, member: Member, replay: list[Frame] | None, since: int | None,
               snapshot_seq: int, generation: int | None = None) -> None:
        """Send `replay` (from `missed`), then release the member to live frames, unless its
        room was renumbered since its snapshot was read at `generation` (its fresh one follows)."""
        if replay is None:
            member.last_seq = snapshot_seq
        else:
            member.last_seq = since or 0
            for frame in replay:
                member.conn.send(frame)
                member.last_seq = max(member.last_seq, frame.seq or 0)
            self.stats.replayed += len(replay)
        if generation is None or generation == member.generation:
            member.release()

    async def _replay(self, room: Room, snapshot_seq: int, since: int | None,
                      persisted: Persisted | None) -> list[Frame] | None:
        """What the member missed, or None. Frames published after the member joined are
        held for it, so only what was published before has to come from here."""
        latest = max(snapshot_seq, room.seq)
        if since is not None and since > latest and self._broker is not None:
            # another node sent it frames this one has not had yet: real if the broker holds them
            ahead = await self._broker.history(room.key, latest, since, room.epoch)
            return None if ahead is None else []
        if since is None or since > latest:
            return None
        kept = room.since(since, latest)
        if kept is not None:
            return kept
        if self._broker is not None:
            kept = await self._broker.history(room.key, since, latest, room.epoch)
            if kept is not None:
                return kept
        if persisted is None:
            return None
        events = await persisted(since, self._replay_limit)
        if not events or events[0].seq != since + 1 or len(events) >= self._replay_limit:
            return None  # missing or gapped in the log, or so far behind a snapshot is better
        return [self._event_frame(e) for e in events]

    @staticmethod
    def _event_frame(event: Event) -> Frame:
        return Frame(protocol.frame(event.type, event.data, seq=event.seq, ts=int(event.ts * 1000)), event.seq)

    def notify(self, key: str, frame: Frame) -> None:
        """Send an unnumbered frame (a typing indicator) to the members of one room."""
        room = self._rooms.get(key)
        for member in list(room.members) if room else ():
            member.deliver(frame)

    def broadcast_all(self, frame: Frame) -> None:
        """Send an unnumbered frame (a server notice) to every connection."""
        for room in self._rooms.values():
            for member in list(room.members):
                member.deliver(frame)

    def connections(self) -> dict[str, int]:
        """Open connections by room kind (`match`, `tournament`)."""
        counts: dict[str, int] = collections.Counter()
        for key, room in self._rooms.items():
            counts[key.partition(":")[0]] += len(room.members)
        return dict(counts)

    def close_all(self, code: int, reason: str) -> int:
        """Close every connection (server shutdown), each room's waiting scores sent first;
        returns how many."""
        self.flush_scores()
        count = 0
        for room in self._rooms.values():
            for member in list(room.members):
                member.conn.close(code, reason)
                count += 1
            room.members.clear()
            if room.presence_timer is not None:
                self._scheduler.remove_timeout(room.presence_timer)
                room.presence_timer = None
        return count

    def _presence_changed(self, key: str) -> None:
        """Tell the room (and its tournament room) who watches, at most once per interval, and
        the census, which tells the other nodes."""
        parent = self._rooms[key].parent
        if self._census is not None:
            self._census.changed(key, self)
            if parent is not None:
                self._census.changed(parent, self)
        self.presence_moved(key)
        if parent is not None:
            self.presence_moved(parent)

    def presence_moved(self, key: str) -> None:
        """The room's presence changed (here, or on another node as the census read it): its
        members get a presence frame within the interval, one for every change in it."""
        room = self._rooms.get(key)
        if room is not None and room.presence_timer is None:
            room.presence_timer = self._scheduler.call_later(self._presence_interval_s,
                                                             functools.partial(self._send_presence, room.key))

    def presence(self, key: str) -> dict[str, Any]:
        """A room's presence (`presence_here`), with a census the other nodes' part added:
        their watchers and spectators summed, their players joined."""
        data = self.presence_here(key)
        others = self._census.others(key) if self._census is not None else None
        if others is None:
            return data
        data["watchers"] += others.watchers
        if "participants" in data:
            data["participants"] = sorted({*data["participants"], *others.participants})
            data["spectators"] += others.spectators
        elif "online" in data:
            online = {match: set(players) for match, players in data["online"].items()}
            for match, players in others.online.items():
                online.setdefault(match, set()).update(players)
            data["online"] = {match: sorted(online[match]) for match in sorted(online)}
        return data

    def presence_here(self, key: str) -> dict[str, Any]:
        """A room's presence on this node: how many watch; in a match room which of its
        participants are connected and how many others (spectators and organizers); in a
        tournament room, per match, its participants connected to the match's room."""
        room = self._rooms.get(key)
        members = room.members if room else set()
        data: dict[str, Any] = {"room": key, "watchers": len(members)}
        if key.startswith("match:"):
            players = {m.who for m in members if m.who}
            data.update(participants=sorted(players), spectators=sum(1 for m in members if not m.who))
        elif key.startswith("tournament:"):
            online = {}
            for child in sorted(self._children.get(key, ())):
                players = {m.who for m in self._rooms[child].members if m.who} if child in self._rooms else set()
                if players:
                    online[child.partition(":")[2]] = sorted(players)
            data["online"] = online
        return data

    def _send_presence(self, key: str) -> None:
        room = self._rooms.get(key)
        if room is None:
            return
        room.presence_timer = None
        frame = Frame(protocol.frame("presence", self.presence(key)))
        for member in list(room.members):
            member.deliver(frame)

    def _forget_idle_rooms(self, now: float) -> None:
        """Before a new room: forget the empty rooms idle `room_idle_s`, and the least recently
        used empty ones past `history_rooms`. Only the idle front of the order is looked at."""
        excess = len(self._rooms) - self._history_rooms + 1
        cutoff = now - self._room_idle_s
        doomed = []
        for key, room in self._rooms.items():
            if room.used > cutoff and excess <= 0:
                break  # the rest were used more recently
            if not room.members:
                doomed.append(key)
                excess -= 1
        for key in doomed:
            parent = self._rooms.pop(key).parent
            if parent is not None:
                self._children.get(parent, set()).discard(key)
            self._children.pop(key, None)
