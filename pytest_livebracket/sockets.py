"""Sockets of a started server for synchronous tests: `expect(type)`, commands, since/epoch reconnects.

A reader on the plugin's loop keeps every frame a socket receives, so nothing is lost between
two waits and the server's heartbeat pings are answered while the test does something else.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from pytest_livebracket import aio
from pytest_livebracket.loop import LoopThread, WaitTimeout

UNSEEN = ("ping", "presence")  # frames `recv` passes over (the socket answers pings itself)


class LiveSocket:
    """One socket of the server. A reader on the plugin's loop keeps every frame in `frames`
    (and answers the server's heartbeat pings); `expect` and `recv` take frames from them, each
    frame at most once, oldest first."""

    def __init__(self, portal: LoopThread, conn: aio.Socket, factory: SocketFactory, path: str,
                 token: str, since: int | None, timeout_s: float) -> None:
        self._portal = portal
        self._conn = conn
        self._factory = factory
        self.path = path
        self.token = token
        self.timeout_s = timeout_s
        self.frames: list[dict[str, Any]] = []  # every frame received, in order
        self.welcome: dict[str, Any] = {}  # connection_established, once `open` has read it
        self.last_seq: int | None = since  # the newest seq received: `since` for a reconnect
        self.epoch: str | None = None
        self._taken: set[int] = set()
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while (text := await self._conn.conn.read_message()) is not None:
            frame: dict[str, Any] = json.loads(text)
            if frame.get("type") in ("connection_established", "subscribed"):
                data = frame.get("data", {})
                self.epoch = data.get("epoch")
                if not data.get("recovered"):
                    self.last_seq = data.get("seq")
            elif isinstance(frame.get("seq"), int):
                self.last_seq = max(self.last_seq or 0, frame["seq"])
            elif frame.get("type") == "ping":
                await self._conn.send({"type": "pong", "timestamp": frame.get("timestamp")})
            self.frames.append(frame)
            self._arrived.set()
        self._arrived.set()

    @property
    def close_code(self) -> int | None:
        return self._conn.close_code

    @property
    def close_reason(self) -> str | None:
        return self._conn.conn.close_reason

    def expect(self, *types: str, timeout: float | None = None) -> dict[str, Any]:
        """The oldest frame not yet taken whose type is one of `types`. Raises WaitTimeout after
        `timeout` seconds (default: the plugin's), or once the server has closed the socket."""
        wanted = " or ".join(types)
        return self._portal.run(self._take(lambda f: f.get("type") in types, wanted, timeout))

    def recv(self, *, timeout: float | None = None) -> dict[str, Any]:
        """The oldest frame not yet taken, pings and presence passed over. Raises WaitTimeout."""
        return self._portal.run(self._take(lambda f: f.get("type") not in UNSEEN, "frame", timeout))

    def send(self, frame: dict[str, Any]) -> bool:
        """Send one frame; False when the socket is already closed."""
        return self._portal.run(self._conn.send(frame))

    def command(self, type: str, data: dict[str, Any] | None = None, *,
                timeout: float | None = None) -> dict[str, Any]:
        """Send a command frame with a fresh `id` and return its answer: the `ack` or the
        `error` with that id (the events it caused stay for `expect`). Raises WaitTimeout."""
        frame_id = f"c{next(self._ids)}"

        async def ask() -> dict[str, Any]:
            if not await self._conn.send({"type": type, "id": frame_id, "data": data or {}}):
                raise WaitTimeout(f"cannot send {type}: the socket is closed ({self._closing()})")
            return await self._take(lambda f: f.get("type") in ("ack", "error") and f.get("id") == frame_id,
                                    f"answer to {type} {frame_id}", timeout)

        return self._portal.run(ask())

    def closed(self, *, timeout: float | None = None) -> tuple[int | None, str | None]:
        """Wait until the server closes the socket: its close code and reason."""
        return self._portal.run(self._closed(timeout))

    def close(self) -> None:
        """Close the socket and wait until it is closed."""
        async def close() -> None:
            self._conn.close()
            await self._closed(self.timeout_s)

        self._portal.run(close())

    def reconnect(self, *, since: int | None = None, epoch: str | None = None, welcome: bool = True,
                  timeout: float | None = None) -> LiveSocket:
        """Close this socket and open its path again with `since` (default: `last_seq`) and
        `epoch` (default: this socket's): the server replays what was missed
        (`welcome["data"]["recovered"]`) and the frames follow in `expect`."""
        self.close()
        return self._factory(self.path, self.token, since=self.last_seq if since is None else since,
                             epoch=epoch or self.epoch, welcome=welcome, timeout=timeout)

    async def _take(self, match: Callable[[dict[str, Any]], bool], what: str,
                    timeout: float | None) -> dict[str, Any]:
        timeout_s = self.timeout_s if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            for index, frame in enumerate(self.frames):
                if index not in self._taken and match(frame):
                    self._taken.add(index)
                    return frame
            if self._reader is None or self._reader.done():
                raise WaitTimeout(f"no {what} on {self.path}: the socket closed ({self._closing()}); "
                                  f"untaken frames: {self._untaken()}")
            if loop.time() >= deadline:
                raise WaitTimeout(f"no {what} on {self.path} within {timeout_s} s; untaken frames: {self._untaken()}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                pass

    async def _closed(self, timeout: float | None) -> tuple[int | None, str | None]:
        timeout_s = self.timeout_s if timeout is None else timeout
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), timeout_s)
            except asyncio.TimeoutError:
                raise WaitTimeout(f"{self.path} still open after {timeout_s} s") from None
        return self.close_code, self.close_reason

    def _closing(self) -> str:
        return f"close {self.close_code} {self.close_reason!r}"

    def _untaken(self) -> str:
        names = [f"{f.get('type')}" + (f"#{f['seq']}" if "seq" in f else "")
                 for i, f in enumerate(self.frames) if i not in self._taken]
        return ", ".join(names[-30:]) or "none"


class SocketFactory:
    """Opens sockets of one server and remembers them, so `close_all()` closes what a test opened."""

    def __init__(self, portal: LoopThread, port: int, token: str, timeout_s: float) -> None:
        self._portal = portal
        self.port = port
        self.token = token
        self.timeout_s = timeout_s
        self.opened: list[LiveSocket] = []

    def __call__(self, path: str, token: str | None = None, *, since: int | None = None,
                 epoch: str | None = None, welcome: bool = True, timeout: float | None = None) -> LiveSocket:
        """A socket on `path` (`/ws/match/<id>`, `/ws/tournament/<id>`, `/ws/lobby`) as `token`
        (default: the organizer's), recovering from `since`/`epoch` when given. With `welcome`,
        waits for `connection_established` and raises AssertionError with the refusal if an
        error frame comes instead; without it, the first frame is left for `expect`."""
        query = urlencode({k: v for k, v in (("since", since), ("epoch", epoch)) if v is not None})
        timeout_s = self.timeout_s if timeout is None else timeout
        token = token or self.token

        async def open_() -> LiveSocket:
            conn = await aio.Socket.open(self.port, f"{path}?{query}" if query else path, token, timeout_s)
            sock = LiveSocket(self._portal, conn, self, path, token, since, self.timeout_s)
            await sock._start()
            return sock

        sock = self._portal.run(open_())
        self.opened.append(sock)
        if welcome:
            first = sock._portal.run(sock._take(lambda f: True, "welcome", timeout_s))
            if first.get("type") != "connection_established":
                raise AssertionError(f"{path} refused: {first}")
            sock.welcome = first
        return sock

    def close_all(self) -> None:
        for sock in self.opened:
            try:
                sock.close()
            except WaitTimeout:
                pass
        self.opened.clear()
