"""A real redis-server for the broker's tests: on a free port, its own folder, no persistence.

`make test` installs Debian's redis-server when it is missing (as it does Chromium). The server
keeps nothing on disk (`--save ''`, `--appendonly no`), so a restart is an empty Redis with a
new run id: the hardest restart a broker has to survive.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from storage.embedded import free_port

REDIS_SERVER = os.environ.get("LIVEBRACKET_REDIS_SERVER", "redis-server")
START_TIMEOUT_S = 10.0


class RedisServer:
    """`redis-server` as a child process. `start()` waits until it accepts connections."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Raises RuntimeError when there is no redis-server or it does not come up."""
        binary = shutil.which(REDIS_SERVER)
        if binary is None:
            raise RuntimeError(f"no {REDIS_SERVER}: `apt-get install redis-server` (make test does)")
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.log", "ab") as out:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)  # polling a port: there is no event to await
        raise RuntimeError(f"redis-server did not start on port {self.port}: {self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """End it (SIGTERM, or `sig`) and wait; nothing is kept."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def restart(self) -> None:
        """Stop it and start an empty one on the same port."""
        self.stop()
        self.start()

    def log_tail(self) -> str:
        try:
            return " | ".join((self.folder / "redis.log").read_text(errors="replace").splitlines()[-3:])
        except OSError:
            return "(no log)"
