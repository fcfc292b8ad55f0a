"""WebSocket routes `/ws/match/<id>`, `/ws/tournament/<id>`, `/ws/lobby`: Tornado forwards to the session.

The socket is accepted before any check (a failed handshake only shows a browser 1006),
then `realtime.session.SocketSession` admits, refuses or subscribes it and answers its
frames. This handler only forwards `open`, each message and the close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.iostream import IOStream
from tornado.websocket import WebSocketHandler, WebSocketProtocol

from handlers.connection import TornadoConnection, compression_options, server_protocol
from realtime.session import Handshake, SocketSession

if TYPE_CHECKING:
    from handlers.services import Services


class RoomSocketHandler(WebSocketHandler):
    def initialize(self, services: Services, room: str) -> None:
        self.services = services
        self.room = room
        self.session: SocketSession | None = None

    def check_origin(self, origin: str) -> bool:
        return True  # checked after accepting, so the refusal carries a readable close code

    def get_compression_options(self) -> dict[str, Any] | None:
        # permessage-deflate for a client that offers it, each frame compressed once for all
        # members (handlers/connection.py); a client that does not gets the plain frames
        return compression_options(inflate_limit=self.services.config.max_frame_bytes)

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        return server_protocol(super().get_websocket_protocol())

    def _detach_stream(self) -> IOStream:
        # Tornado also replaces write, finish, set_header ... on the handler object with methods
        # that raise: seven more attributes that give each socket its own 1.3 KB dict. Nothing
        # here calls them after the upgrade.
        return self.detach()

    async def open(self, room_id: str) -> None:
        config, limits = self.services.config, self.services.limits
        # Nagle's algorithm off (Tornado leaves it on): a frame goes out when it is written, not
        # held until the client acknowledges the one before, which a client's delayed ACK makes
        # 40-200 ms. Realtime servers all do this; SSE streams too (handlers/sse.py).
        self.set_nodelay(True)

        def slow() -> None:
            limits.slow_consumers += 1

        conn = TornadoConnection(self, config.max_pending_bytes, config.max_pending_frames, slow,
                                 direct=self.settings.get("direct_writes", True))
        request = self.request
        handshake = Handshake(room_id=room_id,
                              query={k: v[0].decode(errors="replace") for k, v in request.query_arguments.items()},
                              origin=request.headers.get("Origin"), host=request.host,
                              peer=request.remote_ip or "", forwarded_for=request.headers.get("X-Forwarded-For"))
        _forget_the_request(request)
        self.session = SocketSession(self.services.sockets, conn, self.services.sockets.rooms[self.room], handshake)
        await self.session.open()

    async def on_message(self, message: str | bytes) -> None:
        if self.session is not None:
            await self.session.receive(message)

    def on_close(self) -> None:
        if self.session is not None:
            self.session.closed()


def _forget_the_request(request: HTTPServerRequest) -> None:
    """Drop what the upgrade request carried once the handshake has it: its headers and query
    (the token among them) would stay as long as the socket, 2-3 KB of each one."""
    request.headers = HTTPHeaders()
    request.query_arguments = request.arguments = {}
    request.query = ""
    request.uri = request.path


routes = [
    (r"/ws/match/([^/]*)/?", RoomSocketHandler, {"room": "match"}),
    (r"/ws/tournament/([^/]*)/?", RoomSocketHandler, {"room": "tournament"}),
    (r"/ws/(lobby)/?", RoomSocketHandler, {"room": "lobby"}),
]
