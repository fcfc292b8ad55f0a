"""A WebSocket test client: `sock, welcome = await connect(api, path, token)`.

Every socket opened through `connect` is closed by the fixture that made `api` (or by
`serve_app`'s teardown), so a test that fails midway leaves nothing open.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.conftest import Api


class Socket:
    """A test client: `await sock.recv()` is the next frame (presence and server pings skipped)."""

    def __init__(self, conn: WebSocketClientConnection) -> None:
        self.conn = conn

    async def recv(self, *, skip: tuple[str, ...] = ("presence", "ping")) -> dict[str, Any]:
        while True:
            text = await self.conn.read_message()
            assert text is not None, f"closed: {self.conn.close_code} {self.conn.close_reason}"
            frame: dict[str, Any] = json.loads(text)
            if frame["type"] not in skip:
                return frame

    async def send(self, frame: dict[str, Any]) -> None:
        await self.conn.write_message(json.dumps(frame))

    async def ask(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.send(frame)
        return await self.recv()

    async def closed(self) -> tuple[int | None, str | None]:
        """Read until the server closes; the close code and reason."""
        while await self.conn.read_message() is not None:
            pass
        return self.conn.close_code, self.conn.close_reason

    async def quiet(self) -> None:
        """Prove nothing is queued for us: the next frame after a ping is its pong."""
        assert (await self.ask({"type": "ping", "timestamp": 1}))["type"] == "pong"

    def close(self) -> None:
        self.conn.close()


async def connect(api: Api, path: str, token: str | None = None, origin: str | None = None,
                  welcome: bool = True) -> tuple[Socket, dict[str, Any]]:
    url = api.base_url.replace("http", "ws", 1) + path
    if token is not None:
        url += ("&" if "?" in url else "?") + f"token={token}"
    headers = {"Origin": origin} if origin else {}
    sock = Socket(await websocket_connect(HTTPRequest(url, headers=headers)))
    api.opened.append(sock)  # closed when the test's app is torn down
    first = await sock.recv() if welcome else {}
    return sock, first


async def refused(api: Api, path: str, token: str | None = None, origin: str | None = None) -> tuple[Any, ...]:
    sock, first = await connect(api, path, token, origin)
    code, reason = await sock.closed()
    return first["type"], first["code"], code, reason, first.get("reason")


async def raw_socket_that_never_reads(port: int, path: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads again."""
    sock, _ = await raw_handshake(port, path, rcvbuf=4096)
    return sock


async def raw_handshake(port: int, path: str, extensions: str | None = None,
                        rcvbuf: int | None = None) -> tuple[socket.socket, dict[str, str]]:
    """A non-blocking socket that performed the WebSocket handshake itself (offering
    `extensions` as `Sec-WebSocket-Extensions`, when given), and the 101 answer's headers
    (names in lower case). Whatever follows the answer is left unread on the socket."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    offer = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions is not None else ""
    await loop.sock_sendall(sock, (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                                   f"Sec-WebSocket-Version: 13\r\n{offer}\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += await loop.sock_recv(sock, 1)
    assert response.startswith(b"HTTP/1.1 101")
    headers = {}
    for line in response.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return sock, headers
