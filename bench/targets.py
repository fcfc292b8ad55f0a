"""The servers under test: each started as its own process on a free loopback port, then stopped.

A target knows how to start its server, wait until it serves, prepare a room (livebracket:
a tournament, two players, a live match) and which loadgen options reach it.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Every limit a benchmark would hit with thousands of sockets of one user on one address.
LIVEBRACKET_LIMITS = ("sockets_per_user=100000,sockets_per_ip=100000,connections_per_ip=100000,"
                      "tournament_room_max=100000,"
                      "write_rate_per_user=100000,write_burst_per_user=100000,"
                      "message_rate_per_user=100000,message_burst_per_user=100000,"
                      "message_rate_per_ip=100000,message_burst_per_ip=100000")
# No heartbeat sweep may fall inside a measured phase (a session is < 2 min),
# unless a run asks for them (`--ping-interval-s`: sockets held with heartbeats).
PING_INTERVAL_S = 300


class TargetError(Exception):
    """A server did not start, or refused the set-up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pinned(cpus: set[int] | None) -> Callable[[], None] | None:
    """A `preexec_fn` that keeps the child (and the threads it starts) on `cpus`."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TargetError(f"exited with {process.returncode} before listening")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TargetError(f"not listening on {port} after {timeout_s}s")


class Target:
    """One server process. Subclasses give its command and its loadgen options.

    `compression` is one of the target's `compressions`: "none" (the subscribers offer
    nothing), "once" (livebracket: they offer permessage-deflate and each frame is deflated
    once for all of them), "tornado" (the bare Tornado peer: they offer it and Tornado
    compresses per socket).
    """

    name = "target"
    label = "target"
    compressions: tuple[str, ...] = ("none",)
    compression_labels = {"none": "", "once": ", deflate once", "tornado": ", deflate per socket"}

    def __init__(self, compression: str = "none") -> None:
        if compression not in self.compressions:
            raise ValueError(f"{self.name} does not run with compression {compression!r}")
        self.compression = compression
        self.label = type(self).label + self.compression_labels[compression]
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-"))
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(self, timeout_s: float = 30.0, cpus: set[int] | None = None) -> None:
        """Start the server (on `cpus` only, with every thread it makes, when given)."""
        out = open(self.workdir / "stdout.log", "wb")
        err = open(self.workdir / "stderr.log", "wb")
        self.process = subprocess.Popen(self.command(), cwd=ROOT, env=self.env(), stdout=out, stderr=err,
                                        stdin=subprocess.DEVNULL, preexec_fn=pinned(cpus))
        out.close()
        err.close()
        wait_for_port(self.port, self.process, timeout_s)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def cleanup(self) -> None:
        """Remove the server's scratch folder (logs, data): call after `stop`."""
        shutil.rmtree(self.workdir, ignore_errors=True)

    def prepare(self) -> None:
        """Make the room the subscribers join."""

    def loadgen_args(self) -> list[str]:
        raise NotImplementedError

    def deflate_args(self) -> list[str]:
        """The loadgen's subscribers offer permessage-deflate unless the run is uncompressed."""
        return [] if self.compression == "none" else ["--deflate"]

    def log_tail(self, lines: int = 20) -> str:
        text = (self.workdir / "stderr.log").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class Peer(Target):
    """A peer server: sockets at /ws, events published with POST /publish."""

    def loadgen_args(self) -> list[str]:
        return ["--ws-url", f"ws://{HOST}:{self.port}/ws", "--http", f"{HOST}:{self.port}",
                "--publisher", "peer", *self.deflate_args()]


class BareTornado(Peer):
    name = "bare-tornado"
    label = "bare Tornado"
    compressions = ("none", "tornado")

    def command(self) -> list[str]:
        compression = ["--compression"] if self.compression == "tornado" else []
        return [sys.executable, "-m", "bench.peers.bare_tornado", "--port", str(self.port), *compression]


class SendFloor(Peer):
    """One kernel send per socket and nothing else: what no Python server can beat here."""

    name = "send-floor"
    label = "send floor"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.peers.send_floor", "--port", str(self.port)]


class Channels(Peer):
    name = "channels"
    label = "Django Channels"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(self.port),
                "--ping-interval", str(PING_INTERVAL_S), "--ping-timeout", str(PING_INTERVAL_S),
                "--websocket_timeout", "-1", "-v", "0", "bench.peers.channels_app:application"]

    def env(self) -> dict[str, str]:
        return {**super().env(), "DJANGO_SETTINGS_MODULE": "bench.peers.channels_settings"}


class Livebracket(Target):
    """`python server.py` as a user runs it; --store memory unless `embedded`."""

    name = "livebracket"
    label = "livebracket"
    compressions = ("none", "once")

    def __init__(self, compression: str = "none", embedded: bool = False) -> None:
        super().__init__(compression)
        self.embedded = embedded
        self.token = ""
        self.match_id = ""
        self.version = 0
        self.seq = 0
        self.tournament_id = ""

    def command(self) -> list[str]:
        store = [] if self.embedded else ["--store", "memory"]
        return [sys.executable, str(ROOT / "server.py"), *store, "--port", str(self.port),
                "--data-dir", str(self.workdir / "data"), "--ping-interval-s", str(PING_INTERVAL_S),
                "--limits", LIVEBRACKET_LIMITS]

    def start(self, timeout_s: float = 60.0, cpus: set[int] | None = None) -> None:
        super().start(timeout_s, cpus)
        deadline = time.monotonic() + timeout_s
        while not self.token and time.monotonic() < deadline:
            for line in (self.workdir / "stdout.log").read_text().splitlines():
                if line.startswith("organizer token: "):
                    self.token = line.split(": ", 1)[1].strip()
            time.sleep(0.05)
        if not self.token:
            raise TargetError("server.py printed no organizer token")

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            conn.request(method, path, json.dumps(body) if body is not None else "",
                         {"Authorization": f"Bearer {self.token}", **(headers or {})})
            response = conn.getresponse()
            payload = json.loads(response.read() or b"null")
        finally:
            conn.close()
        if response.status >= 300:
            raise TargetError(f"{method} {path}: {response.status} {payload}")
        return payload

    def new_match(self) -> dict[str, Any]:
        """A live match between alice and bob (one tournament per target)."""
        if not self.tournament_id:
            self.tournament_id = self.call("POST", "/api/tournaments", {"name": "Bench Cup", "game": "bench"})["id"]
            for pid, name in (("alice", "Alice"), ("bob", "Bob")):
                self.call("POST", f"/api/tournaments/{self.tournament_id}/participants", {"name": name, "id": pid})
        match = self.call("POST", f"/api/tournaments/{self.tournament_id}/matches",
                          {"participant_ids": ["alice", "bob"]})
        started: dict[str, Any] = self.call("POST", f"/api/matches/{match['id']}/start")
        return started

    def prepare(self) -> None:
        match = self.new_match()
        self.match_id, self.version, self.seq = match["id"], match["version"], match["seq"]

    def loadgen_args(self) -> list[str]:
        return ["--ws-url", f"ws://{HOST}:{self.port}/ws/match/{self.match_id}?token={self.token}",
                "--http", f"{HOST}:{self.port}", "--publisher", "livebracket", "--match-id", self.match_id,
                "--token", self.token, "--version", str(self.version), "--base-seq", str(self.seq),
                *self.deflate_args()]


TARGETS: dict[str, type[Target]] = {"livebracket": Livebracket, "bare-tornado": BareTornado,
                                    "channels": Channels, "send-floor": SendFloor}
# What `make bench` runs when --targets is not given: livebracket and the peers a user would
# pick instead (the send floor is a measuring stick, asked for by name).
DEFAULT_TARGETS = ("livebracket", "bare-tornado", "channels")
