"""The floor: a bare Tornado fan-out with no auth, no storage and no sequence numbers.

    python -m bench.peers.bare_tornado --port 9000 [--compression]

`/ws` adds the socket to one set and sends a one-line welcome; `POST /publish` parses the
body once, serializes it once and calls `write_message(text)` for every member. That is
what "a Tornado WebSocket broadcast" usually looks like, and nothing more.

`--compression`: `get_compression_options` returns `{}`, Tornado's own permessage-deflate:
each socket that offers it gets its own compressor (level 6), and `write_message`
compresses the text again for every member. With a browser's offer Tornado 6.6 keeps the
context on both sides (it reads no parameter without a value, so a `*_no_context_takeover`
offer is not seen): every socket holds a zlib stream of its own.

It runs on uvloop, as livebracket's server does by default (`--event-loop`), so the two differ
in their code only; `--event-loop asyncio` runs it on asyncio's own loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from bench.peers import until_signalled

WELCOME = json.dumps({"type": "connection_established", "data": {}}, separators=(",", ":"))


class Room:
    def __init__(self) -> None:
        self.members: set[SubscriberHandler] = set()


class SubscriberHandler(WebSocketHandler):
    def initialize(self, room: Room, compression: bool) -> None:
        self.room = room
        self.compression = compression

    def check_origin(self, origin: str) -> bool:
        return True

    def get_compression_options(self) -> dict[str, Any] | None:
        return {} if self.compression else None

    def open(self) -> None:
        self.room.members.add(self)
        self.write_message(WELCOME)

    def on_message(self, message: str | bytes) -> None:
        pass

    def on_close(self) -> None:
        self.room.members.discard(self)


class PublishHandler(web.RequestHandler):
    def initialize(self, room: Room) -> None:
        self.room = room

    def post(self) -> None:
        text = json.dumps(json.loads(self.request.body), separators=(",", ":"))
        sent = 0
        for member in list(self.room.members):
            try:
                member.write_message(text)
                sent += 1
            except WebSocketClosedError:
                pass
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"sent": sent}))


def make_app(compression: bool = False) -> web.Application:
    room = Room()
    return web.Application([(r"/ws", SubscriberHandler, {"room": room, "compression": compression}),
                            (r"/publish", PublishHandler, {"room": room})])


async def main(port: int, compression: bool) -> None:
    server = make_app(compression).listen(port, address="127.0.0.1")
    print(f"bare tornado peer on 127.0.0.1:{port}", flush=True)
    await until_signalled()
    server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--compression", action="store_true", help="offer Tornado's own permessage-deflate")
    parser.add_argument("--event-loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    if args.event_loop == "uvloop":
        import uvloop

        uvloop.run(main(args.port, args.compression))
    else:
        asyncio.run(main(args.port, args.compression))
