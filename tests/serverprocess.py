"""`python server.py` as a test's child process, and JSON / WebSocket clients of it.

Every wait has a deadline and waits for something that happens (a line on stdout, the
process's exit, a frame): none sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0

# What a client sees when the server is gone mid-request.
GONE = (OSError, HTTPClientError, StreamClosedError, asyncio.TimeoutError)


class ServerGone(Exception):
    """The server stopped answering (killed, or stopping)."""


class ServerProcess:
    """`python server.py ARGS` in a child process: the organizer token it prints, its embedded
    store's pid, its stderr (in a file) and ways to stop it.

    `new_session=True` makes it lead its own process group, as a shell's foreground job does,
    so `interrupt_group()` is a terminal's Ctrl-C.
    """

    def __init__(self, *args: str, log_path: Path, new_session: bool = False, cwd: Path = ROOT,
                 env: dict[str, str] | None = None) -> None:
        self.args = args
        self.log_path = log_path
        self.new_session = new_session
        self.cwd = cwd
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.token = ""

    async def start(self) -> ServerProcess:
        """Start it and wait until it prints its token. Raises AssertionError if it exits first."""
        with open(self.log_path, "ab") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "server.py"), *self.args, cwd=self.cwd, env=self.env,
                stdout=asyncio.subprocess.PIPE, stderr=stderr, start_new_session=self.new_session)
        self.token = await asyncio.wait_for(self._token(), START_TIMEOUT_S)
        return self

    async def _token(self) -> str:
        assert self.process and self.process.stdout
        while True:
            line = (await self.process.stdout.readline()).decode()
            assert line, f"server exited before printing its token:\n{self.stderr()}"
            if line.startswith("organizer token: "):
                return line.split(": ", 1)[1].strip()

    async def __aenter__(self) -> ServerProcess:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        if self.process and self.process.returncode is None:
            await self.signal(signal.SIGKILL)

    @property
    def pid(self) -> int:
        assert self.process
        return self.process.pid

    async def signal(self, sig: int) -> int:
        """Send `sig` to the server alone; its exit code once it has exited."""
        assert self.process
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await self.wait()

    async def interrupt_group(self) -> int:
        """SIGINT to the server's whole process group (a terminal's Ctrl-C); its exit code."""
        assert self.process and self.new_session
        os.killpg(os.getpgid(self.process.pid), signal.SIGINT)
        return await self.wait()

    async def wait(self) -> int:
        assert self.process
        return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)

    def stderr(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def store_pid(data_dir: Path) -> int:
    """The pid of the embedded store that serves `data_dir` (from its pid file)."""
    return int((data_dir / "nx-27017.pid").read_text())


def process_gone(pid: int) -> bool:
    """Whether `pid` has ended (a zombie waiting for its parent counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


class Client:
    """JSON over HTTP to one server port, as one bearer token."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.http = AsyncHTTPClient()

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """(status, JSON body). Raises ServerGone when the server does not answer."""
        request = HTTPRequest(
            f"http://127.0.0.1:{self.port}{path}", method=method, request_timeout=10,
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
            body=json.dumps(body) if body is not None else (b"" if method == "POST" else None))
        try:
            response = await self.http.fetch(request, raise_error=False)
        except GONE as e:
            raise ServerGone(str(e)) from e
        if response.code == 599:
            raise ServerGone(str(response.error))
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
    async def open(cls, port: int, path: str, token: str) -> Socket:
        """Raises ServerGone when the server does not answer."""
        sep = "&" if "?" in path else "?"
        try:
            conn = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}{path}{sep}token={token}",
                                                       request_timeout=10))
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
