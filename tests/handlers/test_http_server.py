"""The HTTP listener over real sockets: connection caps, the descriptor reserve, timeouts, 431."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import resource
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpclient import TCPClient
from tornado.testing import bind_unused_port

from config import Config
from handlers.app import make_app
from handlers.http_server import listen
from server import build_services
from storage.memory import MemoryStore
from tests.conftest import Api
from tests.wsclient import connect
from tournament.roles import Principal, Role

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clients() -> Iterator[list[IOStream]]:
    """Raw connections opened by a test, closed at its end."""
    opened: list[IOStream] = []
    yield opened
    for stream in opened:
        stream.close()


@pytest.fixture
def serve(config: Config, store: MemoryStore, serve_bounded: Callable[..., Api]) -> Callable[..., Api]:
    """`serve(listener={...}, **config_changes)`: the app behind the listener on its own port."""

    def start(listener: dict[str, Any] | None = None, **changes: Any) -> Api:
        return serve_bounded(build_services(dataclasses.replace(config, **changes), store), **(listener or {}))

    return start


def port_of(api: Api) -> int:
    return int(api.base_url.rsplit(":", 1)[1])


async def open_connection(api: Api, clients: list[IOStream], source: str = "127.0.0.1") -> IOStream:
    stream = await TCPClient().connect("127.0.0.1", port_of(api), source_ip=source)
    clients.append(stream)
    return stream


async def exchange(stream: IOStream, request: bytes = HEALTHZ) -> tuple[int, dict[str, Any]]:
    """Send one request on a kept-alive connection; the status and JSON body of its answer."""
    await stream.write(request)
    head = await stream.read_until(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: (\d+)", head)
    assert length is not None, head
    body = await stream.read_bytes(int(length.group(1)))
    return int(head.split(b" ", 2)[1]), json.loads(body)


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.gen_test
async def test_connections_past_the_address_cap_are_closed_at_once(
        serve: Any, clients: list[IOStream]) -> None:
    """Within connections_per_ip a connection is served; past it each is closed unread; other
    addresses and the admitted connections are served meanwhile."""
    api = serve(connections_per_ip=4)
    for _ in range(3):
        await open_connection(api, clients)
    kept = await open_connection(api, clients)  # the last of the address's allowance
    assert (await exchange(kept))[0] == 200
    for _ in range(5):
        over = await open_connection(api, clients)
        assert await over.read_until_close() == b""
    assert (await exchange(kept))[0] == 200
    response = await api.client.fetch(HTTPRequest(api.base_url + "/healthz", network_interface="127.0.0.2"))
    assert response.code == 200


@pytest.mark.gen_test
async def test_refusals_are_logged_once_per_interval(
        serve: Any, clients: list[IOStream], caplog: pytest.LogCaptureFixture) -> None:
    """Ten refusals in one interval make one warning; the first after it says how many came."""
    clock = Clock()
    api = serve({"clock": clock, "log_interval_s": 60.0}, connections_per_ip=1)
    await open_connection(api, clients)
    for _ in range(10):
        assert await (await open_connection(api, clients)).read_until_close() == b""
    assert len(warnings_in(caplog)) == 1
    assert "127.0.0.1: 1 open, connections_per_ip is 1" in warnings_in(caplog)[0]
    clock.now += 61
    assert await (await open_connection(api, clients)).read_until_close() == b""
    assert len(warnings_in(caplog)) == 2
    assert "[10 refused since the last connections_per_ip warning; at most one per 60s]" in warnings_in(caplog)[1]


@pytest.mark.gen_test
async def test_at_max_connections_every_address_is_refused(
        serve: Any, clients: list[IOStream], caplog: pytest.LogCaptureFixture) -> None:
    """Past the descriptor budget a connection from any address is closed at once, and said so."""
    api = serve({"max_connections": 2}, connections_per_ip=1)
    await open_connection(api, clients)
    await open_connection(api, clients, source="127.0.0.2")
    for source in ("127.0.0.1", "127.0.0.3"):
        assert await (await open_connection(api, clients, source)).read_until_close() == b""
    [warning] = warnings_in(caplog)
    assert warning.startswith("refusing connections: 2 open") and "max_connections" in warning


@pytest.mark.gen_test
async def test_an_idle_connection_is_closed_after_the_header_timeout_and_frees_its_place(
        serve: Any, clients: list[IOStream]) -> None:
    """A connection that sends nothing is closed after header_timeout_s; its place is free again."""
    api = serve(connections_per_ip=1, header_timeout_s=0.2)
    idle = await open_connection(api, clients)
    assert await idle.read_until_close() == b""
    assert (await api.get("/healthz"))[0] == 200


@pytest.mark.gen_test
async def test_a_head_sent_byte_by_byte_is_cut_off_at_the_header_timeout(
        serve: Any, clients: list[IOStream]) -> None:
    """A slowloris client, one byte of its head at a time, is closed unanswered."""
    api = serve(header_timeout_s=0.3)
    slow = await open_connection(api, clients)
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    answer = asyncio.ensure_future(slow.read_until_close())
    sent = 0
    while not answer.done() and sent < len(head):
        try:
            await slow.write(head[sent:sent + 1])
        except StreamClosedError:
            break
        sent += 1
        await asyncio.sleep(0.05)
    assert await answer == b""
    assert sent < len(head)


@pytest.mark.gen_test
async def test_a_body_that_stops_coming_is_cut_off_at_the_body_timeout(
        serve: Any, clients: list[IOStream]) -> None:
    """A request whose body stalls is closed unanswered after body_timeout_s."""
    api = serve(body_timeout_s=0.2)
    stalled = await open_connection(api, clients)
    answer = stalled.read_until_close()
    await stalled.write(b"POST /qr.svg HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{")
    assert await answer == b""


@pytest.mark.gen_test
async def test_an_upgraded_websocket_outlives_the_header_timeout_and_holds_its_place(
        serve: Any, clients: list[IOStream]) -> None:
    """A WebSocket is not cut by the head's timeout, counts toward connections_per_ip until it
    closes, and gives its place back then."""
    api = serve(connections_per_ip=1, header_timeout_s=0.2)
    organizer = Principal("organizer", "Organizer", Role.ORGANIZER)
    tournament = await api.services.tournaments.create(organizer, "Cup")
    sock, welcome = await connect(api, f"/ws/tournament/{tournament.id}", api.organizer)
    assert welcome["type"] == "connection_established"
    await asyncio.sleep(0.6)  # three header timeouts
    await sock.quiet()
    assert await (await open_connection(api, clients)).read_until_close() == b""
    sock.close()
    assert await sock.conn.read_message() is None
    assert (await api.get("/healthz"))[0] == 200


@pytest.mark.gen_test
async def test_a_head_over_max_header_bytes_is_answered_431(serve: Any, clients: list[IOStream]) -> None:
    """A 20 KB header, a 20 KB request line or a 200 KB header gets 431 with a JSON body, then the
    close; an 8 KB header is served."""
    api = serve()
    heads = [b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
             b"GET /healthz?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
             b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"]
    for head in heads:
        stream = await open_connection(api, clients)
        answer = stream.read_until_close()
        await stream.write(head)
        response = await answer
        status_line, _, rest = response.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 431 Request Header Fields Too Large"
        body = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert body["error"]["code"] == "headers_too_large" and body["error"]["limit_bytes"] == 16 * 1024
    fits = await open_connection(api, clients)
    assert (await exchange(fits, HEALTHZ.replace(b"\r\n\r\n", b"\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")))[0] == 200


@pytest.mark.gen_test
async def test_a_nul_in_a_static_path_is_a_json_404(api: Api) -> None:
    """/static/js/%00 is a 404 in the API's error shape, as is any missing static file."""
    for path in ["/static/js/%00", "/static/%00", "/static/js/a%00b.js", "/static/js/nope.js"]:
        response = await api.client.fetch(api.base_url + path, raise_error=False)
        assert response.code == 404, path
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(response.body)["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_a_failing_accept_pauses_and_warns_once(
        serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Out of descriptors, accept fails: one warning, no busy loop of tracebacks, and the waiting
    connection is served once descriptors are free again."""
    api = serve({"clock": Clock(), "accept_pause_s": 0.02})
    client = socket.create_connection(("127.0.0.1", port_of(api)))  # waits in the listen backlog
    stream = IOStream(client)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.open(os.devnull, os.O_RDONLY)
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))  # no descriptor can be made
    try:
        await asyncio.sleep(0.2)  # ten pauses of the accept
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        assert (await exchange(stream))[0] == 200
    finally:
        stream.close()
    [warning] = warnings_in(caplog)
    assert warning.startswith("accepting failed: Too many open files")


@pytest.mark.gen_test
async def test_listen_raises_the_descriptor_limit_and_serves(config: Config, services: Any) -> None:
    """listen() takes the soft RLIMIT_NOFILE to the hard one and serves on config.host:port, or
    on sockets bound already."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    sock, port = bind_unused_port()
    sock.close()
    bound, other_port = bind_unused_port()
    servers = [listen(make_app(services), dataclasses.replace(config, host="127.0.0.1", port=port)),
               listen(make_app(services), config, [bound])]
    try:
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard
        for served_port in (port, other_port):
            assert (await Api(f"http://127.0.0.1:{served_port}", services).get("/healthz"))[0] == 200
    finally:
        for server in servers:
            server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
