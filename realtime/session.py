"""SocketSession: one socket's protocol, without I/O: admission, subscription, client frames.

The Tornado handler forwards `open`, each message and the close to its session; the session
answers through a Transport (send a frame, close with a code). It admits the socket (id,
origin, token, limits), subscribes it to its room (welcome, replay of what it missed, then
live frames), turns each client frame into a command of the one command table and its
result or failure (one describer) into an ack or an error frame, and on close releases
everything it took. Every failure on the way in releases what was taken and refuses with
one error frame then a close (docs/protocol.md#connecting).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from realtime import protocol
from realtime.errors import ApiError, describe, is_expected
from realtime.frames import Frame
from realtime.heartbeat import Heartbeat
from realtime.hub import Connection, Hub, Member, match_room, tournament_room
from realtime.limits import Limits, OnePerTurn, SharedCountsUnavailableError, TokenBucket, client_ip, retry_after_ms
from realtime.lobby import LOBBY_ROOM, Lobby
from realtime.protocol import ClientMessage, CloseCode, ErrorCode, ProtocolError
from tournament import fields, rules
from tournament.commands import BY_SOCKET
from tournament.chat import ChatService
from tournament.errors import DomainError, ForbiddenError
from tournament.links import LinkService
from tournament.matches import MatchService
from tournament.models import IN_PLAY, Event, Match, Tournament
from tournament.roles import Principal, Role
from tournament.store import NotFoundError, StorageError
from tournament.tokens import AuthError, TokenCodec
from tournament.tournaments import TournamentService

log = logging.getLogger(__name__)

ROUTE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


class Transport(Connection, Protocol):
    """A socket as the session sees it: the hub's Connection, and a way past its output bound."""

    def unbounded(self) -> contextlib.AbstractContextManager[None]:
        """Within this block, frames may exceed the output bound (a welcome and its replay,
        bounded by REPLAY_LIMIT, are written at once)."""


@dataclasses.dataclass(frozen=True)
class Handshake:
    """What the socket's HTTP upgrade said."""

    room_id: str
    query: Mapping[str, str]  # the first value of each query argument
    origin: str | None
    host: str  # the Host header
    peer: str  # the TCP peer's address
    forwarded_for: str | None


@dataclasses.dataclass(frozen=True)
class SessionSettings:
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_frame_bytes: int = 16 * 1024
    heartbeat_interval_s: float = 25.0
    flood_limit: int = 40  # frames dropped in a row before the socket is closed (4029)
    chat_rate_per_socket: float = 1.0  # chat messages a second, in bursts of chat_burst_per_socket
    chat_burst_per_socket: int = 5
    typing_interval_s: float = 2.0  # a socket's typing indicators are passed on at most this often


class Room(Protocol):
    """What differs between match and tournament sockets."""

    kind: str  # "match" | "tournament"
    capped: bool  # its watchers are bounded by tournament_room_max

    def key(self, room_id: str) -> str: ...

    async def snapshot(self, room_id: str, user: Principal, hub: Hub) -> tuple[int, dict[str, Any], str]:
        """(the seq it reflects, the welcome's fields, the epoch). Raises NotFoundError."""

    def identity(self, user: Principal, snapshot: dict[str, Any]) -> tuple[str | None, str | None]:
        """For presence: which participant `user` is here (None: none), and the room whose
        presence shows this room's participants (None: none)."""

    async def persisted(self, room_id: str, since: int, limit: int) -> list[Event]:
        """At most `limit` stored events after `since` ([] when the room keeps none)."""

    async def command_match_id(self, room_id: str, data: dict[str, Any]) -> str:
        """The match a command frame acts on. Raises ProtocolError, SchemaError."""


class MatchRoom:
    kind = "match"
    capped = False

    def __init__(self, matches: MatchService, chat: ChatService) -> None:
        self._matches = matches
        self._chat = chat

    def key(self, room_id: str) -> str:
        return match_room(room_id)

    async def snapshot(self, room_id: str, user: Principal, hub: Hub) -> tuple[int, dict[str, Any], str]:
        match = await self._matches.get(room_id)
        fields = {"match_id": match.id, "tournament_id": match.tournament_id,
                  "is_participant": rules.Actor.PARTICIPANT in rules.actors_of(match, user),
                  "match": match.to_json(), "chat": match.chat.to_json(),
                  "can_chat": await self._chat.may_write(match, user)}
        # A match's events are numbered in the store, so its epoch is the match itself.
        return match.seq, fields, f"m{int(match.created_at * 1000):x}"

    def identity(self, user: Principal, snapshot: dict[str, Any]) -> tuple[str | None, str | None]:
        # a team member shows their team present
        return (user.participant_id if snapshot["is_participant"] else None), tournament_room(snapshot["tournament_id"])

    async def persisted(self, room_id: str, since: int, limit: int) -> list[Event]:
        return await self._matches.events(room_id, since, limit)

    async def command_match_id(self, room_id: str, data: dict[str, Any]) -> str:
        return room_id


SNAPSHOT_SHARED_S = 1.0  # how long a tournament room's snapshot read serves the sockets joining at its seq


class TournamentRoom:
    """A tournament's welcome carries its participants and matches; past `max_matches`
    matches, only those in play, with `matches_complete: false` (the page reads the rest
    over REST), so a welcome never grows with the bracket."""

    kind = "tournament"
    capped = True

    def __init__(self, tournaments: TournamentService, matches: MatchService, max_matches: int = 512,
                 queue: Callable[[Tournament, list[Match]], dict[str, Any] | None] = lambda t, m: None) -> None:
        self._tournaments = tournaments
        self._matches = matches
        self._max_matches = max_matches
        self._queue = queue  # the call queue a welcome carries (StationService.welcome_queue)
        # the read shared by the sockets joining at one (epoch, seq), by room key
        self._shared: dict[str, tuple[tuple[str, int], asyncio.Future[protocol.Serialized]]] = {}

    def key(self, room_id: str) -> str:
        return tournament_room(room_id)

    async def snapshot(self, room_id: str, user: Principal, hub: Hub) -> tuple[int, dict[str, Any], str]:
        """The room's fields at its current seq. The sockets that join at one seq and epoch
        within SNAPSHOT_SHARED_S share one read and one serialization (a reconnect storm is
        thousands of them); the events after that seq are held for each member as always, so a
        shared snapshot is as consistent as its own would be."""
        room = hub.room(self.key(room_id))
        seq, epoch = room.seq, room.epoch  # events after this are held for the member
        shared = self._shared.get(room.key)
        if shared is None or shared[0] != (epoch, seq):
            read = asyncio.ensure_future(self._read(room_id))
            self._shared[room.key] = shared = ((epoch, seq), read)
            asyncio.get_running_loop().call_later(SNAPSHOT_SHARED_S, self._forget, room.key, read)
            read.add_done_callback(lambda f: self._forget_failed(room.key, f))
        # shielded: a joiner that leaves (its socket closed) must not cancel the others' read
        return seq, await asyncio.shield(shared[1]), epoch

    def _forget(self, key: str, read: asyncio.Future[protocol.Serialized]) -> None:
        if key in self._shared and self._shared[key][1] is read:
            del self._shared[key]

    def _forget_failed(self, key: str, read: asyncio.Future[protocol.Serialized]) -> None:
        if not read.cancelled() and read.exception() is not None:  # the next joiner reads again
            self._forget(key, read)

    async def _read(self, room_id: str) -> protocol.Serialized:
        tournament = await self._tournaments.get(room_id)
        participants = await self._tournaments.list_participants(room_id)
        matches = await self._tournaments.list_matches(room_id)
        complete = len(matches) <= self._max_matches
        shown = matches if complete else [m for m in matches if m.state in IN_PLAY][:self._max_matches]
        return protocol.Serialized({
            "tournament_id": tournament.id, "tournament": tournament.to_json(),
            "participants": [p.to_json() for p in participants],
            "matches": [m.to_json() for m in shown], "matches_total": len(matches),
            "matches_complete": complete,
            # the call queue as queue_updated carries it (None: the tournament has no stations)
            "queue": self._queue(tournament, matches)})

    def identity(self, user: Principal, snapshot: dict[str, Any]) -> tuple[str | None, str | None]:
        return None, None

    async def persisted(self, room_id: str, since: int, limit: int) -> list[Event]:
        return []

    async def command_match_id(self, room_id: str, data: dict[str, Any]) -> str:
        """The `data.match_id` of a command, which must be a match of this tournament."""
        match_id = fields.identifier(data, "match_id") or ""
        if (await self._matches.get(match_id)).tournament_id != room_id:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"match {match_id} is not in this tournament")
        return match_id


class LobbyRoom:
    """The lobby (`/ws/lobby`): every tournament's summary, kept live by realtime/lobby.py.
    It takes no commands."""

    kind = "lobby"
    capped = True

    def __init__(self, lobby: Lobby, tournaments: TournamentService) -> None:
        self._lobby = lobby
        self._tournaments = tournaments

    def key(self, room_id: str) -> str:
        return LOBBY_ROOM

    async def snapshot(self, room_id: str, user: Principal, hub: Hub) -> tuple[int, dict[str, Any], str]:
        room = hub.room(LOBBY_ROOM)
        seq, epoch = room.seq, room.epoch  # announcements after this are held for the member
        return seq, {"tournaments": await self._lobby.summaries(self._tournaments)}, epoch

    def identity(self, user: Principal, snapshot: dict[str, Any]) -> tuple[str | None, str | None]:
        return None, None

    async def persisted(self, room_id: str, since: int, limit: int) -> list[Event]:
        return []

    async def command_match_id(self, room_id: str, data: dict[str, Any]) -> str:
        raise ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE_TYPE, "the lobby takes no commands")


@dataclasses.dataclass(frozen=True)
class SessionContext:
    """What every session shares (built once in the composition root)."""

    hub: Hub
    heartbeat: Heartbeat
    limits: Limits
    tokens: TokenCodec
    matches: MatchService
    chat: ChatService
    rooms: Mapping[str, Room]
    settings: SessionSettings
    links: LinkService
    clock: Callable[[], float] = time.time
    open_sessions: set[SocketSession] = dataclasses.field(default_factory=set)  # admitted, not yet closed
    admissions: OnePerTurn = dataclasses.field(default_factory=OnePerTurn)  # one socket admitted per loop turn

    def close_revoked(self, tournament_id: str) -> int:
        """Close (4503, token_revoked) every open socket of `tournament_id`'s event links that
        is no longer current; returns how many."""
        revoked = [s for s in self.open_sessions
                   if s.user is not None and s.user.tournament_id == tournament_id and not self.links.valid_now(s.user)]
        for session in revoked:
            session.refuse_now(Refusal(CloseCode.INVALID_TOKEN, ErrorCode.INVALID_TOKEN,
                                       "this link was revoked: ask the organizer for a new one",
                                       {"reason": "token_revoked"}))
        return len(revoked)


@dataclasses.dataclass
class Refusal(Exception):
    """Why a socket may not connect: its close code, error code, message and details."""

    close: CloseCode
    code: str
    message: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    cause: Exception | None = None  # the failure refused, for an HTTP edge to describe as REST does


class SocketSession:
    def __init__(self, context: SessionContext, transport: Transport, room: Room, handshake: Handshake) -> None:
        self._ctx = context
        self._transport = transport
        self._room = room
        self._handshake = handshake
        self._key = room.key(handshake.room_id)
        self.user: Principal | None = None
        self.ip = ""
        self._member: Member | None = None
        self.refusal: Refusal | None = None  # what the session was refused or closed with, if it was
        self.epoch: str | None = None  # the epoch of the numbering its last welcome belongs to
        self._counted = False  # in the connection counts (released once)
        self._reserved = False  # in the counts shared between nodes (released once)
        self._gone = False  # closed: an admission still awaiting must not join the room after it
        self._url_epoch: str | None = None  # the ?epoch= a subscribe without one falls back to
        self._refused_in_a_row = 0
        self._resyncing: asyncio.Future[None] | None = None  # held: a task nobody holds may be collected
        self._subscribing = asyncio.Lock()  # one snapshot at a time: open, a subscribe frame, a resync
        settings = context.settings
        self._chat_bucket = TokenBucket(settings.chat_rate_per_socket, settings.chat_burst_per_socket, context.clock())
        self._typed_at = -settings.typing_interval_s

    # -- connect -------------------------------------------------------------------------------

    async def open(self) -> None:
        """Admit and subscribe, or refuse (an error frame, then a close). Never raises."""
        try:
            await self._ctx.admissions.turn()
            if self._gone:  # the client left while it waited for its turn
                return
            since, epoch = self._admit()
            self._ctx.open_sessions.add(self)
            if self._ctx.limits.shared is not None:  # --broker: every node's counts too
                await self._reserve()
                if self._gone:  # the client left while the nodes' counts were asked
                    return
            await self._check_link()
            if self._gone:  # the client left while its link was checked: nothing to join
                return
            self._url_epoch = epoch
            self._member = self._ctx.hub.join(self._key, self._transport, self._resync)
            self._ctx.heartbeat.watch(self._transport)
            async with self._subscribing:
                await self._subscribe(since, epoch, "connection_established")
        except Refusal as refusal:
            self._refuse(refusal)
        except Exception as e:
            self._refuse(self._refusal_for(e))

    def _admit(self) -> tuple[int | None, str | None]:
        """Check the URL, origin and token, then count the socket against its limits.
        Returns (since, epoch). Raises Refusal, having counted nothing."""
        hs, ctx = self._handshake, self._ctx
        if not ROUTE_ID.fullmatch(hs.room_id):
            raise Refusal(CloseCode.BAD_REQUEST, ErrorCode.INVALID_ROUTE, "the id in the URL is malformed")
        try:
            since = protocol.parse_since(hs.query.get("since"))
            epoch = protocol.parse_epoch(hs.query.get("epoch"))
        except DomainError as e:
            raise Refusal(CloseCode.BAD_REQUEST, e.code, e.message, e.details, cause=e) from None
        if not self._origin_allowed(hs.origin):
            raise Refusal(CloseCode.ORIGIN_NOT_ALLOWED, ErrorCode.INVALID_ORIGIN, "this origin may not connect")
        token = hs.query.get("token")
        if not token:
            raise Refusal(CloseCode.AUTH_REQUIRED, ErrorCode.AUTHENTICATION_REQUIRED, "connect with ?token=<jwt>")
        try:
            self.user = user = ctx.tokens.decode(token)
        except AuthError as e:
            if e.code == "token_expired":
                raise Refusal(CloseCode.TOKEN_EXPIRED, ErrorCode.TOKEN_EXPIRED, e.message, cause=e) from None
            raise Refusal(CloseCode.INVALID_TOKEN, ErrorCode.INVALID_TOKEN, e.message, {"reason": e.code},
                          cause=e) from None
        self.ip = client_ip(hs.peer, hs.forwarded_for, ctx.settings.trusted_proxies)
        limits = ctx.limits
        if limits.shared is None and self._full():  # with shared counts, `_reserve` checks the room
            raise self._room_full()
        refused = limits.sockets.admit(user.key, self.ip, spectator=user.role is Role.SPECTATOR)
        if refused:
            raise Refusal(CloseCode.CONNECTION_LIMIT, ErrorCode(refused.code), refused.message,
                          {"retry_after_ms": refused.retry_after_ms})
        self._counted = True
        return since, epoch

    def _full(self) -> bool:
        """The room has its tournament_room_max watchers, as this node counts them."""
        return self._room.capped and self._ctx.hub.watchers(self._key) >= self._ctx.limits.tournament_room_max

    def _room_full(self) -> Refusal:
        return Refusal(CloseCode.ROOM_FULL, ErrorCode.ROOM_FULL,
                       f"this tournament room has its {self._ctx.limits.tournament_room_max} watchers",
                       {"retry_after_ms": 10_000})

    async def _reserve(self) -> None:
        """With counts shared between nodes (--broker): the room, the user and the address
        checked across every node, after this node's own counts admitted the socket. Redis not
        answering, the socket is admitted on this node's counts: the room's watchers as last
        read, the user's and the address's here (docs/architecture.md "Counts across nodes").
        Raises Refusal (4031, 4030)."""
        limits, user = self._ctx.limits, self.user
        assert user is not None and limits.shared is not None
        spectator = user.role is Role.SPECTATOR
        self._reserved = True
        try:
            reached = await limits.shared.reserve(
                user.key, self.ip, self._key, user_max=limits.sockets.user_limit(spectator),
                ip_max=limits.sockets.per_ip, room_max=limits.tournament_room_max if self._room.capped else 0)
        except SharedCountsUnavailableError:
            reached = "room" if self._full() else None
        if reached == "room":
            raise self._room_full()
        if reached is not None:
            refused = limits.sockets.refusal(reached, spectator)
            raise Refusal(CloseCode.CONNECTION_LIMIT, ErrorCode(refused.code), refused.message,
                          {"retry_after_ms": refused.retry_after_ms})

    async def _check_link(self) -> None:
        """An event link must still be current. Raises Refusal."""
        assert self.user is not None
        try:
            await self._ctx.links.check(self.user)
        except AuthError as e:
            close = CloseCode.TOKEN_EXPIRED if e.code == "token_expired" else CloseCode.INVALID_TOKEN
            code = ErrorCode.TOKEN_EXPIRED if e.code == "token_expired" else ErrorCode.INVALID_TOKEN
            raise Refusal(close, code, e.message, {"reason": e.code}, cause=e) from None

    def refuse_now(self, refusal: Refusal) -> None:
        """Close an open socket with `refusal` (its token was revoked)."""
        self._refuse(refusal)

    def _origin_allowed(self, origin: str | None) -> bool:
        if origin is None:
            return True  # not a browser: browsers always send Origin on sockets
        origin = origin.rstrip("/")
        if origin in self._ctx.settings.allowed_origins:
            return True
        parsed = urllib.parse.urlparse(origin)
        return parsed.netloc == self._handshake.host or parsed.hostname in LOCAL_HOSTS

    def _refusal_for(self, exc: Exception) -> Refusal:
        if isinstance(exc, NotFoundError):
            return Refusal(CloseCode.NOT_FOUND, ErrorCode.NOT_FOUND,
                           f"no such {self._room.kind} {self._handshake.room_id}", cause=exc)
        if isinstance(exc, StorageError):
            return Refusal(CloseCode.INTERNAL_ERROR, ErrorCode.STORE_UNAVAILABLE,
                           "the database is unreachable; reconnect shortly", cause=exc)
        log.error("socket admission failed on %s %s: %s: %s", self._room.kind, self._handshake.room_id,
                  type(exc).__name__, exc, exc_info=exc)
        return Refusal(CloseCode.INTERNAL_ERROR, ErrorCode.INTERNAL_ERROR, "the server failed to admit the socket",
                       cause=exc)

    def _refuse(self, refusal: Refusal) -> None:
        """Release what was taken, send one error frame, close. Frames held for the member
        (a presence, say) are dropped: a refusal is the error and the close, nothing else."""
        self.closed()
        self.refusal = refusal
        self._transport.send(Frame(protocol.error_frame(refusal.code, refusal.message,
                                                        close_code=int(refusal.close), **refusal.details)))
        self._transport.close(refusal.close, refusal.code)

    async def _subscribe(self, since: int | None, epoch: str | None, reply_type: str) -> None:
        """Snapshot, welcome, replay of what was missed after `since`, then live frames.
        Raises NotFoundError, StorageError, with the member's live frames still held."""
        member, hub, user = self._member, self._ctx.hub, self.user
        assert member is not None and user is not None
        member.held = member.held if member.held is not None else []
        generation = member.generation  # a renumbering after this makes the snapshot stale
        await hub.ready(self._key)
        snapshot_seq, snapshot, room_epoch = await self._room.snapshot(self._handshake.room_id, user, hub)
        who, parent = self._room.identity(user, snapshot)
        if who is not None or parent is not None:
            hub.identify(self._key, member, who, parent)
        replay = None
        if epoch is None or epoch == room_epoch:
            replay = await hub.missed(self._key, snapshot_seq, since,
                                      lambda after, limit: self._room.persisted(self._handshake.room_id, after, limit))
        self.epoch = room_epoch
        tail = {"seq": snapshot_seq, "epoch": room_epoch,
                "recovered": replay is not None if since is not None else False,
                "heartbeat_interval": int(self._ctx.settings.heartbeat_interval_s * 1000),
                "watchers": hub.watchers(self._key)}
        if isinstance(snapshot, protocol.Serialized):  # shared by the sockets joining at this seq
            text = protocol.spliced_frame(reply_type, user.to_json(), snapshot, tail)
        else:
            text = protocol.frame(reply_type, {**user.to_json(), **snapshot, **tail})
        with self._transport.unbounded():
            self._transport.send(Frame(text))
            hub.resume(member, replay, since, snapshot_seq, generation)

    def _resync(self) -> None:
        """The hub renumbered the room (its broker could not catch it up): a fresh snapshot
        follows, unasked, as `subscribed` with recovered: false (docs/protocol.md#many-nodes)."""
        self._resyncing = asyncio.ensure_future(self._resubscribe())

    async def _resubscribe(self) -> None:
        async with self._subscribing:
            if self._member is None:
                return  # closed meanwhile
            try:
                await self._subscribe(None, None, "subscribed")
            except Exception as e:  # the store is down, say: the client reconnects and recovers
                self._refuse(self._refusal_for(e))

    # -- messages ------------------------------------------------------------------------------

    async def receive(self, message: str | bytes) -> None:
        """A client frame: answered with an ack or an error frame, never raised."""
        ctx = self._ctx
        ctx.hub.stats.frames_in += 1
        ctx.heartbeat.seen(self._transport)
        if self._member is None:
            return  # refused or closed: its close is on the way
        limit = ctx.settings.max_frame_bytes
        if _size_bytes(message, limit) > limit:
            self._refuse(Refusal(CloseCode.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE,
                                 f"frames are limited to {limit} bytes"))
            return
        if self._over_rate():
            return
        ref = None
        try:
            msg = protocol.parse(message)
            ref = msg.ref
            await self._handle(msg)
        except Exception as e:  # every failure is an error frame; the socket stays open
            self._send_error(e, ref)

    def _over_rate(self) -> bool:
        """Drop a frame over the user's or address's rate; close a client that keeps flooding."""
        assert self.user is not None
        limits = self._ctx.limits
        wait = limits.messages_by_user.check(self.user.key) or limits.messages_by_ip.check(self.ip)
        if not wait:
            self._refused_in_a_row = 0
            return False
        self._refused_in_a_row += 1
        if self._refused_in_a_row > self._ctx.settings.flood_limit:
            self._transport.close(CloseCode.RATE_LIMITED, "rate limited")
        else:
            self._transport.send(Frame(protocol.error_frame(
                ErrorCode.MESSAGE_RATE_LIMIT_EXCEEDED, "too many messages; this one was dropped",
                retry_after_ms=retry_after_ms(wait))))
        return True

    async def _handle(self, msg: ClientMessage) -> None:
        if msg.type == "ping":
            self._transport.send(Frame(protocol.frame("pong", None, timestamp=msg.timestamp)))
        elif msg.type == "pong":
            pass
        elif msg.type in protocol.CHAT:
            await self._chat(msg)
        elif msg.type == "subscribe":
            since = protocol.parse_since(msg.data.get("since"))
            epoch = protocol.parse_epoch(msg.data.get("epoch")) or self._url_epoch
            try:
                async with self._subscribing:
                    await self._subscribe(since, epoch, "subscribed")
            except BaseException:
                assert self._member is not None
                self._member.release()  # back to live frames, as before the failed subscribe
                raise
        else:
            await self._command(msg)

    async def _chat(self, msg: ClientMessage) -> None:
        """A chat frame of a match room: a message (rate-limited per socket), a typing
        indicator (players only, passed on unnumbered at most every typing_interval_s), or an
        organizer's deletion or mute. Raises as ChatService does, and ProtocolError."""
        ctx, user, member = self._ctx, self.user, self._member
        assert user is not None and member is not None
        if self._room.kind != "match":
            raise ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE_TYPE, "chat lives in match rooms")
        match_id, data, now = self._handshake.room_id, msg.data, ctx.clock()
        ack: dict[str, Any] = {"command": msg.type, "match_id": match_id, "accepted": True}
        if msg.type == "chat_typing":
            if member.who is None:
                raise ForbiddenError("only the match's players show that they are typing", code="chat_forbidden")
            if now - self._typed_at < ctx.settings.typing_interval_s:
                return  # often enough already: dropped without a word
            self._typed_at = now
            ctx.hub.notify(self._key, Frame(protocol.frame("chat_typing", {"match_id": match_id,
                                                                           "user_id": user.user_id,
                                                                           "name": user.name})))
            if msg.ref is None:
                return
        elif msg.type == "chat_send":
            wait = self._chat_bucket.take(now)
            if wait:
                raise ApiError(429, ErrorCode.CHAT_RATE_LIMITED, "too many chat messages; wait a moment",
                               retry_after_ms=retry_after_ms(wait))
            ack["message_id"] = (await ctx.chat.post(match_id, user, data.get("text"))).id
        elif msg.type == "chat_delete":
            await ctx.chat.delete(match_id, user, fields.identifier(data, "message_id") or "")
        else:
            await ctx.chat.mute(match_id, user, fields.identifier(data, "user_id") or "",
                                fields.text(data, "role", default="player"), fields.flag(data, "muted", True))
        self._transport.send(Frame(protocol.frame("ack", ack, **({"id": msg.ref} if msg.ref is not None else {}))))

    async def _command(self, msg: ClientMessage) -> None:
        assert self.user is not None
        command = BY_SOCKET[msg.type]
        match_id = await self._room.command_match_id(self._handshake.room_id, msg.data)
        done = await command.run(self._ctx.matches, match_id, self.user, msg.data, None)
        ack: dict[str, Any] = {"command": msg.type, "match_id": match_id, "accepted": True}
        if done.match is not None:
            ack.update(state=done.match.state.value, version=done.match.version, seq=done.match.seq)
        elif done.pending is not None:  # written with its batch; score_updated follows
            done.pending.add_done_callback(self._late_failure_reporter(msg.ref))
        self._transport.send(Frame(protocol.frame("ack", ack, **({"id": msg.ref} if msg.ref is not None else {}))))

    def _late_failure_reporter(self, ref: str | int | None) -> Callable[[asyncio.Future[Match]], None]:
        def report(written: asyncio.Future[Match]) -> None:
            if not written.cancelled() and (exc := written.exception()) is not None:
                self._send_error(exc, ref)
        return report

    def _send_error(self, exc: BaseException, ref: str | int | None) -> None:
        if not is_expected(exc):
            log.error("socket frame failed on %s %s", self._room.kind, self._handshake.room_id, exc_info=exc)
        problem = describe(exc)
        self._transport.send(Frame(protocol.error_frame(problem.code, problem.message, ref, **problem.details)))

    # -- close ---------------------------------------------------------------------------------

    def closed(self) -> None:
        """Release the socket's place in its room, the heartbeat and the limits (once)."""
        self._gone = True
        self._ctx.open_sessions.discard(self)
        if self._counted:
            self._counted = False
            assert self.user is not None
            self._ctx.limits.sockets.release(self.user.key, self.ip)
        if self._reserved:
            self._reserved = False
            assert self.user is not None and self._ctx.limits.shared is not None
            self._ctx.limits.shared.release(self.user.key, self.ip, self._key)
        self._ctx.heartbeat.forget(self._transport)
        if self._member is not None:
            self._member.held = None  # frames held for a member that never caught up are dropped
            self._ctx.hub.leave(self._key, self._member)
            self._member = None


def _size_bytes(message: str | bytes, limit: int) -> int:
    """The frame's size in bytes, encoding text only when its length leaves doubt."""
    if isinstance(message, bytes) or len(message) > limit or 4 * len(message) <= limit:
        return len(message)  # UTF-8 takes 1 to 4 bytes a character
    return len(message.encode())

