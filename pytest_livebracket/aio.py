"""Async clients of a server process, on the caller's event loop: JSON over HTTP, and sockets.

These are the suite's clients of `ServerProcess` (tests/test_crash.py, tests/test_server.py);
the fixtures' synchronous clients (pytest_livebracket.live) run them on the plugin's own loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

# What a client sees when the server is gone mid-request.
GONE = (OSError, HTTPClientError, StreamClosedError, asyncio.TimeoutError)
BODY_METHODS = ("POST", "PUT", "PATCH")  # Tornado wants a body for these, if only b""


class ServerGone(Exception):
    """The server stopped answering (killed, or stopping)."""


class Client:
    """JSON over HTTP to one server port, as one bearer token."""

    def __init__(self, port: int, token: str, timeout_s: float = 10.0) -> None:
        self.port = port
        self.token = token
        self.timeout_s = timeout_s
        self.http = AsyncHTTPClient()

    async def response(self, method: str, path: str, body: Any = None,
                       headers: dict[str, str] | None = None) -> HTTPResponse:
        """The whole response, whatever its status. Raises ServerGone when the server does not
        answer within `timeout_s`."""
        request = HTTPRequest(
            f"http://127.0.0.1:{self.port}{path}", method=method, request_timeout=self.timeout_s,
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
            body=json.dumps(body) if body is not None else (b"" if method in BODY_METHODS else None),
            allow_nonstandard_methods=True)
        try:
            response = await self.http.fetch(request, raise_error=False)
        except GONE as e:
            raise ServerGone(str(e)) from e
        if response.code == 599:
            raise ServerGone(str(response.error))
        return response

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """(status, JSON body). Raises ServerGone when the server does not answer."""
        response = await self.response(method, path, body, headers)
        return response.code, json.loads(response.body) if response.body else None

    async def ok(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, data = await self.call(method, path, body)
        assert status == expect, (method, path, status, data)
        return data

    async def events(self, match_id: str) -> list[dict[str, Any]]:
        """The whole committed event log of a match, page by page."""
        log: list[dict[str, Any]] = []
        while True:
            page = (await self.ok("GET", f"/api/matches/{match_id}/events?since={len(log)}&limit=1000"))["events"]
            log += page
            if len(page) < 1000:
                return log

    async def live_match(self, tournament_id: str, players: list[str]) -> dict[str, Any]:
        """A new match of these two players, started."""
        match = await self.ok("POST", f"/api/tournaments/{tournament_id}/matches",
                              {"participant_ids": players}, 201)
        return dict(await self.ok("POST", f"/api/matches/{match['id']}/start"))


class Socket:
    """A WebSocket client of the server: frames as dicts; None once the server has closed."""

    def __init__(self, conn: WebSocketClientConnection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, port: int, path: str, token: str, timeout_s: float = 10.0) -> Socket:
        """Raises ServerGone when the server does not answer."""
        sep = "&" if "?" in path else "?"
        try:
            conn = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}{path}{sep}token={token}",
                                                       request_timeout=timeout_s))
        except GONE as e:
            raise ServerGone(str(e)) from e
        return cls(conn)

    async def recv(self, skip: tuple[str, ...] = ("presence", "ping"),
                   timeout_s: float = 20.0) -> dict[str, Any] | None:
        """The next frame not in `skip`. Raises asyncio.TimeoutError after `timeout_s`."""
        while True:
            text = await asyncio.wait_for(self.conn.read_message(), timeout_s)
            if text is None:
                return None
            frame: dict[str, Any] = json.loads(text)
            if frame["type"] not in skip:
                return frame

    async def send(self, frame: dict[str, Any]) -> bool:
        """False when the socket is already closed."""
        try:
            await self.conn.write_message(json.dumps(frame))
        except (WebSocketClosedError, *GONE):
            return False
        return True

    @property
    def close_code(self) -> int | None:
        return self.conn.close_code

    def close(self) -> None:
        self.conn.close()
