"""Limits over real sockets: each at its edge, exact counters, floods and slow readers."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from handlers.services import Services
from server import build_services
from tests.conftest import Api
from tests.wsclient import connect, raw_socket_that_never_reads, refused
from tournament.models import Event, match_stream
from tournament.roles import Role


@dataclasses.dataclass
class Served:
    api: Api
    services: Services


@pytest.fixture
def serve(services: Services, serve_app: Any) -> Any:
    """Start another app over the same store with some config changed."""

    def start(**changes: Any) -> Served:
        custom = build_services(dataclasses.replace(services.config, **changes), services.store)
        return Served(serve_app(custom), custom)

    return start


@pytest.mark.gen_test
async def test_rest_writes_over_the_rate_get_429_with_retry_after(serve: Any) -> None:
    """The write after the burst is a 429 with Retry-After and applies nothing."""
    app = serve(write_rate_per_user=0.5, write_burst_per_user=3)
    for _ in range(3):
        await app.api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201)
    status, body = await app.api.post("/api/tournaments", {"name": "Cup"})
    assert (status, body["error"]["code"]) == (429, "rate_limit_exceeded")
    assert 1900 <= body["error"]["retry_after_ms"] <= 2000 and app.api.last_headers["Retry-After"] == "2"
    assert len((await app.api.ok("GET", "/api/tournaments"))["tournaments"]) == 3
    other = app.api.token("org2", Role.ORGANIZER)
    assert (await app.api.post("/api/tournaments", {"name": "Mine"}, as_=other))[0] == 201


@pytest.mark.gen_test
async def test_minting_tokens_counts_as_a_write(serve: Any) -> None:
    """POST /api/tokens takes from the same write rate as every other write: past the burst, 429."""
    app = serve(write_rate_per_user=0.5, write_burst_per_user=2)
    for _ in range(2):
        await app.api.ok("POST", "/api/tokens", {"user_id": "alice", "role": "spectator"}, 201)
    status, body = await app.api.post("/api/tokens", {"user_id": "alice", "role": "spectator"})
    assert (status, body["error"]["code"]) == (429, "rate_limit_exceeded")


@pytest.mark.gen_test
async def test_sockets_per_user_at_the_edge_and_released_on_close(serve: Any) -> None:
    """The fourth socket of a user is refused (4030) and not counted; closing one frees a place."""
    app = serve(sockets_per_user=3)
    _, match = await app.api.match_between("alice", "bob")
    path, token = f"/ws/match/{match['id']}", app.api.token("alice")
    socks = [(await connect(app.api, path, token))[0] for _ in range(3)]
    kind, code, close, *_ = await refused(app.api, path, token)
    assert (kind, code, close) == ("error", "connection_limit_exceeded", 4030)
    counter = app.services.limits.sockets
    assert counter.by_user["player:alice"] == 3 and counter.refused == 1
    socks[0].close()
    await socks[0].closed()
    while counter.by_user["player:alice"] == 3:  # the server learns of the close on its next loop turn
        await asyncio.sleep(0)
    again, _ = await connect(app.api, path, token)
    assert counter.by_user["player:alice"] == 3
    for sock in (*socks[1:], again):
        sock.close()
        await sock.closed()
    while counter.open:
        await asyncio.sleep(0)
    assert not counter.by_ip


@pytest.mark.gen_test
async def test_sockets_per_address(serve: Any) -> None:
    """Past the per-address limit, another user from the same address is refused."""
    app = serve(sockets_per_ip=2)
    _, match = await app.api.match_between("alice", "bob")
    path = f"/ws/match/{match['id']}"
    a, _ = await connect(app.api, path, app.api.token("a", Role.SPECTATOR))
    b, _ = await connect(app.api, path, app.api.token("b", Role.SPECTATOR))
    got = await refused(app.api, path, app.api.token("c", Role.SPECTATOR))
    assert got[1:3] == ("ip_connection_limit_exceeded", 4030)


@pytest.mark.gen_test
async def test_full_tournament_room(serve: Any) -> None:
    """A tournament room at its limit refuses the next watcher with room_full (4031)."""
    app = serve(tournament_room_max=1)
    tid, _ = await app.api.match_between("alice", "bob")
    first, _ = await connect(app.api, f"/ws/tournament/{tid}", app.api.token("a", Role.SPECTATOR))
    sock, frame = await connect(app.api, f"/ws/tournament/{tid}", app.api.token("b", Role.SPECTATOR))
    assert (frame["code"], frame["retry_after_ms"]) == ("room_full", 10000)
    assert (await sock.closed())[0] == 4031
    assert app.services.limits.sockets.by_user.get("b") is None


@pytest.mark.gen_test
async def test_a_flood_is_dropped_then_closed_while_others_receive_everything(serve: Any) -> None:
    """Frames over the rate are answered message_rate_limit_exceeded and dropped; a client
    that keeps flooding is closed 4029; a watcher of the same match misses nothing."""
    app = serve(message_rate_per_user=0.001, message_burst_per_user=5)
    _, match = await app.api.match_between("alice", "bob")
    mid = match["id"]
    await app.api.ok("POST", f"/api/matches/{mid}/start")
    flood, _ = await connect(app.api, f"/ws/match/{mid}", app.api.token("alice"))
    watcher, _ = await connect(app.api, f"/ws/match/{mid}", app.api.organizer)
    for _ in range(5):
        assert (await flood.ask({"type": "ping", "timestamp": 1}))["type"] == "pong"
    refusal = await flood.ask({"type": "ping", "timestamp": 1})
    assert refusal["code"] == "message_rate_limit_exceeded" and refusal["retry_after_ms"] > 0
    for _ in range(20):
        await flood.send({"type": "update_score", "data": {"scores": {"alice": 99}}})
    assert (await flood.closed())[0] == 4029
    for goal in range(1, 4):
        await app.api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"bob": goal}})
    got = [await watcher.recv() for _ in range(3)]
    assert [e["data"]["scores"] for e in got] == [{"alice": 0, "bob": g} for g in (1, 2, 3)]


@pytest.mark.gen_test(timeout=20)
async def test_a_client_that_never_reads_is_dropped_and_others_keep_receiving(serve: Any) -> None:
    """A socket whose output passes its bound is closed as a slow consumer; a normal watcher
    receives every event, in order."""
    app = serve(max_pending_bytes=32 * 1024)
    _, match = await app.api.match_between("alice", "bob")
    mid = match["id"]
    port = int(app.api.base_url.rsplit(":", 1)[1])
    app.api.opened.append(await raw_socket_that_never_reads(port, f"/ws/match/{mid}?token={app.api.organizer}"))
    watcher, _ = await connect(app.api, f"/ws/match/{mid}", app.api.organizer)
    padding = "x" * 20_000  # 12 MB in all: more than the kernel's socket buffers hold
    seqs = []
    for seq in range(1, 601):  # each event as the watcher takes it in: a reader that keeps up
        app.services.hub.publish(Event(match_stream(mid), seq, "score_updated",
                                       {"match_id": mid, "pad": padding}, 0.0))
        seqs.append((await watcher.recv())["seq"])
    assert seqs == list(range(1, 601))
    assert app.services.limits.slow_consumers == 1


@pytest.mark.gen_test
async def test_allowed_origins_and_trusted_proxies(serve: Any) -> None:
    """A configured origin may connect; behind a trusted proxy each forwarded address has its
    own socket limit, while a forged header from anyone else is ignored."""
    app = serve(allowed_origins=("https://overlay.example",), trusted_proxies=("127.0.0.1",), sockets_per_ip=1)
    _, match = await app.api.match_between("alice", "bob")
    path = f"/ws/match/{match['id']}"
    first, _ = await connect(app.api, path + "?x=1", app.api.token("a", Role.SPECTATOR), origin="https://overlay.example")
    kind, code, close, *_ = await refused(app.api, path, app.api.token("b", Role.SPECTATOR), origin="https://other.example")
    assert (code, close) == ("invalid_origin", 4506)
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = app.api.base_url.replace("http", "ws", 1) + path + f"?token={app.api.token('c', Role.SPECTATOR)}"
    forwarded = await websocket_connect(HTTPRequest(url, headers={"X-Forwarded-For": "192.0.2.7"}))
    assert '"connection_established"' in (await forwarded.read_message() or "")
    assert app.services.limits.sockets.by_ip["192.0.2.7"] == 1


@pytest.mark.gen_test
async def test_tokens_never_reach_the_access_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """The access log shows ?token=*** instead of the token."""
    import logging

    _, match = await api.match_between("alice", "bob")
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        sock, _ = await connect(api, f"/ws/match/{match['id']}", api.organizer)
        await api.get(f"/api/matches/{match['id']}?token={api.organizer}")
    sock.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "tornado.access"]
    assert any("token=***" in line for line in lines) and not any(api.organizer in line for line in lines)


@pytest.mark.gen_test
async def test_no_log_line_carries_a_token(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failing admission whose error names the URL and token is logged with the token
    scrubbed, traceback included (ScrubTokens on the log handler, as server.py installs it)."""
    import io
    import logging

    from handlers.app import ScrubTokens

    _, match = await api.match_between("alice", "bob")
    token = api.token("alice")
    url = f"/ws/match/{match['id']}?token={token}"

    def broken(raw: str) -> Any:
        raise RuntimeError(f"cannot read {url} (Authorization: Bearer {raw})")

    monkeypatch.setattr(api.services.sockets.tokens, "decode", broken)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ScrubTokens())
    logging.getLogger().addHandler(handler)
    try:
        kind, code, close, *_ = await refused(api, f"/ws/match/{match['id']}", token)
    finally:
        logging.getLogger().removeHandler(handler)
    assert (code, close) == ("internal_error", 1011)
    text = out.getvalue()
    assert "RuntimeError: cannot read" in text and "Traceback" in text
    assert token not in text and "token=***" in text and "Bearer ***" in text
