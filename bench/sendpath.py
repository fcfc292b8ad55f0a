"""The direct path's cost per send, in one process: `python -m bench.sendpath [--deflated] [--tcp] [--tree DIR]`.

2,000 socketpairs (`--tcp`: TCP connections over loopback, as the benchmarks' sockets), each
end wrapped as Tornado's own `WebSocketProtocol13` over a plain
`IOStream`, one `handlers.connection.TornadoConnection` each (as handlers/sockets.py makes
them). Each round sends 10 new frames of 700 bytes to every connection (a fan-out; with
`--deflated` the connections send `Frame.deflated`, its one compression per frame included),
then the peers drain; then the same frames again with a bare `socket.send` of their wire
bytes per socket, the kernel's own cost (the floor under any server's fan-out). Prints the
median and best ns per send over the rounds, of each.

`--tree DIR` imports `handlers` and `realtime` from another checkout (a copy of the code
before a change), so two trees can be measured alternately with one script.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
import sys
import time
from typing import Any

from bench.system import raise_fd_limit


class _Handler:
    """What TornadoConnection reads of a WebSocketHandler."""

    ws_connection: Any = None

    def close(self, code: int, reason: str) -> None:
        pass


def _pair(listener: socket.socket | None) -> tuple[socket.socket, socket.socket]:
    """(the server's end, the peer's): a socketpair, or a TCP connection to `listener`."""
    if listener is None:
        return socket.socketpair()
    peer = socket.create_connection(listener.getsockname())
    mine, _ = listener.accept()
    mine.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as livebracket's room sockets (handlers/sockets.py)
    return mine, peer


def _ns_per_send(payloads: list[Any], senders: list[Any], peers: list[socket.socket]) -> float:
    """Every payload `send` by every sender (a TornadoConnection and its Frame, or a socket and
    bytes), timed; then the peers drain."""
    started = time.perf_counter_ns()
    for payload in payloads:
        for sender in senders:
            sender.send(payload)
    elapsed = time.perf_counter_ns() - started
    for peer in peers:
        try:
            while peer.recv(1 << 16):
                pass
        except BlockingIOError:
            pass
    return elapsed / (len(payloads) * len(senders))


async def measure(rounds: int, deflated: bool, tcp: bool = False,
                  sockets: int = 2000) -> tuple[list[float], list[float]]:
    """ns per send of each round: (through TornadoConnection, a bare socket.send), sorted."""
    from tornado.iostream import IOStream
    from tornado.websocket import WebSocketProtocol13, _WebSocketParams

    from handlers.connection import TornadoConnection
    from realtime.frames import Frame

    raise_fd_limit()
    listener = socket.create_server(("127.0.0.1", 0), backlog=sockets) if tcp else None
    peers, conns, mines = [], [], []
    for _ in range(sockets):
        mine, peer = _pair(listener)
        mines.append(mine)
        peer.setblocking(False)
        handler = _Handler()
        ws = WebSocketProtocol13(handler, False, _WebSocketParams())  # type: ignore[arg-type]
        ws.stream = IOStream(mine)
        handler.ws_connection = ws
        conn = TornadoConnection(handler, 1 << 20, 2000, lambda: None)  # type: ignore[arg-type]
        if deflated:
            conn.deflate = True  # as if the socket had negotiated permessage-deflate
        conns.append(conn)
        peers.append(peer)
    text = '{"type":"score_updated","seq":%d,' + '"x":1,' * 110 + '"end":0}'
    per_send, bare = [], []
    gc.disable()
    for r in range(rounds):
        frames = [Frame(text % (r * 10 + i), r * 10 + i) for i in range(10)]
        per_send.append(_ns_per_send(frames, conns, peers))
        bare.append(_ns_per_send([frame.deflated if deflated else frame.wire for frame in frames], mines, peers))
    gc.enable()
    return sorted(per_send), sorted(bare)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sendpath", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--deflated", action="store_true", help="send Frame.deflated (a compressing socket)")
    parser.add_argument("--tcp", action="store_true", help="TCP connections over loopback instead of socketpairs")
    parser.add_argument("--tree", help="import the server's code from this checkout")
    args = parser.parse_args(argv)
    if args.tree:
        sys.path.insert(0, args.tree)
    times, bare = asyncio.run(measure(args.rounds, args.deflated, args.tcp))
    print(f"{args.tree or 'this tree'} {'deflated' if args.deflated else 'plain'}, "
          f"{'TCP' if args.tcp else 'socketpairs'}: median {times[len(times) // 2]:.0f} ns/send, "
          f"best {times[0]:.0f}; a bare socket.send: median {bare[len(bare) // 2]:.0f}, best {bare[0]:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
