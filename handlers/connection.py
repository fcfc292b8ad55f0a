"""The one file that touches Tornado's WebSocket internals: pre-framed writes, masking, shared deflate.

Proven on Tornado 6.4 to 6.x (setup.cfg pins `tornado>=6.4,<7`). It relies on
`WebSocketProtocol13.stream` being a plain `IOStream` with `socket`, `writing()`, `write()`
and `max_write_buffer_size`; on `_receive_frame`/`_read_bytes` for the masking check; and, for
permessage-deflate (RFC 7692), on `_parse_extensions_header`, `_create_compressors`,
`_get_compressor_options`, `_handle_message`, `_frame_compressed` and
`_PerMessageDeflateDecompressor`.

Compression: `ServerProtocol13` answers a client's permessage-deflate offer with
`server_no_context_takeover`, so a frame deflates to the same bytes for every socket and is
compressed once (`Frame.deflated`); the direct path sends those. Incoming compressed messages
are inflated at most `max_frame_bytes` + 1 bytes: past it the session refuses the message by its
size (4008), as an uncompressed frame that large, and the rest is never inflated.

When a socket's internals are not what this file expects (another Tornado, a TLS stream, a
subclass), it falls back to `write_message` and Tornado's own frame reading, bounded the same
way, so nothing but speed is lost (tests/handlers/test_connection.py runs both paths): on the
fallback path Tornado compresses each frame per socket itself, and when Tornado lacks the hooks
above no compression is offered at all.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable, Iterator
from typing import Any, cast

from tornado.concurrent import Future
from tornado.httputil import HTTPHeaders
from tornado.iostream import IOStream, StreamBufferFullError, StreamClosedError
from tornado.websocket import (WebSocketClosedError, WebSocketHandler, WebSocketProtocol, WebSocketProtocol13,
                               _PerMessageDeflateDecompressor)

from realtime.frames import DEFLATE_LEVEL, Frame
from realtime.protocol import CloseCode

MESSAGE_TOO_BIG = 1009  # Tornado's close code for a message over websocket_max_message_size
# The window a client may deflate its messages with, when its offer lets the server choose
# (Chromium's does): commands are small (max_frame_bytes), so 1 KiB loses them nothing, and a
# client keeping its context holds a 1 KiB inflater window here instead of 32 KiB.
CLIENT_WINDOW_BITS = 10


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

    __slots__ = ("handler", "stream", "deflate", "max_bytes", "max_frames", "frames", "pending_bytes", "bounded",
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
        # Direct path only: send Frame.deflated, valid on a socket ServerProtocol13 negotiated
        # permessage-deflate with (the fallback's write_message compresses by itself).
        self.deflate = self.stream is not None and _takes_deflated_frames(handler)
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
        wire = frame.deflated if self.deflate else frame.wire
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
    if type(ws) is not WebSocketProtocol13 and type(ws) is not ServerProtocol13:
        return None
    stream = getattr(ws, "stream", None)
    return stream if type(stream) is IOStream else None


def _takes_deflated_frames(handler: WebSocketHandler) -> bool:
    ws = handler.ws_connection
    return type(ws) is ServerProtocol13 and ws.takes_deflated_frames


_NO_VALUE = ("server_no_context_takeover", "client_no_context_takeover")


def deflate_agreement(header: str) -> dict[str, str | None] | None:
    """The parameters to answer a `Sec-WebSocket-Extensions` offer with: those of its first
    permessage-deflate offer that `Frame.deflated` can serve, or None (no compression).

    The answer always has `server_no_context_takeover` (RFC 7692 7.1.1.1: a server may add it
    to any offer), and `client_no_context_takeover` when the offer has it. An offer with
    `client_max_window_bits` (no value, or one of at least `CLIENT_WINDOW_BITS`) is answered
    `client_max_window_bits=CLIENT_WINDOW_BITS`; with a smaller value it is not answered (the
    client keeps to its own value, which the server's 15-bit inflater reads). An offer is
    declined when it has a parameter this server does not know, one twice, a value where none
    is allowed, or `server_max_window_bits` below 15 (the shared frames use the full window).
    """
    for offer in header.split(","):
        name, *params = offer.split(";")
        if name.strip().lower() != "permessage-deflate":
            continue
        seen: dict[str, str | None] = {}
        for param in params:
            key, eq, value = param.partition("=")
            key = key.strip().lower()
            if key in seen:
                break
            seen[key] = value.strip().strip('"') if eq else None
        else:
            if _servable(seen):
                agreed: dict[str, str | None] = {"server_no_context_takeover": None}
                if "client_no_context_takeover" in seen:
                    agreed["client_no_context_takeover"] = None
                if "client_max_window_bits" in seen:
                    if int(seen["client_max_window_bits"] or 15) >= CLIENT_WINDOW_BITS:
                        agreed["client_max_window_bits"] = str(CLIENT_WINDOW_BITS)
                return agreed
    return None


def _servable(params: dict[str, str | None]) -> bool:
    for key, value in params.items():
        if key in _NO_VALUE:
            ok = value is None
        elif key == "server_max_window_bits":
            ok = value == "15"
        elif key == "client_max_window_bits":
            ok = value is None or (value.isascii() and value.isdigit() and 8 <= int(value) <= 15)
        else:
            ok = False
        if not ok:
            return False
    return True


class _BoundedDecompressor(_PerMessageDeflateDecompressor):
    """Tornado's permessage-deflate decompressor (the client's context kept or not, as
    negotiated) that inflates at most `limit` + 1 bytes of a message. A kept inflater is made
    on the first compressed message (Tornado makes it at the handshake: 7 KiB for every
    socket, most of which never send one)."""

    def __init__(self, limit: int, persistent: bool, **options: Any) -> None:
        super().__init__(persistent=False, **options)
        self.limit = limit
        self.keeps_context = persistent

    def decompress(self, data: bytes) -> bytes:
        """The message inflated, cut at `limit` + 1 bytes when longer (the rest is never
        inflated). Raises zlib.error for data that is not DEFLATE."""
        inflater = self._decompressor or self._create_decompressor()
        if self.keeps_context:
            self._decompressor = inflater
        return inflater.decompress(data + b"\x00\x00\xff\xff", self.limit + 1)


class ServerProtocol13(WebSocketProtocol13):
    """Tornado's protocol as this server's sockets use it.

    - RFC 6455 5.1: a client frame that is not masked closes the connection (1002). Tornado
      reads each frame's two header bytes with one `_read_bytes(2)` at the start of
      `_receive_frame`; this looks at them there (and notes their RSV1 bit).
    - permessage-deflate on the terms of `deflate_agreement` (Tornado's own parsing of the
      offer drops parameters without a value, `client_no_context_takeover` among them).
    - Incoming compressed messages inflated here, bounded by the `inflate_limit` of the
      compression options (`compression_options`): a message that inflates past it reaches
      `on_message` cut at `inflate_limit` + 1 bytes, as bytes (its text may be cut
      mid-character), for the session to refuse by its size; past
      `websocket_max_message_size` it closes 1009 as Tornado does.
      A compressed control frame (RFC 7692 6.1) or data that does not inflate closes 1002.
      Whether a message is compressed is its first frame's RSV1, so a ping between the frames
      of a fragmented message does not change it (as it does in Tornado's `_frame_compressed`).
    """

    # Instance attributes only when they differ from these: a protocol object already has 29,
    # and a 30th gives each socket its own 1.3 KB dict (CPython shares the names up to 29).
    _frame_rsv1 = False  # the RSV1 bit of the frame being read
    _message_rsv1 = False  # the RSV1 bit of the data message's first frame

    @property
    def takes_deflated_frames(self) -> bool:
        """Whether permessage-deflate was agreed on `deflate_agreement`'s terms (Frame.deflated is valid here)."""
        return isinstance(self._decompressor, _BoundedDecompressor)

    def _parse_extensions_header(self, headers: HTTPHeaders) -> list[tuple[str, dict[str, str]]]:
        agreed = deflate_agreement(headers.get("Sec-WebSocket-Extensions", ""))
        # Tornado's handshake answers the first permessage-deflate offer with its parameters
        # (None: a parameter without a value) and builds its compressors from them.
        return [] if agreed is None else [("permessage-deflate", cast(dict[str, str], agreed))]

    def _create_compressors(self, side: str, agreed_parameters: dict[str, Any],
                            compression_options: dict[str, Any] | None = None) -> None:
        super()._create_compressors(side, agreed_parameters, compression_options)
        max_size = self.params.max_message_size
        limit = min((compression_options or {}).get("inflate_limit", max_size), max_size)
        self._decompressor = _BoundedDecompressor(
            limit, max_message_size=max_size,
            **self._get_compressor_options("client", agreed_parameters, compression_options))

    async def _receive_frame(self) -> None:
        # None marks the frame's start (Tornado sets the frame's own value after its header)
        self._masked_frame = None
        await super()._receive_frame()

    async def _read_bytes(self, n: int) -> bytes:
        data = await super()._read_bytes(n)
        if self._masked_frame is None:  # the frame's two header bytes
            self._masked_frame = False  # type: ignore[assignment]  # Tornado's own is a bool too, after the header
            if n == 2 and not data[1] & 0x80:
                self.close(CloseCode.PROTOCOL_ERROR, "client frames must be masked")
                self._abort()
                raise StreamClosedError()
            rsv1 = bool(data[0] & 0x40)
            if rsv1 != self._frame_rsv1:
                self._frame_rsv1 = rsv1
            if data[0] & 0x0F in (0x1, 0x2) and rsv1 != self._message_rsv1:
                self._message_rsv1 = rsv1
        return data

    def _handle_message(self, opcode: int, data: bytes) -> Future[None] | None:
        decompressor = self._decompressor
        if not isinstance(decompressor, _BoundedDecompressor) or self.client_terminated:
            return super()._handle_message(opcode, data)
        self._frame_compressed = False  # inflated here, never again by Tornado
        refusal: tuple[int, str] | None = None
        if opcode & 0x8:
            if self._frame_rsv1:
                refusal = CloseCode.PROTOCOL_ERROR, "control frames are not compressed"
        elif self._message_rsv1:
            try:
                data = decompressor.decompress(data)
            except zlib.error:
                refusal = CloseCode.PROTOCOL_ERROR, "invalid compressed data"
            else:
                if len(data) > decompressor.limit:
                    if decompressor.limit >= self.params.max_message_size:
                        refusal = MESSAGE_TOO_BIG, "message too big after decompression"
                    opcode = 0x2  # cut: refused by its size, never decoded
        if refusal is not None:
            self.close(*refusal)
            self._abort()
            return None
        return super()._handle_message(opcode, data)


_HOOKS = all(hasattr(WebSocketProtocol13, name) for name in (
    "_receive_frame", "_read_bytes", "_abort", "_parse_extensions_header", "_create_compressors",
    "_get_compressor_options", "_handle_message"))


def compression_options(inflate_limit: int) -> dict[str, Any] | None:
    """What `get_compression_options` returns: permessage-deflate for clients that offer it,
    when this file knows Tornado's protocol class; None (no compression) otherwise.

    Tornado reads `compression_level` (the shared frames' level, for the fallback's own
    compression) and hands the dict on to `ServerProtocol13._create_compressors`, which reads
    `inflate_limit`: the most bytes a compressed client message may inflate to before it is
    refused (the session's `max_frame_bytes`). Kept here rather than on each protocol object,
    where one more attribute costs every socket a larger `__dict__`."""
    return {"compression_level": DEFLATE_LEVEL, "inflate_limit": inflate_limit} if _HOOKS else None


def server_protocol(protocol: WebSocketProtocol | None) -> WebSocketProtocol | None:
    """Tornado's protocol object as a `ServerProtocol13`, when it is the class this file knows.

    Made anew rather than given the class: an object whose class was swapped no longer shares
    its attribute names with the others', and each socket then pays 1.3 KB for its own dict."""
    if type(protocol) is WebSocketProtocol13 and _HOOKS:
        return ServerProtocol13(protocol.handler, protocol.mask_outgoing, protocol.params)
    return protocol
