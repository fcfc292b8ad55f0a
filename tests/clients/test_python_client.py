"""The Python client (clients/python) against the real app over real sockets; its backoff, frames, numbering."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.testing import bind_unused_port
from websockets.asyncio.server import ServerConnection, serve

from config import Config
from handlers.app import make_app
from handlers.services import Services
from livebracket_client import (ApiError, Backoff, CommandError, ConnectionState, ErrorFrame, Event, FrameError,
                                Notice, Presence, RestClient, Room, RoomClosed, RoomItem, Sequencer, Snapshot,
                                StoreStatus, Verdict, Welcome, parse_frame)
from realtime.protocol import CloseCode
from server import build_services, shutdown
from storage.memory import MemoryStore
from tests.conftest import Api
from tournament.roles import Role

WAIT_S = 3.0  # the longest any awaited item may take
NOTICES = (Presence, StoreStatus, Notice)  # what the helpers skip: they come when they come


class GatedSleep:
    """A room's `sleep`: records each delay and returns once the gate is open (at once when it
    was opened first), so a test decides when a reconnect happens without waiting for time."""

    def __init__(self, open_: bool = False) -> None:
        self.delays: list[float] = []
        self.called = asyncio.Event()
        self.gate = asyncio.Event()
        if open_:
            self.gate.set()

    async def __call__(self, delay_s: float) -> None:
        self.delays.append(delay_s)
        self.called.set()
        await self.gate.wait()

    async def wait_called(self) -> None:
        async with asyncio.timeout(WAIT_S):
            await self.called.wait()
        self.called.clear()


class CuttableLink:
    """A TCP relay to the app on 127.0.0.1: `cut()` drops every connection through it at once,
    as a lost network would (no close frame either way)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> CuttableLink:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        for task in (asyncio.ensure_future(self._pipe(reader, up_writer)),
                     asyncio.ensure_future(self._pipe(up_reader, writer))):
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        for task in list(self._pipes):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def next_item(room: Room, skip: tuple[type, ...] = ()) -> RoomItem:
    """The room's next item not of the `skip` types, within WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        while True:
            item = await anext(room)
            if not isinstance(item, skip):
                return item


async def snapshot_of(room: Room) -> Snapshot:
    item = await next_item(room, skip=NOTICES)
    assert isinstance(item, Snapshot), item
    return item


async def events_of(room: Room, count: int) -> list[Event]:
    """The next `count` items, each of which must be an event (notices skipped)."""
    got: list[Event] = []
    for _ in range(count):
        item = await next_item(room, skip=NOTICES)
        assert isinstance(item, Event), item
        got.append(item)
    return got


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for a condition no item announces (a counter of the room or the server), within WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        while not condition():
            await asyncio.sleep(0.01)


async def live_match(rest: RestClient) -> tuple[str, str]:
    """A tournament with alice and bob, and their match started (its seq is 1)."""
    t = await rest.post("/api/tournaments", {"name": "Cup"})
    for name in ("alice", "bob"):
        await rest.post(f"/api/tournaments/{t['id']}/participants", {"name": name, "id": name})
    match = await rest.post(f"/api/tournaments/{t['id']}/matches", {"participant_ids": ["alice", "bob"]})
    await rest.post(f"/api/matches/{match['id']}/start")
    return t["id"], match["id"]


def quick_backoff() -> Backoff:
    return Backoff(base_s=0.01, cap_s=0.05, rng=lambda: 0.5)


# REST


@pytest.mark.gen_test
async def test_rest_calls_answer_json_and_errors_carry_the_servers_code(api: Api) -> None:
    """Calls return the JSON; refusals raise ApiError with the status, code, message and details."""
    async with RestClient(api.base_url, api.organizer) as rest:
        tid, mid = await live_match(rest)
        match = await rest.get(f"/api/matches/{mid}")
        assert (match["id"], match["tournament_id"], match["state"], match["seq"]) == (mid, tid, "live", 1)
        with pytest.raises(ApiError) as missing:
            await rest.get("/api/matches/m_missing")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        assert "m_missing" in missing.value.message
        with pytest.raises(ApiError) as refused:
            await rest.post(f"/api/matches/{mid}/score", {"scores": {"alice": -1}})
        assert (refused.value.status, refused.value.code, refused.value.details.get("field")) == (
            422, "invalid_value", "scores")
        with pytest.raises(ApiError) as conflict:
            await rest.post(f"/api/matches/{mid}/score", {"scores": {"alice": 1}}, if_match=99)
        assert (conflict.value.status, conflict.value.code, conflict.value.details["version"]) == (
            409, "version_conflict", match["version"])
    async with RestClient(api.base_url, "not-a-token") as stranger:
        with pytest.raises(ApiError) as unauthenticated:
            await stranger.get(f"/api/matches/{mid}")
        assert (unauthenticated.value.status, unauthenticated.value.code) == (401, "token_malformed")


@dataclasses.dataclass
class FakeClock:
    now: float = dataclasses.field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


@pytest.mark.gen_test
async def test_a_429_is_waited_out_only_when_allowed(config: Config, store: MemoryStore, serve_app: Any) -> None:
    """A 429 (which applied nothing) is sent again after retry_after_ms, unless retries are off or the wait too long."""
    clock = FakeClock()
    limited = build_services(dataclasses.replace(config, write_rate_per_user=1.0, write_burst_per_user=1),
                             store, clock=clock)
    served = serve_app(limited)
    waits: list[float] = []

    async def advance(delay_s: float) -> None:  # the client's sleep moves the server's clock
        waits.append(delay_s)
        clock.now += delay_s

    async with RestClient(served.base_url, served.organizer, sleep=advance) as rest:
        first = await rest.post("/api/tournaments", {"name": "One"})
        second = await rest.post("/api/tournaments", {"name": "Two"})
        assert waits == [1.0] and first["id"] != second["id"]
    for options in ({"rate_limit_retries": 0}, {"max_retry_wait_s": 0.5}):
        async with RestClient(served.base_url, served.organizer, sleep=advance, **options) as rest:
            with pytest.raises(ApiError) as limited_error:
                await rest.post("/api/tournaments", {"name": "Three"})
            assert (limited_error.value.status, limited_error.value.code) == (429, "rate_limit_exceeded")
            assert limited_error.value.details["retry_after_ms"] == 1000
    assert waits == [1.0]
    names = [t["name"] for t in (await served.ok("GET", "/api/tournaments"))["tournaments"]]
    assert sorted(names) == ["One", "Two"]


# A followed room


@pytest.mark.gen_test
async def test_a_match_room_hands_the_snapshot_then_each_event_in_order(api: Api) -> None:
    """The first item is the snapshot; REST writes then arrive as events, in seq order."""
    async with RestClient(api.base_url, api.organizer) as rest:
        _, mid = await live_match(rest)
        async with Room.match(api.base_url, mid, api.token("viewer", Role.SPECTATOR)) as room:
            snapshot = await snapshot_of(room)
            assert snapshot.initial and not snapshot.welcome.recovered
            assert (snapshot.data["match"]["state"], snapshot.seq, room.state) == ("live", 1, ConnectionState.CONNECTED)
            for goal in (1, 2, 3):
                await rest.post(f"/api/matches/{mid}/score", {"scores": {"alice": goal}})
            events = await events_of(room, 3)
            assert [(e.type, e.seq, e.data["scores"]["alice"]) for e in events] == [
                ("score_updated", 2, 1), ("score_updated", 3, 2), ("score_updated", 4, 3)]
            assert events[-1].match is not None and events[-1].match["seq"] == 4 and room.last_seq == 4


@pytest.mark.gen_test
async def test_commands_return_their_ack_after_their_events(api: Api) -> None:
    """send() returns the ack, its events already queued; a refusal raises the error frame's code."""
    async with RestClient(api.base_url, api.organizer) as rest:
        _, mid = await live_match(rest)
    async with Room.match(api.base_url, mid, api.token("alice")) as room:
        await snapshot_of(room)
        ack = await room.send("report_score", {"scores": {"alice": 13, "bob": 9}})
        assert (ack.command, ack.state, ack.seq) == ("report_score", "pending_result", 2)
        [reported] = await events_of(room, 1)
        assert (reported.type, reported.seq, reported.data["to"]) == ("match_state_changed", 2, "pending_result")
        with pytest.raises(CommandError) as refused:
            await room.send("confirm_result")
        assert (refused.value.code, refused.value.command) == ("not_opponent", "confirm_result")
    with pytest.raises(CommandError) as closed:
        await room.send("confirm_result")
    assert closed.value.code == "not_connected"


@pytest.mark.gen_test
async def test_the_lobby_room_follows_new_tournaments(api: Api) -> None:
    """The lobby's snapshot lists the tournaments; a new one arrives as tournament_listed."""
    async with RestClient(api.base_url, api.organizer) as rest, \
            Room.lobby(api.base_url, api.token("viewer", Role.SPECTATOR)) as room:
        assert (await snapshot_of(room)).data["tournaments"] == []
        created = await rest.post("/api/tournaments", {"name": "Late Cup"})
        [listed] = await events_of(room, 1)
        assert (listed.type, listed.data["tournament"]["id"]) == ("tournament_listed", created["id"])


# Recovery


async def cut_by_network(link: CuttableLink, services: Services, room_key: str) -> None:
    link.cut()


async def cut_by_server(link: CuttableLink, services: Services, room_key: str) -> None:
    for member in list(services.hub.room(room_key).members):
        member.conn.close(CloseCode.INTERNAL_ERROR, "cut")


@pytest.mark.gen_test
@pytest.mark.parametrize("cut", [cut_by_network, cut_by_server], ids=["network", "server_close"])
async def test_a_cut_connection_resumes_with_exactly_the_missed_events(api: Api, cut: Any) -> None:
    """Events made while cut off come back on reconnect: once each, in order, recovered true, no new snapshot."""
    link = await CuttableLink(int(api.base_url.rsplit(":", 1)[1])).start()
    sleep = GatedSleep()
    try:
        async with RestClient(api.base_url, api.organizer) as rest:
            _, mid = await live_match(rest)
            async with Room.match(f"http://127.0.0.1:{link.port}", mid, api.organizer, sleep=sleep) as room:
                first = await snapshot_of(room)
                # the client offers permessage-deflate and the server's frames come deflated once
                assert [getattr(m.conn, "deflate") for m in api.services.hub.room(f"match:{mid}").members] == [True]
                await rest.post(f"/api/matches/{mid}/score", {"scores": {"alice": 1}})
                before = await events_of(room, 1)
                await cut(link, api.services, f"match:{mid}")
                await sleep.wait_called()  # the room knows it is cut off, and waits to reconnect
                assert room.state is ConnectionState.RECONNECTING
                for goal in (2, 3, 4):  # missed: the room is not connected
                    await rest.post(f"/api/matches/{mid}/score", {"scores": {"alice": goal}})
                sleep.gate.set()
                missed = await events_of(room, 3)
                assert room.welcome is not None and room.welcome.recovered is True
                await rest.post(f"/api/matches/{mid}/score", {"scores": {"alice": 5}})
                live = await events_of(room, 1)
                seen = [(e.seq, e.data["scores"]["alice"]) for e in before + missed + live]
                assert seen == [(2, 1), (3, 2), (4, 3), (5, 4), (6, 5)]
                assert (room.stats.connects, room.stats.snapshots, first.seq) == (2, 1, 1)
                assert len(sleep.delays) == 1
    finally:
        await link.close()


@pytest.mark.gen_test(timeout=15)
async def test_a_restart_with_a_new_epoch_hands_a_fresh_snapshot(config: Config, store: MemoryStore) -> None:
    """After a restart on the same port the tournament room's epoch is stale: a fresh snapshot, recovered false."""
    sock, port = bind_unused_port()
    before = build_services(config, store)
    server = HTTPServer(make_app(before))
    server.add_sockets([sock])
    base = f"http://127.0.0.1:{port}"
    organizer = before.tokens.issue("organizer", "Organizer", Role.ORGANIZER, 3600)[0]
    sleep = GatedSleep()
    after_server: HTTPServer | None = None
    try:
        async with RestClient(base, organizer) as rest:
            t = await rest.post("/api/tournaments", {"name": "Cup"})
            await rest.post(f"/api/tournaments/{t['id']}/participants", {"name": "alice", "id": "alice"})
            room = Room.tournament(base, t["id"], organizer, sleep=sleep)
            async with room:
                first = await snapshot_of(room)
                assert [p["id"] for p in first.data["participants"]] == ["alice"]
                old_epoch = first.epoch
                await shutdown(before, drain_s=1.0)  # every socket closed with 1001
                server.stop()
                await server.close_all_connections()  # the REST client's kept-alive one too
                await sleep.wait_called()
                after = build_services(config, store)  # the same store, a new memory
                after_server = HTTPServer(make_app(after))
                after_server.add_sockets(bind_sockets(port, "127.0.0.1"))
                await rest.post(f"/api/tournaments/{t['id']}/participants", {"name": "bob", "id": "bob"})
                sleep.gate.set()
                fresh = await snapshot_of(room)
                assert not fresh.initial and fresh.welcome.recovered is False and fresh.epoch != old_epoch
                assert [p["id"] for p in fresh.data["participants"]] == ["alice", "bob"]
                assert room.epoch == fresh.epoch and room.last_seq == fresh.seq
                await rest.post(f"/api/tournaments/{t['id']}/participants", {"name": "carol", "id": "carol"})
                [added] = await events_of(room, 1)
                assert (added.type, added.seq, added.data["participant"]["id"]) == (
                    "participant_added", fresh.seq + 1, "carol")
    finally:
        server.stop()
        if after_server is not None:
            after_server.stop()


@pytest.mark.gen_test
async def test_a_final_close_ends_the_room_without_reconnecting(api: Api) -> None:
    """4500+ closes and an HTTP refusal raise RoomClosed with the refusal's code, without a reconnect."""
    async with RestClient(api.base_url, api.organizer) as rest:
        _, mid = await live_match(rest)
    cases = [
        ("/ws/match/m_missing", api.organizer, 4504, "not_found"),
        ("/ws/tournament/t_missing", api.organizer, 4504, "not_found"),
        (f"/ws/match/{mid}", "not-a-token", 4503, "invalid_token"),
        (f"/ws/match/{mid}", api.token("alice", ttl_s=-60), 4502, "token_expired"),
    ]
    for path, token, close_code, code in cases:
        sleep = GatedSleep(open_=True)
        async with Room(api.base_url + path, token, sleep=sleep) as room:
            with pytest.raises(RoomClosed) as closed:
                await next_item(room)
            assert (closed.value.close_code, closed.value.code) == (close_code, code)
            assert path in str(closed.value) and token not in str(closed.value)
            assert (sleep.delays, room.stats.connects, room.state) == ([], 0, ConnectionState.CLOSED)
            with pytest.raises(RoomClosed):  # and it stays closed
                await next_item(room)
    sleep = GatedSleep(open_=True)
    async with Room(f"{api.base_url}/ws/nowhere", api.organizer, sleep=sleep) as room:
        with pytest.raises(RoomClosed) as refused:
            await next_item(room)
        assert (refused.value.close_code, refused.value.code, refused.value.details) == (None, "http_404",
                                                                                         {"status": 404})
        assert sleep.delays == []


@pytest.mark.gen_test
async def test_a_deleted_tournament_ends_its_room_after_the_event(api: Api) -> None:
    """tournament_deleted is delivered, then the iteration ends without an error or a reconnect."""
    sleep = GatedSleep(open_=True)
    async with RestClient(api.base_url, api.organizer) as rest:
        t = await rest.post("/api/tournaments", {"name": "Gone Cup"})
        async with Room.tournament(api.base_url, t["id"], api.organizer, sleep=sleep) as room:
            await snapshot_of(room)
            await rest.delete(f"/api/tournaments/{t['id']}", params={"confirm": "Gone Cup"})
            [deleted] = await events_of(room, 1)
            assert deleted.type == "tournament_deleted"
            async with asyncio.timeout(WAIT_S):
                assert [item async for item in room if not isinstance(item, NOTICES)] == []
            assert (room.state, sleep.delays) == (ConnectionState.CLOSED, [])


@pytest.mark.gen_test
async def test_a_limit_refusal_waits_its_retry_after_then_connects(config: Config, store: MemoryStore,
                                                                   serve_app: Any) -> None:
    """A 4030 refusal waits at least its retry_after_ms, then connects once the other socket is gone."""
    served = serve_app(build_services(dataclasses.replace(config, sockets_per_user=1), store))
    async with RestClient(served.base_url, served.organizer) as rest:
        _, mid = await live_match(rest)
    token = served.token("alice")
    sleep = GatedSleep()
    async with Room.match(served.base_url, mid, token) as first:
        await snapshot_of(first)
        second = Room.match(served.base_url, mid, token, sleep=sleep).start()
        await sleep.wait_called()
        assert sleep.delays[0] >= 5.0 and second.stats.connects == 0
    sleep.gate.set()
    async with second:
        assert (await snapshot_of(second)).initial


@pytest.mark.gen_test(timeout=10)
async def test_server_heartbeats_are_answered(config: Config, store: MemoryStore, serve_app: Any) -> None:
    """With 0.2 s heartbeats the room answers each ping and is never closed for silence (after two intervals)."""
    quick = build_services(dataclasses.replace(config, ping_interval_s=0.2), store)
    quick.heartbeat.start()
    try:
        served = serve_app(quick)
        async with RestClient(served.base_url, served.organizer) as rest:
            _, mid = await live_match(rest)
        async with Room.match(served.base_url, mid, served.organizer, sleep=GatedSleep()) as room:
            assert (await snapshot_of(room)).welcome.heartbeat_interval_ms == 200
            await eventually(lambda: room.stats.pongs >= 4)  # over 0.6 s: past two intervals
            assert (quick.heartbeat.timeouts, room.stats.connects, room.state) == (0, 1, ConnectionState.CONNECTED)
    finally:
        quick.heartbeat.stop()


@pytest.mark.gen_test
async def test_a_gap_is_never_delivered_and_is_resumed_with_since() -> None:
    """A scripted server skips a seq: the room reconnects with since and epoch, delivers in order, skips repeats."""
    queries: list[dict[str, list[str]]] = []

    def welcome(seq: int, recovered: bool) -> str:
        return json.dumps({"type": "connection_established", "data": {
            "seq": seq, "epoch": "e1", "recovered": recovered, "heartbeat_interval": 25000, "watchers": 1}})

    def event(seq: int) -> str:
        return json.dumps({"type": "score_updated", "seq": seq, "ts": 1, "data": {"scores": {"a": seq}}})

    async def scripted(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query)
        queries.append(query)
        if "since" not in query:
            await ws.send(welcome(1, False))
            await ws.send(json.dumps({"type": "ping", "timestamp": 42}))
            assert json.loads(await ws.recv()) == {"type": "pong", "timestamp": 42}
            for seq in (2, 4, 5):  # 3 is missing
                await ws.send(event(seq))
        else:
            await ws.send(welcome(5, True))
            for seq in (2, 3, 4, 5, 6):  # replayed from an older seq than asked, then live
                await ws.send(event(seq))
        await ws.wait_closed()

    async with serve(scripted, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with Room(f"ws://127.0.0.1:{port}/ws/match/m_1", "tok", sleep=GatedSleep(open_=True),
                        backoff=quick_backoff()) as room:
            assert (await snapshot_of(room)).seq == 1
            events = await events_of(room, 5)
            assert [e.seq for e in events] == [2, 3, 4, 5, 6]
            assert (room.stats.gaps, room.stats.skipped, room.stats.snapshots, room.stats.pongs) == (1, 1, 1, 1)
    assert queries == [{"token": ["tok"]}, {"token": ["tok"], "since": ["2"], "epoch": ["e1"]}]


# Units: backoff, frames, numbering


def test_backoff_doubles_to_its_cap_with_full_jitter() -> None:
    """Attempt n waits rng() * min(cap, base * 2**n): the top of the window doubles to the cap."""
    top = Backoff(base_s=1.0, cap_s=30.0, rng=lambda: 0.999)
    assert [round(top.next_delay(), 3) for _ in range(8)] == [
        0.999, 1.998, 3.996, 7.992, 15.984, 29.97, 29.97, 29.97]
    bottom = Backoff(rng=lambda: 0.0)
    assert [bottom.next_delay() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_backoff_delays_are_jittered_within_their_window() -> None:
    """With a seeded random source the delays spread inside each attempt's window, never past the cap."""
    backoff = Backoff(base_s=1.0, cap_s=8.0, rng=random.Random(7).random)
    delays = []
    for _ in range(20):
        ceiling = backoff.ceiling_s()
        delays.append(backoff.next_delay())
        assert 0.0 <= delays[-1] < ceiling <= 8.0
    assert len(set(delays)) == len(delays)
    assert min(delays[4:]) < 4.0 < max(delays[4:])  # at the cap, spread over the whole window


def test_backoff_honours_a_floor_and_starts_again_after_reset() -> None:
    """A refusal's retry_after is a floor under the jitter; reset() returns to the base window."""
    backoff = Backoff(base_s=1.0, cap_s=30.0, rng=lambda: 0.5)
    assert backoff.next_delay(floor_s=5.0) == 5.5
    assert backoff.next_delay() == 1.0
    backoff.reset()
    assert (backoff.attempt, backoff.next_delay()) == (0, 0.5)
    with pytest.raises(ValueError):
        Backoff(base_s=2.0, cap_s=1.0)


def test_frames_are_typed_and_unknown_ones_still_come_through() -> None:
    """Each frame type parses to its dataclass; unknown types are events when numbered, else notices."""
    event = parse_frame('{"type":"score_updated","seq":3,"ts":17,"match_seq":2,"data":{"scores":{"a":1}}}')
    assert isinstance(event, Event)
    assert (event.type, event.seq, event.ts, event.match_seq) == ("score_updated", 3, 17, 2)
    newer = parse_frame('{"type":"trophy_awarded","seq":9,"data":{"to":"a"}}')
    assert isinstance(newer, Event) and (newer.type, newer.seq, newer.ts, newer.data) == ("trophy_awarded", 9, None,
                                                                                           {"to": "a"})
    notice = parse_frame('{"type":"chat_typing","data":{"user_id":"a"}}')
    assert isinstance(notice, Notice) and (notice.type, notice.data) == ("chat_typing", {"user_id": "a"})
    error = parse_frame('{"type":"error","code":"room_full","message":"full","close_code":4031,'
                        '"retry_after_ms":10000,"field":"x"}')
    assert isinstance(error, ErrorFrame)
    assert (error.code, error.close_code, error.retry_after_ms, error.id, error.details) == (
        "room_full", 4031, 10000, None, {"field": "x"})
    for bad in ("not json", "[1]", '{"type": 3}', '{"type":"connection_established","data":{"seq":1}}'):
        with pytest.raises(FrameError):
            parse_frame(bad)


def test_the_sequencer_delivers_once_in_order_and_resumes_from_the_last() -> None:
    """The sequencer skips repeats and early events, flags a jump as a gap, and resumes from the last seq."""
    def welcome(seq: int, recovered: bool, epoch: str = "e1") -> Welcome:
        frame = parse_frame(json.dumps({"type": "connection_established",
                                        "data": {"seq": seq, "epoch": epoch, "recovered": recovered}}))
        assert isinstance(frame, Welcome)
        return frame

    def event(seq: int) -> Event:
        frame = parse_frame(json.dumps({"type": "x", "seq": seq, "data": {}}))
        assert isinstance(frame, Event)
        return frame

    seq = Sequencer()
    assert seq.resume_query() == {} and seq.event(event(1)) is Verdict.SKIP
    first = seq.welcome(welcome(4, False))
    assert first is not None and first.initial
    assert [seq.event(event(n)) for n in (4, 5, 7, 6)] == [Verdict.SKIP, Verdict.DELIVER, Verdict.GAP, Verdict.DELIVER]
    assert seq.resume_query() == {"since": "6", "epoch": "e1"}
    assert seq.welcome(welcome(9, True)) is None and seq.last_seq == 6
    fresh = seq.welcome(welcome(2, False, "e2"))
    assert fresh is not None and not fresh.initial and seq.resume_query() == {"since": "2", "epoch": "e2"}
