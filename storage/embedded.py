"""The embedded store: an nx-27017 MongoDB-wire server on SQLite, run as our child process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tournament.store import StorageUnavailableError

log = logging.getLogger(__name__)

DB_FILE = "livebracket.db"
PID_FILE = "nx-27017.pid"
LOG_FILE = "nx-27017.log"

# nx-27017 logs every command at INFO; configuring the root logger first keeps its log to
# warnings (its own basicConfig then does nothing).
_LAUNCHER = (
    "import logging, sys; logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()]);"
    "from nx_27017.nx_27017 import main; sys.argv[0] = 'nx-27017'; sys.exit(main())"
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _set_parent_death_signal() -> None:
    """In the child: get SIGTERM when the parent dies, so a killed server leaves no orphan."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedMongo:
    """Starts nx-27017 on a free loopback port with its files in `data_dir`.

    Its pid and log files live in the data dir (its defaults are global files in /tmp).
    """

    def __init__(self, data_dir: Path, *, db_file: str = DB_FILE, start_timeout_s: float = 20.0,
                 port: int = 0) -> None:
        self.data_dir = data_dir
        self.db_path = data_dir / db_file
        self.pid_path = data_dir / PID_FILE
        self.log_path = data_dir / LOG_FILE
        self.start_timeout_s = start_timeout_s
        self.host = "127.0.0.1"
        self.port = port  # 0: a free port at each start
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    async def start(self) -> str:
        """Start the server and wait until it accepts connections; return its URL.

        Raises StorageUnavailableError when it does not come up, with its log's last lines.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._clear_stale_pid_file()
        self.port = self.port or free_port(self.host)
        argv = [sys.executable, "-c", _LAUNCHER, "--db", str(self.db_path), "--host", self.host,
                "--port", str(self.port), "--pid-file", str(self.pid_path),
                "--log-file", str(self.log_path)]
        with open(self.log_path, "ab") as log_file:
            # Popen, not asyncio's subprocess: the server then outlives the event loop that
            # started it (tests share one across loops) and stop() works from any loop.
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                preexec_fn=_set_parent_death_signal if sys.platform == "linux" else None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout_s
        while loop.time() < deadline and self._process.poll() is None:
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
                writer.close()
                await writer.wait_closed()
                log.info("embedded store %s on port %d (pid %d)", self.db_path, self.port,
                         self._process.pid)
                return self.url
            except OSError:
                await asyncio.sleep(0.05)  # polling a port: there is no event to await
        await self.stop()
        raise StorageUnavailableError(
            f"the embedded store did not start; last lines of {self.log_path}:\n{self._log_tail()}")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout_s`)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while process.poll() is None:
            if loop.time() > deadline:
                process.kill()
                process.wait()
                break
            await asyncio.sleep(0.02)  # waitpid has no awaitable outside asyncio's child watcher

    def _clear_stale_pid_file(self) -> None:
        """Remove a pid file left by a crash; refuse to share the data dir with a live server."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return
        if _pid_alive(pid) and self._is_ours(pid):
            raise StorageUnavailableError(
                f"{self.data_dir} is in use by another embedded store (pid {pid}); stop that "
                "server or choose another --data-dir")
        self.pid_path.unlink(missing_ok=True)

    def _is_ours(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return True  # cannot tell: assume it is live and ours
        return "nx_27017" in cmdline and str(self.db_path) in cmdline

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
