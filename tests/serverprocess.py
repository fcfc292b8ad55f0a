"""The suite's names for the plugin's server process and clients (pytest_livebracket), which
run this checkout's server.py whatever checkout the venv was installed from."""

from __future__ import annotations

from pathlib import Path

from pytest_livebracket import server
from pytest_livebracket.aio import GONE, Client, ServerGone, Socket
from pytest_livebracket.server import START_TIMEOUT_S, STOP_TIMEOUT_S, process_gone, store_pid

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["GONE", "ROOT", "START_TIMEOUT_S", "STOP_TIMEOUT_S", "Client", "ServerGone", "ServerProcess",
           "Socket", "process_gone", "store_pid"]


class ServerProcess(server.ServerProcess):
    """`python server.py ARGS` of this checkout in a child process (pytest_livebracket.server)."""

    def __init__(self, *args: str, log_path: Path, new_session: bool = False, cwd: Path = ROOT,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(*args, home=ROOT, log_path=log_path, new_session=new_session, cwd=cwd, env=env)
