"""Bytes per event on the wire, plain and with permessage-deflate: `python -m bench.wire`.

Starts livebracket (`server.py --store memory`), makes a started single elimination of
`--players` players and one live match in it, and opens four sockets that do their own
handshake: the match room and the tournament room, each once plain and once offering
permessage-deflate as Chromium does. It then posts `--events` guarded scores and reads every
frame as it is on the wire, header included: the two welcomes (the match's and the
tournament's snapshots) and each event, as the match room gets it (`score_updated` with the
match snapshot) and as the tournament room does.

Tornado's own per-connection compression is not measured on a socket (livebracket does not
do it) but computed from the same texts with Tornado's compressor class as Tornado 6.6 sets
it up for a browser's offer: one persistent stream per socket (context takeover), level 6, a
15-bit window. Its figure for an event is the mean over the events after the first, each
compressed after those before it on the same stream.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import struct
import sys
import zlib
from typing import Any

from tornado.websocket import _PerMessageDeflateCompressor

from bench.targets import HOST, Livebracket, TargetError

OFFER = "permessage-deflate; client_max_window_bits"  # Chromium's
_TAIL = b"\x00\x00\xff\xff"
KINDS = ("match welcome", "match event", "tournament welcome", "tournament event")


class RawSocket:
    """A WebSocket client without a library: the handshake by hand, frames as they come."""

    def __init__(self, sock: socket.socket, answer: str | None) -> None:
        self.sock = sock
        self.answer = answer  # the server's Sec-WebSocket-Extensions, if any
        self.buffered = bytearray()

    @classmethod
    async def open(cls, port: int, path: str, offer: str | None) -> RawSocket:
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, (HOST, port))
        key = base64.b64encode(os.urandom(16)).decode()
        extension = f"Sec-WebSocket-Extensions: {offer}\r\n" if offer else ""
        await loop.sock_sendall(sock, (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
                                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                                       f"Sec-WebSocket-Version: 13\r\n{extension}\r\n").encode())
        client = cls(sock, None)
        head = await client.read_until(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise TargetError(f"handshake refused: {head[:100]!r}")
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions":
                client.answer = value.strip()
        return client

    async def read_until(self, marker: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        while marker not in self.buffered:
            chunk = await loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise TargetError("the server hung up")
            self.buffered.extend(chunk)
        end = self.buffered.index(marker) + len(marker)
        data = bytes(self.buffered[:end])
        del self.buffered[:end]
        return data

    async def read(self, n: int) -> bytes:
        loop = asyncio.get_running_loop()
        while len(self.buffered) < n:
            chunk = await loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise TargetError("the server hung up")
            self.buffered.extend(chunk)
        data = bytes(self.buffered[:n])
        del self.buffered[:n]
        return data

    async def message(self) -> tuple[dict[str, Any], str, int]:
        """The next text message other than presence: its JSON, its text, its wire bytes."""
        while True:
            first, second = await self.read(2)
            length, header = second & 0x7F, 2
            if length == 126:
                (length,) = struct.unpack("!H", await self.read(2))
                header = 4
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.read(8))
                header = 10
            payload = await self.read(length)
            if first & 0x0F != 0x1:
                continue
            text = (zlib.decompressobj(-15).decompress(payload + _TAIL) if first & 0x40 else payload).decode()
            parsed: dict[str, Any] = json.loads(text)
            if parsed["type"] != "presence":
                return parsed, text, header + length

    def close(self) -> None:
        self.sock.close()


def frame_bytes(n: int) -> int:
    """A server frame's bytes on the wire for an n-byte payload (RFC 6455 5.2, unmasked)."""
    return n + (2 if n < 126 else 4 if n < 1 << 16 else 10)


async def measure(target: Livebracket, players: int, events: int) -> dict[str, Any]:
    """Every kind's wire bytes: plain, deflated once (as sent), Tornado per socket (computed)."""
    tid = target.call("POST", "/api/tournaments", {"name": "Wire Cup", "game": "bench"})["id"]
    rows = [{"name": f"Player {i}", "id": f"p{i}"} for i in range(1, players + 1)]
    target.call("POST", f"/api/tournaments/{tid}/participants/bulk", {"participants": rows})
    target.call("POST", f"/api/tournaments/{tid}/start")
    matches = target.call("GET", f"/api/tournaments/{tid}/matches")["matches"]
    match = next(m for m in matches if len(m["participant_ids"]) == 2)
    match = target.call("POST", f"/api/matches/{match['id']}/start")
    paths = {"match": f"/ws/match/{match['id']}?token={target.token}",
             "tournament": f"/ws/tournament/{tid}?token={target.token}"}
    sockets = {(room, offer is not None): await RawSocket.open(target.port, path, offer)
               for room, path in paths.items() for offer in (None, OFFER)}
    try:
        answers = {room: sockets[room, True].answer for room in paths}
        if not all(a and "server_no_context_takeover" in a for a in answers.values()):
            raise TargetError(f"permessage-deflate not answered as expected: {answers}")
        texts: dict[str, list[str]] = {kind: [] for kind in KINDS}
        sizes: dict[tuple[str, bool], list[int]] = {(kind, packed): [] for kind in KINDS for packed in (False, True)}
        for room in paths:
            for packed in (False, True):
                welcome, text, size = await sockets[room, packed].message()
                sizes[f"{room} welcome", packed].append(size)
                if not packed:
                    texts[f"{room} welcome"].append(text)
        version = match["version"]
        for k in range(1, events + 1):
            version = target.call("POST", f"/api/matches/{match['id']}/score",
                                  {"scores": {match["participant_ids"][0]: k}},
                                  {"If-Match": str(version)})["version"]
            for room in paths:
                seen = []
                for packed in (False, True):
                    event, text, size = await sockets[room, packed].message()
                    seen.append(event)
                    sizes[f"{room} event", packed].append(size)
                    if not packed:
                        texts[f"{room} event"].append(text)
                if seen[0] != seen[1] or seen[0]["type"] != "score_updated":
                    raise TargetError(f"the plain and the deflating socket read different frames: {seen}")
    finally:
        for sock in sockets.values():
            sock.close()
    result: dict[str, Any] = {"players": players, "events": events, "answer": answers["match"], "kinds": {}}
    for kind in KINDS:
        tornado = tornado_per_socket(texts[kind])
        result["kinds"][kind] = {"plain": statistics.mean(sizes[kind, False]),
                                 "once": statistics.mean(sizes[kind, True]),
                                 "tornado": tornado}
    return result


def tornado_per_socket(texts: list[str]) -> float:
    """Tornado's wire bytes for these messages on one socket, as its persistent compressor
    makes them: the first message's for a single one, else the mean of those after the first."""
    compressor = _PerMessageDeflateCompressor(persistent=True, max_wbits=15, compression_options={})
    sizes = [frame_bytes(len(compressor.compress(text.encode()))) for text in texts]
    return float(sizes[0]) if len(sizes) == 1 else statistics.mean(sizes[1:])


def table(result: dict[str, Any]) -> str:
    out = [f"Bytes per frame on the wire (header included), {result['players']}-player single elimination, "
           f"mean of {result['events']} events; livebracket answered `{result['answer']}`.", "",
           "| frame | plain B | deflated once B | once / plain | Tornado per socket B (context takeover, computed) "
           "| Tornado / plain |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind, k in result["kinds"].items():
        out.append(f"| {kind} | {k['plain']:,.0f} | {k['once']:,.0f} | {k['once'] / k['plain']:.2f} "
                   f"| {k['tornado']:,.0f} | {k['tornado'] / k['plain']:.2f} |")
    return "\n".join(out)


def run(players: int, events: int) -> dict[str, Any]:
    """Start livebracket, measure, stop it."""
    target = Livebracket()
    try:
        target.start()
        return asyncio.run(measure(target, players, events))
    finally:
        target.stop()
        target.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wire", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--players", type=int, default=64)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args(argv)
    print(table(run(args.players, args.events)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
