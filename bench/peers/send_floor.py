"""The machine's floor: a fan-out that is one kernel send per socket and nothing else.

    python -m bench.peers.send_floor --port 9000

No framework: an `asyncio.Protocol` on uvloop parses just enough HTTP/1.1 to upgrade `GET /ws`
(RFC 6455 handshake, then a one-line welcome) and to answer `POST /publish` (keep-alive,
pipelined requests answered in order). A publish parses the body once, serializes it once,
frames it once and hands the same bytes to every socket's transport, whose `write` is
uvloop's C path: one `send(2)` when nothing is queued. Frames from clients are not read
(a close frame closes the socket). Its sockets have TCP_NODELAY (uvloop's default), as
livebracket's.

No server written in Python can fan out faster on the same machine, so the ratio of a target to
this one says how much of the kernel's speed its own code leaves unused, and this row's p99 at
10,000 subscribers is the best any one-core server gets here (docs/performance.md#results).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
from typing import cast

import uvloop

from bench.peers import until_signalled

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
WELCOME = json.dumps({"type": "connection_established", "data": {}}, separators=(",", ":")).encode()
MAX_HEAD = 16 * 1024
OPCODE_CLOSE = 0x8


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455 section 5.2)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 1 << 16:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + payload


class Room:
    def __init__(self) -> None:
        self.members: set[asyncio.Transport] = set()

    def publish(self, body: bytes) -> int:
        frame = text_frame(json.dumps(json.loads(body), separators=(",", ":")).encode())
        members = list(self.members)
        for transport in members:
            transport.write(frame)
        return len(members)


class Connection(asyncio.Protocol):
    """One TCP connection: HTTP requests until it upgrades, then a subscriber."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's: a Transport by its methods

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.room.members.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.upgraded:
            if data and data[0] & 0x0F == OPCODE_CLOSE:
                self.transport.close()
            return
        self.buffer += data
        while not self.upgraded and self._request():
            pass
        if len(self.buffer) > MAX_HEAD:
            self.transport.close()

    def _request(self) -> bool:
        """Handle the first whole request in the buffer; False when it is not all here."""
        assert self.transport is not None
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = bytes(self.buffer[:end]).split(b"\r\n")
        method, path, _ = lines[0].split(b" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        if len(self.buffer) < end + 4 + length:
            return False
        body = bytes(self.buffer[end + 4:end + 4 + length])
        del self.buffer[:end + 4 + length]
        if method == b"GET" and path == b"/ws" and b"sec-websocket-key" in headers:
            accept = base64.b64encode(hashlib.sha1(headers[b"sec-websocket-key"] + WS_GUID).digest())
            self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                                 + text_frame(WELCOME))
            self.upgraded = True
            self.room.members.add(self.transport)
        elif method == b"POST" and path == b"/publish":
            answer = json.dumps({"sent": self.room.publish(body)}).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(answer)).encode() + b"\r\n\r\n" + answer)
        else:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True


async def main(port: int) -> None:
    room = Room()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(room), "127.0.0.1", port, backlog=4096)
    print(f"send floor peer on 127.0.0.1:{port}", flush=True)
    await until_signalled()
    server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(main(parser.parse_args().port))
