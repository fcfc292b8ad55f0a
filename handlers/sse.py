"""Server-sent events `/sse/match/<id>`, `/sse/tournament/<id>`: the sockets' frames as `text/event-stream`.

For clients that cannot hold a WebSocket (overlay tools, proxies). The socket protocol's own
`SocketSession` admits the stream (the same checks and counts), subscribes it and recovers what
it missed; this module is its Transport over one HTTP response (`EventStream`) and the handler
that forwards to it. Each frame is one event: `event: <type>`, `id: <epoch>:<seq>` when it is
numbered, `data: <its JSON>` (the frame's text as built once for every member); the heartbeat's
pings become comments. The stream is read-only: commands go through REST. A refusal before the
stream starts is a plain HTTP error, as REST describes the same failure (docs/protocol.md#server-sent-events).

Tornado: output goes through `RequestHandler.write`/`flush` with one flush in flight at a time
(`HTTP1Connection` resolves only the latest of overlapping write futures), so what is unsent is
known exactly. A client past the output bound is cut off with `HTTP1Connection.close()`, which
is not part of Tornado's `HTTPConnection` interface: on any other connection class the response
is finished instead (what was queued then waits for the connection to close).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from tornado import web
from tornado.http1connection import HTTP1Connection

from handlers.base import BaseHandler, write_problem
from realtime.errors import Problem, describe
from realtime.frames import Frame
from realtime.heartbeat import Heartbeat
from realtime.protocol import CloseCode
from realtime.session import Handshake, Refusal, SocketSession
from tournament.errors import ShuttingDownError

if TYPE_CHECKING:
    from handlers.services import Services

RETRY_MS = 2000  # about the reconnection delay an EventSource is told at the start of each stream:
# each stream is told its own, from half of it to one and a half ("equal jitter", as the pages'
# sockets wait), so a restart's every stream does not come back in the same instant.
# Closes meaning the client does not take its output: cut off rather than finished, since a
# response finished behind unsent output would hold it until the connection closes.
CUT_OFF = (CloseCode.SLOW_CONSUMER, CloseCode.HEARTBEAT_TIMEOUT)
# The HTTP status of a refusal that answers no exception (those are described as REST does).
REFUSAL_STATUS = {CloseCode.BAD_REQUEST: 400, CloseCode.AUTH_REQUIRED: 401, CloseCode.ORIGIN_NOT_ALLOWED: 403,
                  CloseCode.CONNECTION_LIMIT: 429, CloseCode.ROOM_FULL: 429}
_TYPE_PREFIX = '{"type":"'  # protocol.frame and error_frame (and the heartbeat's ping) write the type first


def frame_type(text: str) -> str:
    """A server frame's `type`, read from the front of its JSON text (parsed only when the text
    does not start as every server frame does)."""
    if text.startswith(_TYPE_PREFIX):
        end = text.find('"', len(_TYPE_PREFIX))
        if end > 0:
            return text[len(_TYPE_PREFIX):end]
    return str(json.loads(text).get("type", "message"))


def encode_event(frame: Frame, epoch: str) -> bytes:
    """One frame as one event (a server ping as a comment). A frame's JSON is one line: its
    strings' line breaks are escaped, and it is compact."""
    kind = frame_type(frame.text)
    if kind == "ping" and frame.seq is None:
        return f": ping {json.loads(frame.text).get('timestamp')}\n\n".encode()
    numbered = f"id: {epoch}:{frame.seq}\n" if frame.seq is not None else ""
    return f"event: {kind}\n{numbered}data: {frame.text}\n\n".encode()


def refusal_problem(refusal: Refusal) -> Problem:
    """A refusal before the stream starts as an HTTP error: the failure it answers described as
    REST describes it (a bad token is REST's 401), else the status its close code mirrors."""
    if refusal.cause is not None:
        return describe(refusal.cause)
    return Problem(REFUSAL_STATUS.get(refusal.close, 500), refusal.code, refusal.message, refusal.details)


def since_of(last_event_id: str) -> dict[str, str]:
    """`Last-Event-ID: <epoch>:<seq>` as the `since` and `epoch` a socket's query gives (read,
    and refused when malformed, by the same parsers)."""
    epoch, _, seq = last_event_id.strip().rpartition(":")
    return {"since": seq, "epoch": epoch} if epoch else {"since": seq}


class EventStream:
    """The session's Transport over one HTTP response.

    Frames are held until `start` (the session may still refuse, and a refusal is an HTTP
    error, not an event). Then each is queued as its event, and one flush at a time writes what
    is queued, so the unsent output is what that flush carries plus what waits behind it. Past
    `max_bytes` of it, or `max_frames` written since the output was last empty, the client is cut
    off as a slow consumer, as a socket is. An SSE client cannot answer pings, so its liveness is
    its writes succeeding: each flush that completes counts as a sign of life for the heartbeat.
    """

    def __init__(self, handler: web.RequestHandler, heartbeat: Heartbeat, max_bytes: int, max_frames: int,
                 on_slow: Callable[[], None], on_end: Callable[[], None]) -> None:
        self._handler = handler
        self._heartbeat = heartbeat
        self._max_bytes = max_bytes
        self._max_frames = max_frames
        self._on_slow = on_slow
        self._on_end = on_end
        self._held: list[Frame] | None = []  # frames before `start`; None once streaming
        self._epoch = ""
        self._queue: list[bytes] = []
        self._queued_bytes = 0
        self._in_flight = 0  # bytes of the flush under way
        self._frames = 0  # events queued since the output was last empty
        self._bounded = True
        self.closed_with: int | None = None  # the close code, once closed by the server
        self.done = asyncio.Event()  # set when the stream has ended, for whatever reason

    @property
    def ended(self) -> bool:
        return self.done.is_set()

    def start(self, epoch: str, preamble: bytes) -> None:
        """Begin the response body: `preamble`, then the frames sent so far, with ids in `epoch`."""
        held, self._held = self._held or [], None
        self._epoch = epoch
        with self.unbounded():
            self._enqueue(preamble)
            for frame in held:
                self.send(frame)

    def send(self, frame: Frame) -> None:
        if self.ended:
            return
        if self._held is not None:
            self._held.append(frame)
            return
        if self._bounded and (self._in_flight + self._queued_bytes > self._max_bytes
                              or self._frames >= self._max_frames):
            self._on_slow()
            self.close(CloseCode.SLOW_CONSUMER, "slow consumer")
            return
        self._enqueue(encode_event(frame, self._epoch))

    def _enqueue(self, data: bytes) -> None:
        self._queue.append(data)
        self._queued_bytes += len(data)
        self._frames += 1
        self._flush()

    def _flush(self) -> None:
        if self._in_flight or not self._queue or self.ended:
            return
        chunk = b"".join(self._queue)
        self._queue.clear()
        self._queued_bytes = 0
        self._in_flight = len(chunk)
        self._handler.write(chunk)
        self._handler.flush().add_done_callback(self._flushed)

    def _flushed(self, written: asyncio.Future[None]) -> None:
        self._in_flight = 0
        if written.cancelled() or written.exception() is not None:
            self._end()  # the client went away
            return
        self._heartbeat.seen(self)
        if not self._queue:
            self._frames = 0
        self._flush()

    def close(self, code: int, reason: str) -> None:
        """End the stream: cut off a client that does not read; otherwise write what is queued
        (a refusal's error event, say) and finish the response. Before `start`, only marks it."""
        if self.ended:
            return
        self.closed_with = code
        if self._held is None:
            connection = self._handler.request.connection
            if code in CUT_OFF and isinstance(connection, HTTP1Connection):
                connection.close()
            else:
                if self._queue:
                    self._handler.write(b"".join(self._queue))
                    self._queue.clear()
                self._handler.finish().add_done_callback(_retrieve)
        self._end()

    def lost(self) -> None:
        """The client closed the connection."""
        self._end()

    def _end(self) -> None:
        if not self.ended:
            if self._held is not None:
                self._held.clear()  # never sent: a refusal is answered over HTTP
            self.done.set()
            self._on_end()

    @contextlib.contextmanager
    def unbounded(self) -> Iterator[None]:
        """Frames written within may exceed the output bound (a welcome and its replay)."""
        self._bounded = False
        try:
            yield
        finally:
            self._bounded = True


def _retrieve(future: asyncio.Future[None]) -> None:
    """A finished response's last write failing means only that the client had gone."""
    if not future.cancelled():
        future.exception()


class EventStreamHandler(BaseHandler):
    """`GET /sse/<room>/<id>`: admits through a SocketSession, then streams until either side ends it."""

    def initialize(self, services: Services, room: str, retry_ms: int = RETRY_MS) -> None:  # type: ignore[override]
        super().initialize(services)
        self.room = room
        self.retry_ms = retry_ms
        self.session: SocketSession | None = None
        self.events: EventStream | None = None

    async def get(self, room_id: str) -> None:
        services, request = self.services, self.request
        self.events = events = EventStream(self, services.heartbeat, services.config.max_pending_bytes,
                                           services.config.max_pending_frames, self._slow, self._release)
        query = {k: v[0].decode(errors="replace") for k, v in request.query_arguments.items()}
        last_event_id = request.headers.get("Last-Event-ID", "")
        if last_event_id.strip():  # a browser's reconnection: newer than the URL's since and epoch
            query.pop("epoch", None)
            query.update(since_of(last_event_id))
        origin = request.headers.get("Origin")
        handshake = Handshake(room_id=room_id, query=query, origin=origin, host=request.host,
                              peer=request.remote_ip or "", forwarded_for=request.headers.get("X-Forwarded-For"))
        self.session = session = SocketSession(services.sockets, events, services.sockets.rooms[self.room], handshake)
        await session.open()
        if session.refusal is not None:
            write_problem(self, refusal_problem(session.refusal))
            return
        if events.ended:  # closed while being admitted: the server is stopping, or the client left
            session.closed()  # what the session took after the close
            if events.closed_with is not None:
                write_problem(self, describe(ShuttingDownError("the server is shutting down; reconnect shortly")))
            return
        assert session.epoch is not None
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")  # nginx: pass each event on at once
        if origin is not None:  # admitted, so an allowed origin: let its page read the stream
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")
        connection = request.connection
        if isinstance(connection, HTTP1Connection):  # no Nagle, as the sockets (handlers/sockets.py)
            connection.stream.set_nodelay(True)
        retry = random.randint(self.retry_ms // 2, self.retry_ms * 3 // 2)
        events.start(session.epoch, f"retry: {retry}\n\n".encode())
        await events.done.wait()

    def _slow(self) -> None:
        self.services.limits.slow_consumers += 1

    def _release(self) -> None:
        if self.session is not None:
            self.session.closed()

    def on_connection_close(self) -> None:
        if self.events is not None:
            self.events.lost()


routes = [
    (r"/sse/match/([^/]*)/?", EventStreamHandler, {"room": "match"}),
    (r"/sse/tournament/([^/]*)/?", EventStreamHandler, {"room": "tournament"}),
]
