"""Shared fixtures: the app on an unused port (pytest-tornado), stores, tokens, an API client."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from config import Config
from handlers.app import make_app
from handlers.http_server import build_server
from handlers.services import Services
from server import build_services
from storage.embedded import EmbeddedMongo
from storage.memory import MemoryStore
from tournament.events import RecordingPublisher
from tournament.roles import Role
from tests.webhookreceiver import Receiver

T = TypeVar("T")
SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session")
def embedded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One nx-27017 server for the whole run, reached over TCP like a real MongoDB."""
    server = EmbeddedMongo(tmp_path_factory.mktemp("embedded"))
    url = run_detached(server.start())
    yield url
    run_detached(server.stop())


def run_detached(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a loop of its own, leaving the current event loop (pytest-tornado's) alone."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # Generous limits, so only the tests of limits meet them (those set their own). Every
    # test's sockets come from 127.0.0.1, so the per-address message rate is one shared bucket:
    # a run that plays matches from many player sockets would meet its default (20/s).
    return Config(store="memory", data_dir=tmp_path, jwt_secret=SECRET, port=0, sockets_per_user=50,
                  write_rate_per_user=1000.0, write_burst_per_user=1000,
                  message_rate_per_user=1000.0, message_burst_per_user=1000,
                  message_rate_per_ip=1000.0, message_burst_per_ip=1000)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def services(config: Config, store: MemoryStore, publisher: RecordingPublisher) -> Services:
    built = build_services(config, store, publisher)
    built.stations.start()  # as serve() does: auto-assign answers the bell
    built.outbox.start()  # and the webhooks deliver
    return built


@pytest.fixture
def app(services: Services) -> Any:
    return make_app(services)


class Api:
    """A JSON client of the running app: `status, body = await api.post(path, body, as_=token)`."""

    def __init__(self, base_url: str, services: Services) -> None:
        self.base_url = base_url
        self.services = services
        self.client = AsyncHTTPClient()
        self.organizer = self.token("organizer", Role.ORGANIZER)
        self.opened: list[Any] = []  # sockets opened on this app, closed at teardown

    def close_sockets(self) -> None:
        for sock in self.opened:
            sock.close()
        self.opened.clear()

    def token(self, user_id: str, role: Role = Role.PLAYER, ttl_s: int = 3600) -> str:
        token, _ = self.services.tokens.issue(user_id, user_id.title(), role, ttl_s)
        return token

    async def request(self, method: str, path: str, body: Any = None, *, as_: str | None = "organizer",
                      headers: dict[str, str] | None = None, raw: bytes | None = None
                      ) -> tuple[int, Any]:
        hdrs = dict(headers or {})
        if as_ is not None:
            hdrs.setdefault("Authorization", f"Bearer {self.organizer if as_ == 'organizer' else as_}")
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if method == "POST" and payload is None:
            payload = b""
        response = await self.client.fetch(HTTPRequest(
            self.base_url + path, method=method, headers=hdrs, body=payload,
            allow_nonstandard_methods=True), raise_error=False)
        self.last_headers = response.headers
        text = response.body.decode() if response.body else ""
        return response.code, json.loads(text) if text else None

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.request("POST", path, body, **kw)

    async def ok(self, method: str, path: str, body: Any = None, expect: int = 200, **kw: Any) -> Any:
        """The body of a request that must answer `expect`."""
        status, data = await self.request(method, path, body, **kw)
        assert status == expect, (status, data)
        return data

    async def match_between(self, *names: str) -> tuple[str, dict[str, Any]]:
        """A new tournament with these participants (ids = names) and a match of the first two."""
        t = await self.ok("POST", "/api/tournaments", {"name": "Cup"}, 201)
        for name in names:
            await self.ok("POST", f"/api/tournaments/{t['id']}/participants", {"name": name, "id": name}, 201)
        match = await self.ok("POST", f"/api/tournaments/{t['id']}/matches",
                              {"participant_ids": list(names[:2])}, 201)
        return t["id"], match


@pytest.fixture
def api(http_server: Any, base_url: str, services: Services) -> Iterator[Api]:
    client = Api(base_url, services)
    yield client
    client.close_sockets()


class ServedApps:
    """Apps a test started on their own unused ports; `stop()` closes their sockets and servers."""

    def __init__(self) -> None:
        self.served: list[tuple[Api, HTTPServer]] = []

    def start(self, services: Services, server: HTTPServer) -> Api:
        sock, port = bind_unused_port()
        server.add_sockets([sock])
        self.served.append((Api(f"http://127.0.0.1:{port}", services), server))
        return self.served[-1][0]

    def stop(self) -> None:
        for client, server in self.served:
            client.close_sockets()
            server.stop()


@pytest.fixture
def serve_app(io_loop: Any) -> Iterator[Callable[..., Api]]:
    """`serve_app(services, **settings)`: another app on its own unused port, in the current
    IOLoop; its sockets are closed and its server stopped at teardown."""
    served = ServedApps()
    yield lambda services, **settings: served.start(services, HTTPServer(make_app(services, **settings)))
    served.stop()


@pytest.fixture
def serve_bounded(io_loop: Any) -> Iterator[Callable[..., Api]]:
    """`serve_bounded(services, **kwargs)`: like `serve_app`, but behind handlers.http_server's
    listener (its connection bounds from `services.config`; `kwargs` go to `build_server`, with
    `max_connections` 4096 unless given)."""
    served = ServedApps()

    def serve(services: Services, **kwargs: Any) -> Api:
        kwargs.setdefault("max_connections", 4096)
        return served.start(services, build_server(make_app(services), services.config, **kwargs))

    yield serve
    served.stop()


def real_mongo_url() -> str | None:
    return os.environ.get("LIVEBRACKET_TEST_MONGO_URL")


def with_store(config: Config, **changes: Any) -> Config:
    return dataclasses.replace(config, **changes)


@pytest.fixture
def receiver(io_loop: Any) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 in the test's IOLoop (tests/webhookreceiver.py), stopped after."""
    served = Receiver()
    yield served
    served.server.stop()
