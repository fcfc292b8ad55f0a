"""A started livebracket and its synchronous clients: tokens, JSON over HTTP, tournaments
(sockets: pytest_livebracket.sockets).

Every client runs its I/O on the plugin's `LoopThread` and waits for the result, so tests call
it as plain functions. Every wait has a deadline (`timeout`, seconds).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import shutil
import signal
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from tornado.httpclient import HTTPResponse
from tornado.httputil import HTTPHeaders

from pytest_livebracket import aio
from pytest_livebracket.loop import LoopThread
from pytest_livebracket.server import ServerProcess
from pytest_livebracket.sockets import SocketFactory

STORES = ("memory", "embedded", "mongo")
ROLES = ("spectator", "player", "organizer", "admin")
# Tests write from one organizer token and one address, far faster than a venue's people do.
NO_RATE_LIMITS = ",".join(f"{name}=1000000" for name in (
    "write_rate_per_user", "write_burst_per_user", "message_rate_per_user", "message_burst_per_user",
    "message_rate_per_ip", "message_burst_per_ip"))


class ServerStartError(Exception):
    """The server did not start; the message holds its stderr."""


def mint_token(secret: str, role: str = "spectator", user_id: str | None = None, *,
               name: str | None = None, ttl_s: int = 3600, claims: dict[str, Any] | None = None) -> str:
    """An HS256 token as the server signs them (docs/api.md#authentication): `sub` is `user_id`
    (default: the role's name), `username` is `name`. Raises ValueError for an unknown role."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    user_id = user_id or role
    now = int(time.time())
    payload = {"sub": user_id, "username": name or user_id, "role": role, "iat": now, "exp": now + ttl_s,
               **(claims or {})}
    return jwt.encode(payload, secret, algorithm="HS256")


@dataclasses.dataclass(frozen=True)
class Response:
    """One HTTP answer: `status`, `headers` (case-insensitive), `body` bytes, `json` parsed."""

    status: int
    headers: HTTPHeaders
    body: bytes

    @property
    def json(self) -> Any:
        """The JSON body, or None when the body is empty or not JSON."""
        if not self.body or "json" not in self.headers.get("Content-Type", ""):
            return None
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Api:
    """JSON over HTTP to the server as one bearer token: `api.post(path, body, expect=201).json`."""

    def __init__(self, portal: LoopThread, port: int, token: str, timeout_s: float) -> None:
        self._portal = portal
        self.port = port
        self.token = token
        self.timeout_s = timeout_s

    def with_token(self, token: str) -> Api:
        """The same client acting as `token`."""
        return Api(self._portal, self.port, token, self.timeout_s)

    def request(self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
                expect: int | None = None) -> Response:
        """`body` is sent as JSON. With `expect`, any other status raises AssertionError (with
        the answer). Raises aio.ServerGone when the server does not answer in `timeout_s`."""
        client_response = self._portal.run(self._fetch(method, path, body, headers))
        response = Response(client_response.code, client_response.headers, client_response.body or b"")
        if expect is not None and response.status != expect:
            raise AssertionError(f"{method} {path} answered {response.status}, not {expect}: {response.text[:1000]}")
        return response

    async def _fetch(self, method: str, path: str, body: Any, headers: dict[str, str] | None) -> HTTPResponse:
        return await aio.Client(self.port, self.token, self.timeout_s).response(method, path, body, headers)

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)


@dataclasses.dataclass(frozen=True)
class Tournament:
    """What `make_tournament` made: ids of the tournament, its participants (seed order) and,
    once started, its matches (creation order); `data` is the tournament as last answered."""

    id: str
    participants: list[str]
    matches: list[str]
    data: dict[str, Any]


def make_tournament(api: Api, n: int = 8, format: str = "single_elimination", start: bool = True, *,
                    name: str | None = None, game: str = "", options: dict[str, Any] | None = None) -> Tournament:
    """A tournament of `n` participants `p1`..`pn` (named "Player 1".., seeded in that order)
    through REST, started with `options` (the start route's body) when `start`. Raises
    AssertionError when the server refuses a step."""
    tournament = api.post("/api/tournaments", {"name": name or f"Test Cup {secrets.token_hex(3)}",
                                               "game": game, "format": format}, expect=201).json
    tid = tournament["id"]
    rows = [{"name": f"Player {i}", "id": f"p{i}", "seed": i} for i in range(1, n + 1)]
    if rows:
        api.post(f"/api/tournaments/{tid}/participants/bulk", {"participants": rows}, expect=201)
    matches: list[str] = []
    if start:
        tournament = api.post(f"/api/tournaments/{tid}/start", options or {}, expect=200).json
        matches = [m["id"] for m in api.get(f"/api/tournaments/{tid}/matches", expect=200).json["matches"]]
    return Tournament(tid, [f"p{i}" for i in range(1, n + 1)], matches, tournament)


class LiveServer:
    """A livebracket server process the plugin started, and how to reach it."""

    def __init__(self, portal: LoopThread, process: ServerProcess, *, store: str, secret: str, work_dir: Path,
                 db_name: str | None, mongo_url: str | None, timeout_s: float) -> None:
        self.portal = portal
        self.process = process
        self.store = store
        self.secret = secret  # the JWT secret it signs with: `token()` mints with it
        self.work_dir = work_dir  # its data dir (`data/`) and stderr (`server.log`)
        self.db_name = db_name
        self.mongo_url = mongo_url
        self.timeout_s = timeout_s

    @property
    def port(self) -> int:
        return self.process.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def organizer_token(self) -> str:
        """The token the server printed when it started (`sub` organizer)."""
        return self.process.token

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    def token(self, role: str = "spectator", user_id: str | None = None, *, name: str | None = None,
              ttl_s: int = 3600, claims: dict[str, Any] | None = None) -> str:
        """A token for any role (`spectator`, `player`, `organizer`, `admin`); see mint_token."""
        return mint_token(self.secret, role, user_id, name=name, ttl_s=ttl_s, claims=claims)

    def client(self, token: str | None = None) -> Api:
        """An HTTP client acting as `token` (default: the organizer)."""
        return Api(self.portal, self.port, token or self.organizer_token, self.timeout_s)

    def sockets(self) -> SocketFactory:
        """A socket opener whose sockets `close_all()` closes."""
        return SocketFactory(self.portal, self.port, self.organizer_token, self.timeout_s)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL), drop its MongoDB database if it had one, and
        remove its files. Warns with its stderr when it did not stop cleanly."""
        code = self.portal.run(self.process.stop()) if self.process.process else 0
        if code != 0:
            warnings.warn(f"livebracket exited with {code}:\n{self.process.stderr()[-3000:]}", stacklevel=2)
        if self.db_name and self.mongo_url:
            drop_database(self.mongo_url, self.db_name)
        shutil.rmtree(self.work_dir, ignore_errors=True)


def start_server(portal: LoopThread, home: Path, work_dir: Path, *, store: str = "memory",
                 mongo_url: str | None = None, args: Sequence[str] = (), timeout_s: float = 10.0) -> LiveServer:
    """`server.py` of `home` on 127.0.0.1 and a port it picks, with a fresh JWT secret, lifted
    rate limits and a batch window of 0 (each live score written at once, one event each);
    `args` come last, so they override any of these. Raises ServerStartError, and ValueError
    for an unknown store or a mongo store without a URL."""
    if store not in STORES:
        raise ValueError(f"store must be one of {', '.join(STORES)}, not {store!r}")
    if store == "mongo" and not mongo_url:
        raise ValueError("the mongo store needs a mongodb:// URL")
    secret = secrets.token_urlsafe(32)
    (work_dir / "data").mkdir(parents=True, exist_ok=True)
    db_name = f"livebracket_test_{secrets.token_hex(6)}" if store == "mongo" else None
    argv = ["--host", "127.0.0.1", "--port", "0", "--store", store, "--data-dir", str(work_dir / "data"),
            "--batch-window-s", "0", "--limits", NO_RATE_LIMITS]
    if store == "mongo":
        argv += ["--mongo-url", str(mongo_url), "--db-name", str(db_name)]
    # The secret goes in the environment, not on the command line that `ps` shows.
    env = {**os.environ, "LIVEBRACKET_JWT_SECRET": secret}
    process = ServerProcess(*argv, *args, home=home, log_path=work_dir / "server.log", env=env)
    server = LiveServer(portal, process, store=store, secret=secret, work_dir=work_dir, db_name=db_name,
                        mongo_url=mongo_url, timeout_s=timeout_s)
    try:
        portal.run(process.start())
    except (AssertionError, asyncio.TimeoutError, OSError) as e:
        stderr = process.stderr()
        if process.process and process.process.returncode is None:
            portal.run(process.signal(signal.SIGKILL))
        shutil.rmtree(work_dir, ignore_errors=True)
        raise ServerStartError(f"livebracket ({home / 'server.py'}) did not start: {e or type(e).__name__}\n"
                               f"{stderr[-3000:]}") from None
    return server


def drop_database(mongo_url: str, db_name: str) -> None:
    """Drop a test database; a failure is a warning (the tests are over)."""
    import pymongo  # only a mongo store needs it

    client: Any = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(db_name)
    except pymongo.errors.PyMongoError as e:
        warnings.warn(f"cannot drop the test database {db_name}: {e}", stacklevel=2)
    finally:
        client.close()
