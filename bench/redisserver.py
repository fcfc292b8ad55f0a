"""A real redis-server for a benchmark: a free port, a folder of its own, no persistence, pinned.

The same server tests/redisserver.py starts for the broker's tests (Debian's `redis-server`,
installed by `make test`), with the benchmark's CPU pinning.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.targets import HOST, free_port, pinned

START_TIMEOUT_S = 10.0


class RedisError(Exception):
    """No redis-server, or it did not come up."""


class RedisServer:
    """`redis-server` as a child process on `cpus`; `start()` waits until it answers PING."""

    def __init__(self, folder: Path, cpus: set[int] | None = None) -> None:
        self.folder = folder
        self.cpus = cpus
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> RedisServer:
        """Raises RedisError when there is no redis-server or it does not answer in time."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisError("no redis-server: `apt-get install redis-server` (make test installs it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.log", "ab") as out:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", HOST, "--dir", str(self.folder),
                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, preexec_fn=pinned(self.cpus))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)  # polling a port: there is no event to await
        self.stop()
        raise RedisError(f"redis-server did not start on port {self.port} (its log: {self.folder / 'redis.log'})")

    def stop(self) -> None:
        """SIGTERM, SIGKILL after 10 s; nothing is kept."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
