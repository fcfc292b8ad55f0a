"""WebSocket routes `/ws/match/<id>` and `/ws/tournament/<id>`: accept, check, join, relay.

A refusal is an error frame then a close with a code a browser can read (the socket is
accepted first: a failed handshake only shows a browser 1006). Commands call the same
services as REST. The hub sees a socket only through SocketConnection.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from tornado.iostream import IOStream, StreamBufferFullError, StreamClosedError
from tornado.websocket import WebSocketHandler

from handlers import schema
from handlers.auth import AuthError
from handlers.base import ID
from handlers.errors import ApiError
from realtime import protocol
from realtime.frames import Frame
from realtime.hub import REPLAY_LIMIT, Member, match_room, tournament_room
from realtime.limits import client_ip, retry_after_ms
from realtime.protocol import ClientMessage, CloseCode, ErrorCode, ProtocolError
from storage.errors import ConflictError, NotFoundError, StorageError, StorageUnavailableError
from tournament import rules
from tournament.errors import DomainError
from tournament.models import Match
from tournament.roles import Principal, Role

if TYPE_CHECKING:
    from handlers.app import Services

log = logging.getLogger(__name__)

Refusal = tuple[CloseCode, ErrorCode, str, dict[str, Any]]  # close code, error code, message, details

_ID = re.compile(ID)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


class SocketConnection:
    """The hub's view of one socket: pre-built frames written straight to its stream.

    When the stream has nothing queued, the frame goes to the socket in one `send` (no
    Future, no callback: that per-write machinery of IOStream was most of the fan-out's
    cost); whatever the kernel does not take at once is queued on the stream behind it.
    The stream's write buffer is bounded; a client that stops reading overflows it and is
    closed with SLOW_CONSUMER instead of holding memory or slowing anyone else.
    """

    __slots__ = ("handler", "max_frames", "frames", "__weakref__")

    def __init__(self, handler: RoomSocketHandler, max_frames: int) -> None:
        self.handler = handler
        self.max_frames = max_frames
        self.frames = 0  # frames written since the stream's buffer was last empty

    def send(self, frame: Frame) -> None:
        ws = self.handler.ws_connection
        if ws is None or ws.is_closing() or ws.stream is None:
            return
        stream = ws.stream
        wire = frame.wire
        if not stream.writing():
            self.frames = 0
        if not self.frames and type(stream) is IOStream:
            try:
                sent = stream.socket.send(wire)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = 0  # a dead peer: IOStream's own write below finds out and closes
            if sent == len(wire):
                return
            wire = wire[sent:]
        self.frames += 1
        try:
            if self.frames > self.max_frames:
                raise StreamBufferFullError("too many frames waiting")
            stream.write(wire)
        except StreamBufferFullError:
            self.handler.services.limits.slow_consumers += 1
            self.close(CloseCode.SLOW_CONSUMER, "slow consumer")
        except StreamClosedError:
            pass

    def close(self, code: int, reason: str) -> None:
        ws = self.handler.ws_connection
        if ws is not None and not ws.is_closing():
            if ws.stream is not None:
                ws.stream.max_write_buffer_size = None  # room for the close frame
            self.handler.close(code, reason)


class RoomSocketHandler(WebSocketHandler):
    """What match and tournament sockets share; subclasses name their room and snapshot."""

    services: Services

    def initialize(self, services: Services) -> None:
        self.services = services
        self.conn = SocketConnection(self, services.config.max_pending_frames)
        self.user: Principal | None = None
        self.room_key = ""
        self.member: Member | None = None
        self.ip = ""
        self.admitted = False  # counted in the connection limits (released once on close)
        self.refused_in_a_row = 0

    def check_origin(self, origin: str) -> bool:
        return True  # checked after accepting, so the refusal carries a readable close code

    def get_compression_options(self) -> None:
        return None  # frames are pre-built once for all members, uncompressed

    # -- connect ---------------------------------------------------------------------------

    async def open(self, room_id: str) -> None:
        refusal = self._refusal(room_id) or self._admit(room_id)
        if refusal:
            code, error, message, extra = refusal
            self.refuse(code, error, message, **extra)
            return
        stream = getattr(self.ws_connection, "stream", None)
        if stream is not None:
            stream.max_write_buffer_size = self.services.config.max_pending_bytes
        self.room_key = self.room_of(room_id)
        self.member = self.services.hub.join(self.room_key, self.conn)
        self.services.heartbeat.watch(self.conn)
        try:
            await self.subscribe(self.since_argument(), "connection_established")
        except NotFoundError:
            self.refuse(CloseCode.NOT_FOUND, ErrorCode.NOT_FOUND, f"no such {self.kind} {room_id}")
        except StorageError:
            self.refuse(CloseCode.INTERNAL_ERROR, ErrorCode.STORE_UNAVAILABLE,
                        "the database is unreachable; reconnect shortly")

    def _refusal(self, room_id: str) -> Refusal | None:
        """Why this socket may not connect (route id, origin, token), if it may not."""
        if not _ID.fullmatch(room_id):
            return CloseCode.BAD_ROUTE_ID, ErrorCode.INVALID_ROUTE, "the id in the URL is malformed", {}
        if not self._origin_allowed(self.request.headers.get("Origin")):
            return CloseCode.FORBIDDEN, ErrorCode.INVALID_ORIGIN, "this origin may not connect", {}
        token = self.get_query_argument("token", None)
        if not token:
            return CloseCode.AUTH_REQUIRED, ErrorCode.AUTHENTICATION_REQUIRED, "connect with ?token=<jwt>", {}
        try:
            self.user = self.services.tokens.decode(token)
        except AuthError as e:
            if e.code == "token_expired":
                return CloseCode.TOKEN_EXPIRED, ErrorCode.TOKEN_EXPIRED, e.message, {}
            # One close code for every unusable token; `reason` tells them apart.
            return CloseCode.FORBIDDEN, ErrorCode.INVALID_TOKEN, e.message, {"reason": e.code}
        return None

    def _admit(self, room_id: str) -> Refusal | None:
        """Count the socket against its limits, or refuse it (counting nothing)."""
        assert self.user is not None
        limits = self.services.limits
        self.ip = client_ip(self.request.remote_ip or "", self.request.headers.get("X-Forwarded-For"),
                            self.services.config.trusted_proxies)
        if self.kind == "tournament" and self.services.hub.watchers(self.room_of(room_id)) >= limits.tournament_room_max:
            return (CloseCode.ROOM_FULL, ErrorCode.ROOM_FULL,
                    f"this tournament room has its {limits.tournament_room_max} watchers", {"retry_after_ms": 10_000})
        refusal = limits.sockets.admit(self.user.user_id, self.ip, spectator=self.user.role is Role.SPECTATOR)
        if refusal:
            return (CloseCode.CONNECTION_LIMIT, ErrorCode(refusal.code), refusal.message,
                    {"retry_after_ms": refusal.retry_after_ms})
        self.admitted = True
        return None

    def _origin_allowed(self, origin: str | None) -> bool:
        if origin is None:
            return True  # not a browser: browsers always send Origin on sockets
        origin = origin.rstrip("/")
        if origin in self.services.config.allowed_origins:
            return True
        parsed = urllib.parse.urlparse(origin)
        return parsed.netloc == self.request.host or parsed.hostname in _LOCAL_HOSTS

    def since_argument(self) -> int | None:
        raw = self.get_query_argument("since", None)
        return int(raw) if raw is not None and raw.isascii() and raw.isdigit() else None

    def refuse(self, code: CloseCode, error: ErrorCode, message: str, **extra: Any) -> None:
        self.conn.send(Frame(protocol.error_frame(error, message, close_code=int(code), **extra)))
        self.conn.close(code, error.value)

    async def subscribe(self, since: int | None, reply_type: str, epoch: str | None = None) -> None:
        """Snapshot, welcome, replay of what was missed after `since`, then live frames."""
        assert self.member is not None
        hub = self.services.hub
        member = self.member
        member.held = member.held if member.held is not None else []
        try:
            snapshot_seq, snapshot, room_epoch = await self.snapshot()
            if epoch is None:
                epoch = self.get_query_argument("epoch", None)
            replay = None
            if epoch is None or epoch == room_epoch:
                replay = await hub.missed(self.room_key, snapshot_seq, since, self.persisted)
        except BaseException:
            member.release()  # back to live frames, as before the failed subscribe
            raise
        assert self.user is not None
        welcome = {**self.user.to_json(), **snapshot, "seq": snapshot_seq, "epoch": room_epoch,
                   "recovered": replay is not None if since is not None else False,
                   "heartbeat_interval": int(self.services.config.ping_interval_s * 1000),
                   "watchers": hub.watchers(self.room_key)}
        stream = getattr(self.ws_connection, "stream", None)
        if stream is not None:
            stream.max_write_buffer_size = None  # a replay (bounded by REPLAY_LIMIT) may exceed it once
        self.conn.send(Frame(protocol.frame(reply_type, welcome)))
        hub.resume(member, replay, since, snapshot_seq)
        if stream is not None:
            stream.max_write_buffer_size = self.services.config.max_pending_bytes

    # -- messages --------------------------------------------------------------------------

    async def on_message(self, message: str | bytes) -> None:
        self.services.hub.stats.frames_in += 1
        self.services.heartbeat.seen(self.conn)
        if self.member is None:
            return  # refused: its close is on the way
        if _size_bytes(message, self.services.config.max_frame_bytes) > self.services.config.max_frame_bytes:
            self.refuse(CloseCode.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE,
                        f"frames are limited to {self.services.config.max_frame_bytes} bytes")
            return
        if self._over_rate():
            return
        ref = None
        try:
            msg = protocol.parse(message)
            ref = msg.ref
            await self.handle(msg)
        except Exception as e:  # every failure is an error frame; the socket stays open
            code, text, details = _describe(e)
            self.conn.send(Frame(protocol.error_frame(code, text, ref, **details)))

    def _over_rate(self) -> bool:
        """Drop a frame over the user's or address's rate; close a client that keeps flooding."""
        assert self.user is not None
        limits = self.services.limits
        wait = limits.messages_by_user.check(self.user.user_id) or limits.messages_by_ip.check(self.ip)
        if not wait:
            self.refused_in_a_row = 0
            return False
        self.refused_in_a_row += 1
        if self.refused_in_a_row > 2 * self.services.config.message_burst_per_user:
            self.conn.close(CloseCode.RATE_LIMITED, "rate limited")
        else:
            self.conn.send(Frame(protocol.error_frame(
                ErrorCode.MESSAGE_RATE_LIMIT_EXCEEDED, "too many messages; this one was dropped",
                retry_after_ms=retry_after_ms(wait))))
        return True

    async def handle(self, msg: ClientMessage) -> None:
        if msg.type == "ping":
            self.conn.send(Frame(protocol.frame("pong", None, timestamp=msg.timestamp)))
        elif msg.type == "pong":
            pass
        elif msg.type == "subscribe":
            since = msg.data.get("since")
            if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
                raise ProtocolError(ErrorCode.INVALID_SCHEMA, "since must be a non-negative integer")
            epoch = msg.data.get("epoch")
            await self.subscribe(since, "subscribed", epoch if isinstance(epoch, str) else None)
        else:
            await self.command(msg)

    async def command(self, msg: ClientMessage) -> None:
        assert self.user is not None
        data, user, matches = msg.data, self.user, self.services.matches
        match_id = await self.command_match_id(msg)
        match: Match | None
        if msg.type == "update_score":
            written = await self.services.batcher.submit(match_id, user, schema.scores(data) or {})
            written.add_done_callback(lambda f: self._report_late_failure(f, msg.ref))
            match = None  # written with its batch; score_updated follows
        elif msg.type == "ready_up":
            match = await matches.check_in(match_id, user, schema.identifier(data, "participant_id", required=False))
        elif msg.type == "start_match":
            match = await matches.start(match_id, user)
        elif msg.type == "report_score":
            match = await matches.report_result(match_id, user, schema.scores(data) or {})
        elif msg.type == "confirm_result":
            match = await matches.confirm(match_id, user)
        else:  # raise_dispute
            _, match = await matches.raise_dispute(match_id, user, schema.text(data, "reason", max_len=1000))
        ack: dict[str, Any] = {"command": msg.type, "match_id": match_id, "accepted": True}
        if match is not None:
            ack.update(state=match.state.value, version=match.version, seq=match.seq)
        self.conn.send(Frame(protocol.frame("ack", ack, **({"id": msg.ref} if msg.ref is not None else {}))))

    def _report_late_failure(self, written: asyncio.Future[Match], ref: str | int | None) -> None:
        if not written.cancelled() and (exc := written.exception()) is not None:
            code, text, details = _describe(exc)
            self.conn.send(Frame(protocol.error_frame(code, text, ref, **details)))

    async def command_match_id(self, msg: ClientMessage) -> str:
        raise NotImplementedError

    # -- close -----------------------------------------------------------------------------

    def on_close(self) -> None:
        if self.admitted:
            self.admitted = False
            assert self.user is not None
            self.services.limits.sockets.release(self.user.user_id, self.ip)
        self.services.heartbeat.forget(self.conn)
        if self.member is not None:
            self.services.hub.leave(self.room_key, self.member)
            self.member = None

    # -- per room kind ---------------------------------------------------------------------

    kind = "room"

    def room_of(self, room_id: str) -> str:
        raise NotImplementedError

    async def snapshot(self) -> tuple[int, dict[str, Any], str]:
        """The room's state now: (seq it reflects, welcome fields, epoch)."""
        raise NotImplementedError

    async def persisted(self, since: int) -> list[Any]:
        raise NotImplementedError


class MatchSocketHandler(RoomSocketHandler):
    kind = "match"

    def room_of(self, room_id: str) -> str:
        self.match_id = room_id
        return match_room(room_id)

    async def snapshot(self) -> tuple[int, dict[str, Any], str]:
        assert self.user is not None
        match = await self.services.matches.get(self.match_id)
        fields = {"match_id": match.id, "tournament_id": match.tournament_id,
                  "is_participant": rules.Actor.PARTICIPANT in rules.actors_of(match, self.user),
                  "match": match.to_json()}
        # A match's events are numbered in the store, so its epoch is the match itself.
        return match.seq, fields, f"m{int(match.created_at * 1000):x}"

    async def persisted(self, since: int) -> list[Any]:
        return await self.services.matches.events(self.match_id, since, REPLAY_LIMIT)

    async def command_match_id(self, msg: ClientMessage) -> str:
        return self.match_id


class TournamentSocketHandler(RoomSocketHandler):
    kind = "tournament"

    def room_of(self, room_id: str) -> str:
        self.tournament_id = room_id
        return tournament_room(room_id)

    async def snapshot(self) -> tuple[int, dict[str, Any], str]:
        seq = self.services.hub.room(self.room_key).seq  # events after this are held for us
        tournaments = self.services.tournaments
        tournament = await tournaments.get(self.tournament_id)
        participants = await tournaments.list_participants(self.tournament_id)
        matches = await tournaments.list_matches(self.tournament_id)
        fields = {"tournament_id": tournament.id, "tournament": tournament.to_json(),
                  "participants": [p.to_json() for p in participants],
                  "matches": [m.to_json() for m in matches]}
        # Tournament rooms are numbered in memory: a restart starts a new epoch.
        return seq, fields, self.services.hub.epoch

    async def persisted(self, since: int) -> list[Any]:
        return []

    async def command_match_id(self, msg: ClientMessage) -> str:
        """The `data.match_id` of a command, which must be a match of this tournament."""
        match_id = schema.identifier(msg.data, "match_id") or ""
        if (await self.services.matches.get(match_id)).tournament_id != self.tournament_id:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"match {match_id} is not in this tournament")
        return match_id


def _size_bytes(message: str | bytes, limit: int) -> int:
    """The frame's size in bytes, encoding text only when its length leaves doubt."""
    if isinstance(message, bytes) or len(message) > limit or 4 * len(message) <= limit:
        return len(message)  # UTF-8 takes 1 to 4 bytes a character
    return len(message.encode())


def _describe(exc: BaseException) -> tuple[str, str, dict[str, Any]]:
    """An error frame's code, message and details for any failure of a client frame."""
    if isinstance(exc, ProtocolError):
        return exc.code, exc.message, {}
    if isinstance(exc, ApiError):
        return exc.code, exc.message, exc.details
    if isinstance(exc, DomainError):
        return exc.code, exc.message, exc.details
    if isinstance(exc, NotFoundError):
        return ErrorCode.NOT_FOUND, str(exc), {}
    if isinstance(exc, ConflictError):
        return ErrorCode.CONFLICT, str(exc), {}
    if isinstance(exc, StorageUnavailableError):
        return ErrorCode.STORE_UNAVAILABLE, "the database is unreachable; try again shortly", {}
    if isinstance(exc, StorageError):
        return ErrorCode.STORE_ERROR, "the database refused the request; try again shortly", {}
    log.exception("socket command failed", exc_info=exc)
    return ErrorCode.INTERNAL_ERROR, "the server failed to handle the frame", {}


routes = [
    (r"/ws/match/([^/]*)/?", MatchSocketHandler),
    (r"/ws/tournament/([^/]*)/?", TournamentSocketHandler),
]
