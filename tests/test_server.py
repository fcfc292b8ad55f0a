"""server.py as a user runs it: a real process on the embedded store, restarted with its data."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from storage.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """`python server.py` in a child process, with the URL and token it prints."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: asyncio.subprocess.Process | None = None
        self.token = ""

    async def __aenter__(self) -> ServerProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "server.py"), *self.args, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert self.process.stdout
        while not self.token:
            line = (await self.process.stdout.readline()).decode()
            assert line, "server exited before printing its token"
            if line.startswith("organizer token: "):
                self.token = line.split(": ", 1)[1].strip()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def stop(self) -> int:
        """SIGTERM, then the exit code."""
        assert self.process
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.process.wait()


async def call(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    request = HTTPRequest(f"http://127.0.0.1:{port}{path}", method=method,
                          headers={"Authorization": f"Bearer {token}"},
                          body=json.dumps(body) if body is not None else (b"" if method == "POST" else None))
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    return response.code, json.loads(response.body)


@pytest.mark.gen_test(timeout=60)
async def test_restart_keeps_data_and_tokens(tmp_path: Path) -> None:
    """Data written through one server process is there after a restart on the same data dir,
    and a token from the first run still works (the JWT secret is kept, mode 0600)."""
    port = free_port()
    args = ("--port", str(port), "--data-dir", str(tmp_path))
    async with ServerProcess(*args) as first:
        status, tournament = await call(port, "POST", "/api/tournaments", first.token, {"name": "LAN"})
        assert status == 201
        tid = tournament["id"]
        await call(port, "POST", f"/api/tournaments/{tid}/participants", first.token, {"name": "A", "id": "a"})
        await call(port, "POST", f"/api/tournaments/{tid}/participants", first.token, {"name": "B", "id": "b"})
        status, match = await call(port, "POST", f"/api/tournaments/{tid}/matches", first.token,
                                   {"participant_ids": ["a", "b"]})
        assert status == 201
        await call(port, "POST", f"/api/matches/{match['id']}/start", first.token)
        pid = int((tmp_path / "nx-27017.pid").read_text())
        assert await first.stop() == 0
    assert not Path(f"/proc/{pid}").exists(), "the embedded store outlived the server"
    assert (tmp_path / "livebracket.db").exists()
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600

    async with ServerProcess(*args) as second:
        status, again = await call(port, "GET", f"/api/matches/{match['id']}", first.token)
        assert status == 200 and again["state"] == "live" and again["seq"] == 1
        status, log = await call(port, "GET", f"/api/matches/{match['id']}/events", second.token)
        assert [e["type"] for e in log["events"]] == ["match_started"]


@pytest.mark.gen_test(timeout=30)
async def test_memory_store_starts_without_files(tmp_path: Path) -> None:
    """--store memory serves the API and writes no database file."""
    port = free_port()
    async with ServerProcess("--port", str(port), "--store", "memory", "--data-dir", str(tmp_path)) as server:
        status, health = await call(port, "GET", "/healthz", server.token)
        assert status == 200 and health["store_kind"] == "memory"
    assert not (tmp_path / "livebracket.db").exists()


@pytest.mark.gen_test(timeout=30)
async def test_token_command_prints_a_token_for_the_kept_secret(tmp_path: Path) -> None:
    """`server.py token` signs with the data dir's secret and the requested claims."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "server.py"), "token", "--user", "alice", "--name", "Alice",
        "--role", "player", "--ttl", "2h", "--data-dir", str(tmp_path), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode == 0
    secret = (tmp_path / "jwt-secret").read_text().strip()
    claims = jwt.decode(out.decode().strip(), secret, algorithms=["HS256"])
    assert (claims["sub"], claims["username"], claims["role"]) == ("alice", "Alice", "player")
    assert claims["exp"] - claims["iat"] == 7200


@pytest.mark.gen_test(timeout=30)
async def test_bad_options_exit_2_without_a_traceback(tmp_path: Path) -> None:
    """A bad option is a one-line error and exit code 2."""
    for args in (["--port", "http"], ["--store", "mongo"], ["--mongo-url", "localhost:27017"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "server.py"), *args, "--data-dir", str(tmp_path), cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "LIVEBRACKET_STORE": ""})
        _, err = await process.communicate()
        assert process.returncode == 2, args
        assert b"Traceback" not in err and err.startswith(b"livebracket: "), err
