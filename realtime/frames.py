"""Frame: a server message serialized once, with its WebSocket wire bytes (plain and deflated) built once on demand."""

from __future__ import annotations

import struct
import zlib

_FIN_TEXT = 0x81  # FIN bit + text opcode
_RSV1 = 0x40  # permessage-deflate's "Per-Message Compressed" bit (RFC 7692 6)
_EMPTY_BLOCK = b"\x00\x00\xff\xff"  # what Z_SYNC_FLUSH ends with; RFC 7692 7.2.1 drops it

DEFLATE_LEVEL = 6  # zlib's default (and Tornado's): most of level 9's ratio at a third of its cost
# Below this a message goes out uncompressed (RSV1 clear, which permessage-deflate allows per
# message): JSON this short shrinks by a few bytes at most (a 41-byte pong by 6, a 72-byte ack
# by 4), while each message deflated costs a zlib stream here (per socket for a pong or an ack)
# and an inflate in the client.
DEFLATE_MIN_BYTES = 100


def encode_text_frame(payload: bytes, compressed: bool = False) -> bytes:
    """An unmasked WebSocket text frame (RFC 6455 5.2), as a server sends it.

    Uncompressed (RSV1 clear) it is valid on every connection, with or without
    permessage-deflate (RFC 7692 6); `compressed` sets RSV1: `payload` is then a deflated message.
    """
    first = _FIN_TEXT | _RSV1 if compressed else _FIN_TEXT
    n = len(payload)
    if n < 126:
        header = bytes((first, n))
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


def deflate_message(payload: bytes, level: int = DEFLATE_LEVEL) -> bytes:
    """A message compressed as permessage-deflate sends it without context takeover (RFC 7692
    7.2.1): raw DEFLATE from a fresh stream, sync-flushed, the trailing 00 00 ff ff removed.
    Any client that negotiated `server_no_context_takeover` inflates it on its own.

    The stream's window is the smallest that covers the message (2^9 to 2^15 bytes: no
    back-reference can reach further, so the output is the same as with the full window, and
    any 15-bit inflater reads it): a fresh full-window stream allocates 256 KiB, which made one
    600-byte message cost 50-70 us here instead of 6.
    """
    window_bits = min(zlib.MAX_WBITS, max(9, (len(payload) - 1).bit_length()))
    stream = zlib.compressobj(level, zlib.DEFLATED, -window_bits)
    data = stream.compress(payload) + stream.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4] if data.endswith(_EMPTY_BLOCK) else data


class Frame:
    """One message for many sockets: JSON text, and the bytes to put on the wire.

    `wire` is the plain frame; `deflated` the frame for a socket that negotiated
    permessage-deflate with `server_no_context_takeover`: without a shared context a message
    compresses to the same bytes for every socket, so it is compressed once, on first use.
    """

    __slots__ = ("text", "seq", "_wire", "_deflated")

    def __init__(self, text: str, seq: int | None = None) -> None:
        self.text = text
        self.seq = seq
        self._wire: bytes | None = None
        self._deflated: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = encode_text_frame(self.text.encode())
        return self._wire

    @property
    def deflated(self) -> bytes:
        """The compressed frame (RSV1 set); `wire` itself (the same object) for a message under
        `DEFLATE_MIN_BYTES` or one that deflate would not make smaller."""
        if self._deflated is None:
            payload = self.text.encode()
            packed = deflate_message(payload) if len(payload) >= DEFLATE_MIN_BYTES else payload
            self._deflated = encode_text_frame(packed, compressed=True) if len(packed) < len(payload) else self.wire
        return self._deflated

    def __len__(self) -> int:
        return len(self.wire)
