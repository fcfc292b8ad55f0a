"""server.py as a user runs it: a real process on the embedded store, restarted with its data;
start-up errors; and the shutdown order, in process, at the moments it used to lose scores."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from config import Config
from server import SETTLE_PAGE, build_services, settle_brackets, shutdown
from storage.embedded import free_port
from storage.memory import MemoryStore
from tests.conftest import Api
from tests.serverprocess import ROOT, Client, ServerProcess, Socket, process_gone, store_pid
from tests.wsclient import connect
from tournament import veto
from tournament.models import Dispute, Event, Match, MatchState, Tournament


async def run_server(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
                     wrap: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """`python server.py ARGS` to its end, run through the command `wrap` if one is given:
    (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *wrap, sys.executable, str(ROOT / "server.py"), *args, cwd=cwd, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_one_line_error(returncode: int, stderr: str, *words: str) -> None:
    """Exit code 2 and one `livebracket: ...` line on stderr, naming `words`."""
    assert returncode == 2, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith("livebracket: "), stderr
    assert "Traceback" not in stderr and all(w in stderr for w in words), stderr


@pytest.mark.gen_test(timeout=60)
async def test_restart_keeps_data_and_tokens(tmp_path: Path) -> None:
    """A restart on the same data dir keeps the data and the first run's tokens (secret kept, 0600)."""
    port, data_dir = free_port(), tmp_path / "data"
    args = ("--port", str(port), "--data-dir", str(data_dir))
    async with ServerProcess(*args, log_path=tmp_path / "first.log") as first:
        client = Client(port, first.token)
        tournament = await client.ok("POST", "/api/tournaments", {"name": "LAN"}, 201)
        tid = tournament["id"]
        await client.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "A", "id": "a"}, 201)
        await client.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "B", "id": "b"}, 201)
        match = await client.live_match(tid, ["a", "b"])
        pid = store_pid(data_dir)
        assert await first.signal(signal.SIGTERM) == 0
    assert process_gone(pid), "the embedded store outlived the server"
    assert (data_dir / "livebracket.db").exists()
    assert (data_dir / "jwt-secret").stat().st_mode & 0o777 == 0o600

    async with ServerProcess(*args, log_path=tmp_path / "second.log") as second:
        again = await Client(port, first.token).ok("GET", f"/api/matches/{match['id']}")
        assert again["state"] == "live" and again["seq"] == 1
        log = await Client(port, second.token).events(match["id"])
        assert [e["type"] for e in log] == ["match_started"]
        assert await second.signal(signal.SIGTERM) == 0


@pytest.mark.gen_test(timeout=30)
async def test_memory_store_starts_without_files(tmp_path: Path) -> None:
    """--store memory serves the API and writes no database file."""
    port = free_port()
    args = ("--port", str(port), "--store", "memory", "--data-dir", str(tmp_path))
    async with ServerProcess(*args, log_path=tmp_path / "server.log") as server:
        health = await Client(port, server.token).ok("GET", "/healthz")
        assert health["store_kind"] == "memory"
        assert await server.signal(signal.SIGTERM) == 0
    assert not (tmp_path / "livebracket.db").exists()


@pytest.mark.gen_test(timeout=60)
async def test_asyncio_event_loop_serves_the_embedded_store(tmp_path: Path) -> None:
    """--event-loop asyncio (the loop where uvloop is not installed; every other process test runs
    on uvloop): the API writes through the embedded store, a socket is welcomed, SIGTERM ends it."""
    port = free_port()
    args = ("--port", str(port), "--data-dir", str(tmp_path / "data"), "--event-loop", "asyncio")
    async with ServerProcess(*args, log_path=tmp_path / "server.log") as server:
        assert server.banner.endswith("(store: embedded, loop: asyncio)"), server.banner
        client = Client(port, server.token)
        tournament = await client.ok("POST", "/api/tournaments", {"name": "LAN"}, 201)
        sock = await Socket.open(port, f"/ws/tournament/{tournament['id']}", server.token)
        welcome = await sock.recv()
        assert welcome is not None and welcome["type"] == "connection_established"
        sock.close()
        assert await server.signal(signal.SIGTERM) == 0


@pytest.mark.gen_test(timeout=30)
async def test_token_command_prints_a_token_for_the_kept_secret(tmp_path: Path) -> None:
    """`server.py token` from another folder signs with the data dir's secret and says which file."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, out, err = await run_server("token", "--user", "alice", "--name", "Alice", "--role", "player",
                                      "--ttl", "2h", "--data-dir", str(tmp_path / "data"), cwd=elsewhere)
    assert code == 0, err
    secret = (tmp_path / "data" / "jwt-secret").read_text().strip()
    claims = jwt.decode(out.strip(), secret, algorithms=["HS256"])
    assert (claims["sub"], claims["username"], claims["role"]) == ("alice", "Alice", "player")
    assert claims["exp"] - claims["iat"] == 7200
    assert err == f"livebracket: signed with the secret kept in {tmp_path / 'data' / 'jwt-secret'}\n"
    assert not (elsewhere / "data").exists()


@pytest.mark.gen_test(timeout=30)
async def test_bad_options_exit_2_without_a_traceback(tmp_path: Path) -> None:
    """A bad option is a one-line error and exit code 2."""
    for args in (["--port", "http"], ["--store", "mongo"], ["--mongo-url", "localhost:27017"]):
        code, _, err = await run_server(*args, "--data-dir", str(tmp_path), env={"LIVEBRACKET_STORE": ""})
        assert_one_line_error(code, err)


@pytest.mark.gen_test(timeout=30)
async def test_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A port something else listens on is one line and exit 2, before the store is started."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run_server("--port", str(port), "--data-dir", str(tmp_path))
    assert_one_line_error(code, err, f"127.0.0.1:{port} is already in use", "--port")
    assert not (tmp_path / "nx-27017.log").exists(), "the embedded store was started"


@pytest.mark.gen_test(timeout=30)
async def test_short_jwt_secret_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A JWT secret under 32 characters (flag, environment or kept file) is one line and exit 2."""
    short = "x" * 31
    code, _, err = await run_server("--jwt-secret", short, "--data-dir", str(tmp_path))
    assert_one_line_error(code, err, "at least 32 characters")
    code, _, err = await run_server("--data-dir", str(tmp_path), env={"LIVEBRACKET_JWT_SECRET": short})
    assert_one_line_error(code, err, "at least 32 characters")
    (tmp_path / "jwt-secret").write_text(short)
    code, _, err = await run_server("--data-dir", str(tmp_path))
    assert_one_line_error(code, err, "shorter than 32 characters", str(tmp_path / "jwt-secret"))


# Root writes through file modes: for root, the data dir is made read-only by a read-only bind
# mount in a mount namespace of the server's own, which ends with it.
READ_ONLY_MOUNT = ("unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"')


@pytest.fixture
def read_only_data_dir(tmp_path: Path) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """A data dir holding a database, that the server cannot write: (its path, the command to
    run the server through)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = sqlite3.connect(data_dir / "livebracket.db")
    db.execute("CREATE TABLE kept (x)")
    db.commit()
    db.close()
    if os.geteuid() != 0:
        data_dir.chmod(0o555)
        yield data_dir, ()
        data_dir.chmod(0o755)
        return
    probe = subprocess.run([*READ_ONLY_MOUNT, str(data_dir), "true"], capture_output=True, check=False) \
        if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("running as root without mount namespaces: no way to make a folder read-only")
    yield data_dir, (*READ_ONLY_MOUNT, str(data_dir))


@pytest.mark.gen_test(timeout=30)
async def test_read_only_data_dir_is_one_line_and_exit_2(read_only_data_dir: tuple[Path, tuple[str, ...]]) -> None:
    """A data dir that holds a database but cannot be written is one line and exit 2."""
    data_dir, wrap = read_only_data_dir
    code, _, err = await run_server("--port", str(free_port()), "--data-dir", str(data_dir), wrap=wrap,
                                    env={"LIVEBRACKET_JWT_SECRET": "s" * 40})
    assert_one_line_error(code, err, f"the data dir {data_dir} cannot be written", "--data-dir")


# -- shutdown, in process ------------------------------------------------------------------------


class GatedStore(MemoryStore):
    """A MemoryStore where one chosen call waits at a gate: `entered` is set when it arrives,
    and it goes on once `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gated: str | None = None  # "get_match" or "save_match": the next such call waits
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    def hold(self, method: str) -> None:
        self.gated, self.entered, self.gate = method, asyncio.Event(), asyncio.Event()

    async def _pass(self, method: str) -> None:
        if self.gated == method:
            self.gated = None
            self.entered.set()
            await self.gate.wait()

    async def get_match(self, match_id: str) -> Match:
        await self._pass("get_match")
        return await super().get_match(match_id)

    async def save_match(self, match: Match, events: list[Event], dispute: Dispute | None,
                         keep_version: bool = False) -> None:
        await self._pass("save_match")
        await super().save_match(match, events, dispute, keep_version)


async def turns(n: int = 20) -> None:
    """Let the event loop run `n` times round (whatever is ready goes on)."""
    for _ in range(n):
        await asyncio.sleep(0)


@pytest.fixture
def gated() -> GatedStore:
    return GatedStore()


async def live_match(api: Api) -> str:
    _, match = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    return str(match["id"])


@pytest.mark.gen_test
async def test_scores_after_shutdown_began_get_an_error_frame(config: Config, serve_app: Any) -> None:
    """After shutdown began, update_score gets a shutting_down error frame, REST a 503; then 1001."""
    services = build_services(config, MemoryStore())
    api = serve_app(services)
    mid = await live_match(api)
    sock, _ = await connect(api, f"/ws/match/{mid}", api.organizer)
    await services.matches.close()  # the first step of shutdown
    error = await sock.ask({"type": "update_score", "id": "late", "data": {"scores": {"alice": 4}}})
    assert (error["type"], error["code"], error["id"]) == ("error", "shutting_down", "late")
    status, body = await api.post(f"/api/matches/{mid}/score", {"scores": {"alice": 5}})
    assert (status, body["error"]["code"]) == (503, "shutting_down")
    await shutdown(services)
    assert (await sock.closed())[0] == 1001
    assert (await services.matches.get(mid)).scores["alice"] == 0  # started at 0, never written since


@pytest.mark.gen_test
async def test_a_score_being_checked_when_shutdown_begins_is_refused(config: Config, gated: GatedStore,
                                                                     serve_app: Any) -> None:
    """A score still being checked when shutdown flushes is refused, not batched after the flush."""
    services = build_services(config, gated)
    api = serve_app(services)
    mid = await live_match(api)
    sock, _ = await connect(api, f"/ws/match/{mid}", api.organizer)
    gated.hold("get_match")
    await sock.send({"type": "update_score", "id": "u", "data": {"scores": {"alice": 4}}})
    await gated.entered.wait()  # the frame is being checked
    stopping = asyncio.ensure_future(shutdown(services))
    await turns()
    assert services.matches.closing
    gated.gate.set()
    await stopping
    assert len(services.matches.scores) == 0, "a score was batched after the shutdown flush"
    assert (await sock.closed())[0] == 1001
    assert (await services.matches.get(mid)).scores["alice"] == 0  # started at 0, never written since


@pytest.mark.gen_test
async def test_shutdown_waits_for_a_batch_being_written(config: Config, gated: GatedStore,
                                                        serve_app: Any) -> None:
    """Shutdown returns only once a batch its timer is writing is written (before the store closes)."""
    services = build_services(dataclasses.replace(config, batch_window_s=0.01), gated)
    api = serve_app(services)
    mid = await live_match(api)
    organizer = services.tokens.decode(api.organizer)
    gated.hold("save_match")
    written = await services.matches.update_score(mid, organizer, {"alice": 6})
    await gated.entered.wait()  # the batch's timer fired: its write is under way
    stopping = asyncio.ensure_future(shutdown(services))
    await turns()
    assert not stopping.done(), "shutdown returned while a batch was being written"
    gated.gate.set()
    await stopping
    assert written.result().scores["alice"] == 6
    assert (await gated.get_match(mid)).scores["alice"] == 6



class Announced:
    """A publisher that lets a test await the first event of a type."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.seen = asyncio.Event()
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)
        if event.type == self.kind:
            self.seen.set()


@pytest.mark.gen_test(timeout=30)
async def test_start_up_reaches_every_tournament_and_rearms_veto_timers(config: Config) -> None:
    """settle_brackets reads every tournament, a page at a time: a veto turn whose time ran out
    while the server was down, in the oldest of more than a page of tournaments, is taken at
    start-up (at random, marked auto)."""
    store = MemoryStore()
    announced = Announced("veto_updated")
    services = build_services(config, store, announced)
    await store.insert_tournament(Tournament(id="t_old", name="Old", game="CS2", format="single_elimination",
                                             state="registration", created_by="org", created_at=1.0))
    for i in range(SETTLE_PAGE + 5):
        await store.insert_tournament(Tournament(id=f"t_{i}", name="New", game="CS2", format="single_elimination",
                                                 state="draft", created_by="org", created_at=10.0 + i))
    match = Match(id="m_old", tournament_id="t_old", participant_ids=("alice", "bob"), state=MatchState.SCHEDULED,
                  created_at=1.0, updated_at=1.0)
    begun = veto.begin(match, veto.VetoConfig(pool=("Ancient", "Dust2", "Mirage"), turn_s=30), "alice",
                       "higher_seed", 7, 100.0).match  # its turn ran out at 130, long ago
    await store.insert_match(begun)
    await settle_brackets(services)
    await announced.seen.wait()
    after = (await store.get_match("m_old")).veto
    assert after is not None and [(t.by, t.auto) for t in after.taken] == [("alice", True)]
    await services.matches.close()
