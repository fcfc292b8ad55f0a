"""The server-sent event routes over real connections: the welcome, events with ids, recovery,
refusals as HTTP errors, heartbeat comments, slow readers and shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import Callable
from typing import Any

import pytest
from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpclient import TCPClient

from handlers.services import Services
from server import build_services, shutdown
from tests.conftest import Api
from tests.wsclient import connect
from tournament.roles import Role


class EventSource:
    """A test client of one event stream: `await es.next()` is the next event (presence skipped),
    as {"event", "id", "data" (parsed JSON)}; comments are {"comment": text}."""

    def __init__(self, stream: IOStream) -> None:
        self.stream = stream
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body: Any = None  # an error's JSON body
        self.retry_ms: int | None = None
        self._text = ""
        self._ended = False

    @classmethod
    async def open(cls, api: Api, path: str, token: str | None = None,
                   headers: dict[str, str] | None = None) -> EventSource:
        host, port = api.base_url.removeprefix("http://").rsplit(":", 1)
        if token is not None:
            path += ("&" if "?" in path else "?") + f"token={token}"
        stream = await TCPClient().connect(host, int(port))
        es = cls(stream)
        api.opened.append(es)
        head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", "Accept": "text/event-stream",
                                                      **(headers or {})}.items())
        await stream.write(f"GET {path} HTTP/1.1\r\n{head}\r\n".encode())
        lines = (await stream.read_until(b"\r\n\r\n")).decode().split("\r\n")
        es.status = int(lines[0].split()[1])
        es.headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if es.status != 200:
            es.body = json.loads(await stream.read_bytes(int(es.headers["content-length"])))
        return es

    async def _chunk(self) -> bool:
        """Read one chunk of the body into the text; False at its end."""
        if self._ended:
            return False
        size = int((await self.stream.read_until(b"\r\n")).strip(), 16)
        data = await self.stream.read_bytes(size + 2)
        if size == 0:
            self._ended = True
            return False
        self._text += data[:-2].decode()
        return True

    async def block(self) -> str | None:
        """The next block of lines (an event or a comment), or None when the stream ended."""
        while "\n\n" not in self._text:
            if not await self._chunk():
                return None
        block, self._text = self._text.split("\n\n", 1)
        return block

    async def next(self, skip: tuple[str, ...] = ("presence", "ping")) -> dict[str, Any]:
        while True:
            block = await self.block()
            assert block is not None, "the stream ended"
            if block.startswith("retry: "):
                self.retry_ms = int(block.removeprefix("retry: "))
                continue
            if block.startswith(":"):
                event: dict[str, Any] = {"comment": block[1:].strip()}
                if "ping" in skip and event["comment"].startswith("ping"):
                    continue
                return event
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            event = {"event": fields["event"], "id": fields.get("id"), "data": json.loads(fields["data"])}
            if event["event"] not in skip:
                return event

    async def ended(self) -> bool:
        """Read to the end of the stream; True when the server ended it (the last chunk, or a
        closed connection)."""
        try:
            while await self._chunk():
                pass
        except StreamClosedError:
            pass
        return True

    def close(self) -> None:
        self.stream.close()


async def started_match(api: Api) -> tuple[str, str]:
    tid, match = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    return tid, match["id"]


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for a condition that no event announces (the server noticing a closed connection)."""
    while not condition():
        await asyncio.sleep(0.01)


@pytest.mark.gen_test
async def test_a_stream_goes_out_without_nagle(api: Api, services: Services) -> None:
    """An event stream's connection has TCP_NODELAY, as a socket's: no event waits for the
    client's ACK of the one before."""
    _, mid = await started_match(api)
    es = await EventSource.open(api, f"/sse/match/{mid}", api.token("viewer", Role.SPECTATOR))
    assert (await es.next())["event"] == "connection_established"
    members = services.hub.room(f"match:{mid}").members
    streams = [m.conn._handler.request.connection.stream for m in members]  # type: ignore[attr-defined]
    assert [s.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in streams] == [1]


@pytest.mark.gen_test
async def test_the_welcome_then_rest_writes_as_numbered_events(api: Api) -> None:
    """The stream opens with retry and the welcome, then each REST write arrives in order as
    an event whose id is the room's epoch and the event's seq, its data the socket frame."""
    _, mid = await started_match(api)
    es = await EventSource.open(api, f"/sse/match/{mid}", api.token("viewer", Role.SPECTATOR))
    assert es.status == 200 and es.headers["content-type"] == "text/event-stream; charset=utf-8"
    welcome = await es.next()
    assert es.retry_ms is not None and 1000 <= es.retry_ms <= 3000  # 2 s, jittered per stream
    data = welcome["data"]
    assert (welcome["event"], welcome["id"], data["type"]) == ("connection_established", None, "connection_established")
    assert (data["data"]["match"]["state"], data["data"]["seq"], data["data"]["recovered"]) == ("live", 1, False)
    epoch = data["data"]["epoch"]
    for goal in (1, 2, 3):
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": goal}})
    events = [await es.next() for _ in range(3)]
    assert [(e["event"], e["id"], e["data"]["seq"], e["data"]["data"]["scores"]["alice"]) for e in events] == [
        ("score_updated", f"{epoch}:{seq}", seq, seq - 1) for seq in (2, 3, 4)]


@pytest.mark.gen_test
async def test_a_tournament_stream_numbers_events_in_the_room(api: Api) -> None:
    """A tournament stream's ids carry the tournament room's epoch and own seq."""
    tid, mid = await started_match(api)
    es = await EventSource.open(api, f"/sse/tournament/{tid}/", api.organizer)
    welcome = (await es.next())["data"]["data"]
    await api.ok("POST", f"/api/matches/{mid}/cancel")
    event = await es.next()
    assert event["event"] == "match_state_changed" and event["data"]["match_seq"] == 2
    assert event["id"] == f"{welcome['epoch']}:{welcome['seq'] + 1}"


@pytest.mark.gen_test
async def test_last_event_id_replays_exactly_what_was_missed(api: Api) -> None:
    """A reconnection with Last-Event-ID (which wins over a stale ?since= in the URL) gets
    recovered true and the events made while it was away, in order, then live ones."""
    _, mid = await started_match(api)
    es = await EventSource.open(api, f"/sse/match/{mid}", api.organizer)
    epoch = (await es.next())["data"]["data"]["epoch"]
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"bob": 1}})
    last = (await es.next())["id"]
    es.close()
    for goal in (2, 3, 4):
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"bob": goal}})
    again = await EventSource.open(api, f"/sse/match/{mid}?since=0&epoch={epoch}", api.organizer,
                                   {"Last-Event-ID": last})
    welcome = (await again.next())["data"]["data"]
    assert (welcome["recovered"], welcome["seq"]) == (True, 5)
    replayed = [await again.next() for _ in range(3)]
    assert [(e["id"], e["data"]["data"]["scores"]["bob"]) for e in replayed] == [
        (f"{epoch}:{seq}", seq - 1) for seq in (3, 4, 5)]
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"bob": 5}})
    assert (await again.next())["id"] == f"{epoch}:6"


@pytest.mark.gen_test
async def test_since_in_the_query_recovers_as_on_sockets(api: Api) -> None:
    """?since=&epoch= recovers a stream as it does a socket."""
    _, mid = await started_match(api)
    for goal in (1, 2):
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": goal}})
    es = await EventSource.open(api, f"/sse/match/{mid}?since=1", api.organizer)
    assert (await es.next())["data"]["data"]["recovered"] is True
    assert [(await es.next())["data"]["seq"] for _ in range(2)] == [2, 3]


@pytest.mark.gen_test
async def test_another_epoch_gets_a_fresh_snapshot(api: Api) -> None:
    """A Last-Event-ID of another epoch gets recovered false and nothing replayed: the next
    event is the first live one."""
    _, mid = await started_match(api)
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1}})
    es = await EventSource.open(api, f"/sse/match/{mid}", api.organizer, {"Last-Event-ID": "other:1"})
    welcome = (await es.next())["data"]["data"]
    assert (welcome["recovered"], welcome["seq"], welcome["match"]["scores"]["alice"]) == (False, 2, 1)
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 2}})
    assert (await es.next())["id"] == f"{welcome['epoch']}:3"


@pytest.mark.gen_test
async def test_refusals_are_plain_http_errors(api: Api) -> None:
    """Before the stream starts, a refusal is the HTTP status and JSON error REST answers for
    the same problem (a bad token: REST's 401), and nothing stays counted."""
    _, mid = await started_match(api)
    for token in ("not-a-token", api.token("alice", ttl_s=-60), api.token("alice")[:-4] + "AAAA"):
        es = await EventSource.open(api, f"/sse/match/{mid}", token)
        rest = await api.get("/api/tournaments", as_=token)
        assert (es.status, es.body) == rest and es.status == 401
        assert es.headers["www-authenticate"] == 'Bearer realm="livebracket"'
    cases: list[tuple[str, str | None, dict[str, str], int, str]] = [
        (f"/sse/match/{mid}", None, {}, 401, "authentication_required"),
        ("/sse/match/m_missing", api.organizer, {}, 404, "not_found"),
        ("/sse/tournament/t_missing", api.organizer, {}, 404, "not_found"),
        ("/sse/match/bad%20id", api.organizer, {}, 400, "invalid_route"),
        (f"/sse/match/{mid}", api.organizer, {"Origin": "http://evil.example"}, 403, "invalid_origin"),
        (f"/sse/match/{mid}", api.organizer, {"Last-Event-ID": "e1:x"}, 400, "invalid_schema"),
        (f"/sse/match/{mid}?since=-1", api.organizer, {}, 400, "invalid_schema"),
    ]
    for path, who, headers, status, code in cases:
        es = await EventSource.open(api, path, who, headers)
        assert (es.status, es.body["error"]["code"]) == (status, code), path
    assert api.services.limits.sockets.open == 0 and len(api.services.heartbeat) == 0
    es = await EventSource.open(api, f"/sse/match/{mid}", api.organizer, {"Origin": "http://localhost:3000"})
    assert es.status == 200 and es.headers["access-control-allow-origin"] == "http://localhost:3000"


@pytest.mark.gen_test
async def test_streams_count_against_the_socket_limits(services: Services, serve_app: Any) -> None:
    """A token's streams and sockets share one count: past it, 429 with Retry-After."""
    api = serve_app(build_services(dataclasses.replace(services.config, sockets_per_user=1), services.store))
    _, match = await api.match_between("alice", "bob")
    sock, _ = await connect(api, f"/ws/match/{match['id']}", api.organizer)
    es = await EventSource.open(api, f"/sse/match/{match['id']}", api.organizer)
    assert (es.status, es.body["error"]["code"], es.headers["retry-after"]) == (429, "connection_limit_exceeded", "5")
    sock.close()
    await eventually(lambda: api.services.limits.sockets.open == 0)
    es = await EventSource.open(api, f"/sse/match/{match['id']}", api.organizer)
    assert es.status == 200
    es.close()
    await eventually(lambda: api.services.limits.sockets.open == 0)
    assert api.services.hub.watchers(f"match:{match['id']}") == 0


@pytest.mark.gen_test(timeout=10)
async def test_heartbeats_are_comments_and_a_reader_is_never_timed_out(services: Services, serve_app: Any) -> None:
    """With a 0.2 s interval the stream gets `: ping <ts>` comments; a client that never sends
    anything (it cannot) stays open past two intervals, since its writes succeed."""
    quick = build_services(dataclasses.replace(services.config, ping_interval_s=0.2), services.store)
    quick.heartbeat.start()
    api = serve_app(quick)
    try:
        _, match = await api.match_between("alice", "bob")
        es = await EventSource.open(api, f"/sse/match/{match['id']}", api.organizer)
        assert (await es.next())["event"] == "connection_established"
        for _ in range(6):  # six intervals: a silent socket would have been closed (4005)
            comment = (await es.next(skip=("presence",)))["comment"]
            kind, stamp = comment.split()
            assert kind == "ping" and stamp.isdigit()
        await api.ok("POST", f"/api/matches/{match['id']}/start")
        assert (await es.next())["event"] == "match_started"
        assert quick.heartbeat.timeouts == 0
    finally:
        quick.heartbeat.stop()


@pytest.mark.gen_test(timeout=30)
async def test_a_reader_that_stops_is_dropped_and_others_keep_receiving(services: Services, serve_app: Any) -> None:
    """A stream whose unsent output passes max_pending_bytes is cut off as a slow consumer,
    and what it held is released; a stream that keeps up receives every event in order."""
    from tournament.models import Event, match_stream

    custom = build_services(dataclasses.replace(services.config, max_pending_bytes=32 * 1024), services.store)
    api = serve_app(custom)
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    port = int(api.base_url.rsplit(":", 1)[1])
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.setblocking(False)
    api.opened.append(stalled)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(stalled, ("127.0.0.1", port))
    await loop.sock_sendall(stalled, f"GET /sse/match/{mid}?token={api.organizer} HTTP/1.1\r\n"
                                     f"Host: 127.0.0.1:{port}\r\n\r\n".encode())
    watcher = await EventSource.open(api, f"/sse/match/{mid}", api.organizer)
    assert (await watcher.next())["event"] == "connection_established"
    await eventually(lambda: custom.hub.watchers(f"match:{mid}") == 2)
    padding = "x" * 20_000  # 12 MB in all: more than the kernel's socket buffers hold
    seqs = []
    for seq in range(1, 601):
        custom.hub.publish(Event(match_stream(mid), seq, "score_updated", {"match_id": mid, "pad": padding}, 0.0))
        seqs.append((await watcher.next())["data"]["seq"])
    assert seqs == list(range(1, 601))
    assert custom.limits.slow_consumers == 1
    assert (custom.hub.watchers(f"match:{mid}"), custom.limits.sockets.open, len(custom.heartbeat)) == (1, 1, 1)


@pytest.mark.gen_test
async def test_shutdown_ends_every_stream(api: Api, services: Services) -> None:
    """Shutdown writes waiting scores, which reach the stream, then ends it."""
    _, mid = await started_match(api)
    es = await EventSource.open(api, f"/sse/match/{mid}", api.organizer)
    await es.next()
    sock, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    await sock.send({"type": "update_score", "data": {"scores": {"alice": 9}}})
    assert (await sock.recv())["type"] == "ack"
    await shutdown(services)
    assert (await es.next())["data"]["data"]["scores"]["alice"] == 9
    assert await es.ended()
    assert len(services.heartbeat) == 0 and services.limits.sockets.open == 0


@pytest.mark.gen_test
async def test_a_revoked_link_ends_its_stream_with_an_error_event(api: Api) -> None:
    """An event link revoked while its stream is open gets the socket's refusal as an error
    event, then the stream ends."""
    tid, mid = await started_match(api)
    links = {link["participant_id"]: link["token"] for link in
             (await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201))["links"]}
    es = await EventSource.open(api, f"/sse/match/{mid}", links["alice"])
    assert es.status == 200 and (await es.next())["event"] == "connection_established"
    answer = await api.ok("POST", f"/api/tournaments/{tid}/links/revoke", {"subject": "alice"})
    assert answer["sockets_closed"] == 1
    error = await es.next()
    assert (error["event"], error["data"]["code"], error["data"]["reason"]) == ("error", "invalid_token", "token_revoked")
    assert await es.ended()
