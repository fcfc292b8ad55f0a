"""A livebracket server as a child process (`python server.py ...`), and finding its checkout.

Every wait has a deadline and waits for something that happens (a line on stdout, the
process's exit): none sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
HOME_ENV = "LIVEBRACKET_HOME"
DISTRIBUTION = "livebracket"
SERVING = "livebracket serving "
TOKEN = "organizer token: "


class HomeNotFoundError(Exception):
    """No livebracket checkout (a folder holding server.py) was found; the message says how to
    name one."""


def find_home(explicit: str | os.PathLike[str] | None = None, source: str = HOME_ENV) -> Path:
    """The livebracket checkout whose server.py tests run.

    `explicit` (named by `source` in errors: the option, ini value or variable it came from) wins;
    else the checkout the installed `livebracket` distribution was installed from (PEP 610
    direct_url.json: `pip install /path/to/checkout`, editable or not); else the folder beside
    this package, when it holds server.py. Raises HomeNotFoundError.
    """
    if explicit:
        home = Path(explicit).expanduser().resolve()
        if not (home / "server.py").is_file():
            raise HomeNotFoundError(f"{source} is {str(explicit)!r}, which holds no server.py: "
                                    "name the folder of a livebracket checkout")
        return home
    for candidate in (installed_checkout(), Path(__file__).resolve().parent.parent):
        if candidate is not None and (candidate / "server.py").is_file():
            return candidate
    raise HomeNotFoundError(
        "cannot find livebracket's server.py: install livebracket from its checkout "
        "(pip install /path/to/livebracket, which records where it came from), or name the "
        f"checkout with --livebracket-home, the livebracket_home ini value or {HOME_ENV}")


def installed_checkout() -> Path | None:
    """The folder the installed `livebracket` distribution came from (its PEP 610
    direct_url.json, a file:// URL), or None: not installed, or not from a folder."""
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        url = json.loads(text).get("url", "")
    except (ValueError, AttributeError):
        return None
    parts = urlsplit(url if isinstance(url, str) else "")
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(parts.path))


class ServerProcess:
    """`python <home>/server.py ARGS` in a child process: the organizer token and the URL it
    prints, its embedded store's pid, its stderr (in a file) and ways to stop it.

    `new_session=True` makes it lead its own process group, as a shell's foreground job does,
    so `interrupt_group()` is a terminal's Ctrl-C. It runs on the event loop of whoever awaits
    `start()`; `python` is the interpreter (default: this one, whose packages serve it).
    """

    def __init__(self, *args: str, home: Path, log_path: Path, new_session: bool = False,
                 cwd: Path | None = None, env: dict[str, str] | None = None,
                 python: str = sys.executable) -> None:
        self.args = args
        self.home = home
        self.log_path = log_path
        self.new_session = new_session
        self.cwd = cwd or home
        self.env = env
        self.python = python
        self.process: asyncio.subprocess.Process | None = None
        self.token = ""
        self.url = ""  # as it prints it: http://localhost:<port> for a loopback --host
        self.banner = ""  # its whole `livebracket serving ...` line: the URL, the store and the loop

    async def start(self) -> ServerProcess:
        """Start it and wait until it prints its token. Raises AssertionError if it exits first,
        asyncio.TimeoutError after START_TIMEOUT_S."""
        with open(self.log_path, "ab") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                self.python, str(self.home / "server.py"), *self.args, cwd=self.cwd, env=self.env,
                stdout=asyncio.subprocess.PIPE, stderr=stderr, start_new_session=self.new_session)
        self.token = await asyncio.wait_for(self._token(), START_TIMEOUT_S)
        return self

    async def _token(self) -> str:
        assert self.process and self.process.stdout
        while True:
            line = (await self.process.stdout.readline()).decode()
            assert line, f"server exited before printing its token:\n{self.stderr()}"
            if line.startswith(SERVING):
                self.banner = line.strip()
                self.url = line[len(SERVING):].split()[0]
            if line.startswith(TOKEN):
                return line[len(TOKEN):].strip()

    async def __aenter__(self) -> ServerProcess:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        if self.process and self.process.returncode is None:
            await self.signal(signal.SIGKILL)

    @property
    def pid(self) -> int:
        assert self.process
        return self.process.pid

    @property
    def port(self) -> int:
        """The port it listens on, as it printed it (the one bound, for `--port 0`)."""
        assert self.url, "not started"
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))

    async def signal(self, sig: int) -> int:
        """Send `sig` to the server alone; its exit code once it has exited."""
        assert self.process
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await self.wait()

    async def stop(self) -> int:
        """SIGTERM (the server stops in order, its embedded store last), SIGKILL if it has not
        ended after STOP_TIMEOUT_S; its exit code."""
        try:
            return await self.signal(signal.SIGTERM)
        except asyncio.TimeoutError:
            return await self.signal(signal.SIGKILL)

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
