"""The one file that touches Tornado's WebSocket internals: the pre-framed write path.

Proven on Tornado 6.4 to 6.x (setup.cfg pins `tornado>=6.4,<7`). It relies on
`WebSocketProtocol13.stream` being a plain `IOStream` with `socket`, `writing()`, `write()`
and `max_write_buffer_size`, and on `_receive_frame`/`_read_bytes` for the masking check.
When a socket's internals are not what it expects (another Tornado, a TLS stream, a
subclass), it falls back to `write_message` and Tornado's own frame reading, bounded the
same way, so nothing but speed is lost (tests/handlers/test_connection.py runs both paths).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from tornado.iostream import IOStream, StreamBufferFullError, StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler, WebSocketProtocol, WebSocketProtocol13

from realtime.frames import Frame
from realtime.protocol import CloseCode


class TornadoConnection:
    """The hub's (and the session's) view of one Tornado socket.

    On the direct path, when the stream has nothing queued, a frame's pre-built wire bytes go
    to the socket in one `send` (no Future, no callback: that per-write machinery of IOStream
    was most of the fan-out's cost); whatever the kernel does not take at once is queued on
    the stream behind it. Either way the unsent output is bounded (`max_pending_bytes`, and
    `max_frames` written since the buffer last drained); a client that stops reading
    overflows it and is closed with SLOW_CONSUMER instead of holding memory or slowing
    anyone else.
    """

    __slots__ = ("handler", "stream", "max_bytes", "max_frames", "frames", "pending_bytes", "bounded",
                 "on_slow", "__weakref__")

    def __init__(self, handler: WebSocketHandler, max_bytes: int, max_frames: int,
                 on_slow: Callable[[], None], direct: bool = True) -> None:
        self.handler = handler
        self.max_bytes = max_bytes
        self.max_frames = max_frames
        self.on_slow = on_slow
        self.frames = 0  # frames written since the stream's buffer was last empty
        self.pending_bytes = 0  # fallback path: bytes handed to write_message, not yet written
        self.bounded = True
        # The direct path's stream, known once the socket is open; None: the fallback.
        self.stream: IOStream | None = _plain_stream(handler) if direct else None
        self._set_bound(max_bytes)

    @property
    def direct(self) -> bool:
        return self.stream is not None

    def _set_bound(self, limit: int | None) -> None:
        if self.stream is not None:
            self.stream.max_write_buffer_size = limit

    def send(self, frame: Frame) -> None:
        ws = self.handler.ws_connection
        if ws is None or ws.is_closing():
            return
        stream = self.stream
        if stream is None:
            self._send_fallback(frame)
            return
        wire = frame.wire
        if not stream.writing():
            self.frames = 0
        if not self.frames:
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
            if self.bounded and self.frames > self.max_frames:
                raise StreamBufferFullError("too many frames waiting")
            stream.write(wire)
        except StreamBufferFullError:
            self._slow()
        except StreamClosedError:
            pass

    def _send_fallback(self, frame: Frame) -> None:
        """write_message, bounded by what was handed to it and not yet written. Those futures
        resolve a loop turn after the kernel took the bytes, so the bound allows one frame more
        than the direct path does."""
        size = len(frame)
        if self.bounded and (self.pending_bytes > self.max_bytes or self.frames >= self.max_frames):
            self._slow()
            return
        try:
            written = self.handler.write_message(frame.text)
        except WebSocketClosedError:
            return
        self.pending_bytes += size
        self.frames += 1

        def done(_: Any) -> None:
            self.pending_bytes -= size
            self.frames -= 1

        written.add_done_callback(done)

    def _slow(self) -> None:
        self.on_slow()
        self.close(CloseCode.SLOW_CONSUMER, "slow consumer")

    def close(self, code: int, reason: str) -> None:
        ws = self.handler.ws_connection
        if ws is not None and not ws.is_closing():
            self._set_bound(None)  # room for the close frame
            self.handler.close(code, reason)

    @contextlib.contextmanager
    def unbounded(self) -> Iterator[None]:
        """Frames written within may exceed the output bound (a welcome and its replay)."""
        self.bounded = False
        self._set_bound(None)
        try:
            yield
        finally:
            self.bounded = True
            ws = self.handler.ws_connection
            if ws is not None and not ws.is_closing():
                self._set_bound(self.max_bytes)


def _plain_stream(handler: WebSocketHandler) -> IOStream | None:
    """The socket's stream, when it is the plain IOStream of the protocol class this file knows."""
    ws = handler.ws_connection
    if type(ws) is not WebSocketProtocol13 and type(ws) is not MaskedOnlyProtocol13:
        return None
    stream = getattr(ws, "stream", None)
    return stream if type(stream) is IOStream else None


class MaskedOnlyProtocol13(WebSocketProtocol13):
    """RFC 6455 5.1: a server closes the connection when a client frame is not masked (1002).

    Tornado reads each frame's two header bytes with one `_read_bytes(2)` at the start of
    `_receive_frame`; this looks at them there.
    """

    _frame_start = False

    async def _receive_frame(self) -> None:
        self._frame_start = True
        await super()._receive_frame()

    async def _read_bytes(self, n: int) -> bytes:
        data = await super()._read_bytes(n)
        if self._frame_start:
            self._frame_start = False
            if n == 2 and not data[1] & 0x80:
                self.close(CloseCode.PROTOCOL_ERROR, "client frames must be masked")
                self._abort()
                raise StreamClosedError()
        return data


def masked_only(protocol: WebSocketProtocol | None) -> WebSocketProtocol | None:
    """Tornado's protocol object with the masking check, when it is the class this file knows."""
    hooks = all(hasattr(WebSocketProtocol13, name) for name in ("_receive_frame", "_read_bytes", "_abort"))
    if type(protocol) is WebSocketProtocol13 and hooks:
        protocol.__class__ = MaskedOnlyProtocol13
    return protocol
