"""Frame: a server message serialized once, with its WebSocket wire bytes built once on demand."""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81  # FIN bit + text opcode


def encode_text_frame(payload: bytes) -> bytes:
    """An unmasked, uncompressed WebSocket text frame (RFC 6455 5.2), as a server sends it.

    Valid on every connection, with or without permessage-deflate: RSV1 unset means the
    message is not compressed (RFC 7692 6).
    """
    n = len(payload)
    if n < 126:
        header = bytes((_FIN_TEXT, n))
    elif n < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, n)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, n)
    return header + payload


class Frame:
    """One message for many sockets: JSON text, and the bytes to put on the wire."""

    __slots__ = ("text", "seq", "_wire")

    def __init__(self, text: str, seq: int | None = None) -> None:
        self.text = text
        self.seq = seq
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = encode_text_frame(self.text.encode())
        return self._wire

    def __len__(self) -> int:
        return len(self.wire)
