"""The embedded store: an nx-27017 MongoDB-wire server on SQLite, run and kept running as our child."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from tournament.store import StorageUnavailableError

log = logging.getLogger(__name__)

DB_FILE = "livebracket.db"
PID_FILE = "nx-27017.pid"
LOG_FILE = "nx-27017.log"

# Run in the child, before nx-27017: the server's pid comes first in argv.
# - PR_SET_PDEATHSIG: the child gets SIGTERM when the server dies, so a killed server leaves no
#   orphan; set here rather than in a preexec_fn, which is unsafe once the server has threads.
#   A server that died before the prctl is caught by the getppid check.
# - An orphan watchdog: nx-27017's SIGTERM handler calls sys.exit inside whatever callback the
#   signal interrupts, and now and then that leaves the process hanging (seen after kill -9 of
#   the server under load), holding the data dir. Once the server is gone, the watchdog gives
#   the store ORPHAN_GRACE_S to end by itself, then ends it (SQLite's committed writes are safe).
# - nx-27017 logs every command at INFO; configuring the root logger first keeps its log to
#   warnings (its own basicConfig then does nothing).
ORPHAN_GRACE_S = 3
_LAUNCHER = f"""\
import logging, os, signal, sys, threading, time
server = int(sys.argv.pop(1))
if sys.platform == "linux":
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != server:
    sys.exit(0)
def watchdog():
    while os.getppid() == server:
        time.sleep(0.5)
    time.sleep({ORPHAN_GRACE_S})
    os._exit(0)
threading.Thread(target=watchdog, daemon=True).start()
logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
from nx_27017.nx_27017 import main
sys.argv[0] = "nx-27017"
sys.exit(main())
"""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _pid_ended(pid: int) -> bool:
    """Whether `pid` has ended; a zombie waiting for its parent to reap it has."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        pass  # no /proc: ask the kernel instead
    else:
        return stat.rpartition(")")[2].split()[0] == "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def _until_ended(pid: int, ended: Callable[[], bool]) -> None:
    """Return once process `pid` has ended, as `ended()` tells. Waits on a pidfd (Linux 5.3+),
    which becomes readable when the process ends; elsewhere polls every 50 ms."""
    if ended():
        return
    loop = asyncio.get_running_loop()
    try:
        fd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    try:
        if fd is not None:
            readable: asyncio.Future[None] = loop.create_future()

            def on_readable() -> None:
                if not readable.done():
                    readable.set_result(None)

            loop.add_reader(fd, on_readable)
            try:
                if not ended():  # it may have ended before the pidfd was open
                    await readable
            finally:
                loop.remove_reader(fd)
        while not ended():
            await asyncio.sleep(0.05)  # no pidfd; or the last moment between its end and the reap
    finally:
        if fd is not None:
            os.close(fd)


async def _end(process: subprocess.Popen[bytes], timeout_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`; returns once it has ended and is reaped."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(_until_ended(process.pid, lambda: process.poll() is not None), timeout_s)
    except asyncio.TimeoutError:
        process.kill()
        process.wait()


def describe_exit(returncode: int) -> str:
    """`exited with code 1`, `was killed by SIGKILL`."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class EmbeddedMongo:
    """Starts nx-27017 on a free loopback port with its files in `data_dir`, and keeps it running.

    Its pid and log files live in the data dir (its defaults are global files in /tmp). It runs
    in a session of its own, so a terminal's Ctrl-C (SIGINT to the foreground process group)
    reaches only the server, which stops it last; and it ends when the server dies.
    """

    def __init__(self, data_dir: Path, *, db_file: str = DB_FILE, start_timeout_s: float = 20.0,
                 port: int = 0, restart_first_s: float = 0.5, restart_max_s: float = 10.0,
                 predecessor_timeout_s: float = 10.0) -> None:
        self.data_dir = data_dir
        self.db_path = data_dir / db_file
        self.pid_path = data_dir / PID_FILE
        self.log_path = data_dir / LOG_FILE
        self.start_timeout_s = start_timeout_s
        self.restart_first_s = restart_first_s  # backoff after it died: this, doubled while it keeps dying
        self.restart_max_s = restart_max_s  # up to this; once it has run this long the backoff starts over
        self.predecessor_timeout_s = predecessor_timeout_s  # how long a dying earlier store is waited for
        self.host = "127.0.0.1"
        self.port = port  # 0: a free port at the first start, kept for every restart (clients keep their URL)
        self._process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._wanted = False  # started and not stopped: supervise() restarts it

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    async def start(self) -> str:
        """Start the server and wait until it accepts connections; return its URL.

        Raises StorageUnavailableError, in one line, when the data dir cannot be written, is
        in use by another embedded store, or the server does not come up (with the last
        line of its log).
        """
        self._wanted = True
        self._check_data_dir()
        await self._clear_stale_pid_file()
        self.port = self.port or free_port(self.host)
        argv = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), "--db", str(self.db_path),
                "--host", self.host, "--port", str(self.port), "--pid-file", str(self.pid_path),
                "--log-file", str(self.log_path)]
        loop = asyncio.get_running_loop()
        with open(self.log_path, "ab") as log_file:
            # Popen, not asyncio's subprocess: the server then outlives the event loop that
            # started it (tests share one across loops) and stop() works from any loop.
            self._process = process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True)
        self._started_at = loop.time()
        deadline = loop.time() + self.start_timeout_s
        while loop.time() < deadline and process.poll() is None:
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
                writer.close()
                await writer.wait_closed()
                log.info("embedded store %s on port %d (pid %d)", self.db_path, self.port, process.pid)
                return self.url
            except OSError:
                await asyncio.sleep(0.05)  # polling a port: there is no event to await
        self._process = None
        await _end(process)
        how = describe_exit(process.returncode) if process.returncode is not None else "did not answer in time"
        raise StorageUnavailableError(
            f"the embedded store {how} on port {self.port}; its log {self.log_path} ends: {self._log_tail(1)}")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout_s`) and wait for its end; a
        supervise() running ends too."""
        self._wanted = False
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            await _end(process, timeout_s)
            log.info("embedded store stopped (pid %d, %s)", process.pid, describe_exit(process.returncode))

    async def supervise(self, changed: Callable[[], Awaitable[object]]) -> None:
        """Keep the started server running until stop(): when it ends on its own, log one
        error naming the cause and its log's last lines, and start it again on the same port
        after a backoff (`restart_first_s`, doubled while it keeps dying, up to
        `restart_max_s`). `changed` is awaited once it is down, before the restart, and again
        once it is back (StoreWatch.check: screens hear store_status both ways). Never raises."""
        loop = asyncio.get_running_loop()
        delay = self.restart_first_s
        while (process := self._process) is not None:
            await _until_ended(process.pid, lambda: process.poll() is not None)
            if self._process is not process:
                return  # stop() ended it
            self._process = None
            if loop.time() - self._started_at >= self.restart_max_s:
                delay = self.restart_first_s  # it had been running well: not a crash loop
            log.error("embedded store (pid %d) %s; restarting it in %.1f s; its log %s ends: %s",
                      process.pid, describe_exit(process.returncode), delay, self.log_path, self._log_tail())
            await asyncio.gather(self._tell(changed), asyncio.sleep(delay))
            while self._wanted and self._process is None:
                delay = min(delay * 2, self.restart_max_s)  # for the next failure, if it comes soon
                try:
                    await self.start()
                except StorageUnavailableError as e:
                    log.error("embedded store did not restart: %s; trying again in %.1f s", e, delay)
                    await asyncio.sleep(delay)
            if not self._wanted:
                return
            await self._tell(changed)

    @staticmethod
    async def _tell(changed: Callable[[], Awaitable[object]]) -> None:
        try:
            await changed()
        except Exception:
            log.exception("telling about the embedded store's state failed")

    def _check_data_dir(self) -> None:
        """Raises StorageUnavailableError unless the data dir (and the database in it) can be written."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.data_dir):
                pass
            if self.db_path.exists():
                with open(self.db_path, "r+b"):
                    pass
        except OSError as e:
            raise StorageUnavailableError(
                f"the data dir {self.data_dir} cannot be written ({e.strerror}): the embedded store "
                "keeps its database there; choose another --data-dir or make it writable") from None

    async def _clear_stale_pid_file(self) -> None:
        """Remove a pid file left by a crash. An earlier store of this data dir that is still
        ending (its server was killed just now) is waited for; one that stays is refused."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return
        if not _pid_ended(pid) and self._is_ours(pid):
            try:
                await asyncio.wait_for(_until_ended(pid, lambda: _pid_ended(pid)), self.predecessor_timeout_s)
            except asyncio.TimeoutError:
                raise StorageUnavailableError(
                    f"{self.data_dir} is in use by another embedded store (pid {pid}); stop that "
                    "server or choose another --data-dir") from None
        self.pid_path.unlink(missing_ok=True)

    def _is_ours(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return True  # cannot tell: assume it is live and ours
        return "nx_27017" in cmdline and str(self.db_path) in cmdline

    def _log_tail(self, lines: int = 5) -> str:
        """The log's last lines, on one line."""
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no log)"
        return " | ".join(line.strip() for line in tail if line.strip()) or "(empty)"
