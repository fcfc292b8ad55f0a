"""Unit tests of SocketSession on fakes: admission, refusals that release what they took,
welcome and replay, commands answered through the one describer. No socket is opened."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from realtime.heartbeat import Heartbeat
from realtime.hub import Hub
from realtime.limits import ConnectionCounter, Limits, RateLimiter
from realtime.protocol import CloseCode
from realtime.session import (Handshake, MatchRoom, SessionContext, SessionSettings, SocketSession,
                              TournamentRoom)
from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock, FakeConnection, FakeScheduler
from tournament.chat import ChatService
from tournament.models import Match, MatchState, Tournament, TournamentState
from tournament.roles import Principal, Role
from tournament.store import StorageUnavailableError
from tournament.tokens import TokenCodec
from tournament.tournaments import TournamentService
from tournament.links import LinkService
from tournament.matches import MatchService
from tournament.writer import MatchWriter

SECRET = "session-test-secret-0123456789abcdef"
T0 = 1_700_000_000.0


class FakeTransport(FakeConnection):
    """A FakeConnection that records when frames were sent past its output bound."""

    def __init__(self, name: str = "conn") -> None:
        super().__init__(name)
        self.unbounded_frames: list[int] = []  # indexes of frames sent within unbounded()
        self._unbounded = False

    def send(self, frame: Any) -> None:
        if self._unbounded:
            self.unbounded_frames.append(len(self.frames))
        super().send(frame)

    @contextlib.contextmanager
    def unbounded(self) -> Iterator[None]:
        self._unbounded = True
        try:
            yield
        finally:
            self._unbounded = False


class NoBracket:
    async def match_ended(self, match: Match) -> None:
        pass


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.scheduler = FakeScheduler(self.clock)
        self.store = MemoryStore()
        self.hub = Hub(self.scheduler)
        self.tokens = TokenCodec(SECRET, self.clock)
        writer = MatchWriter(self.store, self.hub, self.clock)
        self.chat = ChatService(self.store, writer, self.clock)
        self.matches = MatchService(self.store, writer, NoBracket(), self.scheduler, self.clock, 0.1)
        self.tournaments = TournamentService(self.store, self.clock, publisher=self.hub)
        self.limits = Limits(messages_by_user=RateLimiter(100, 100, self.clock),
                             messages_by_ip=RateLimiter(100, 100, self.clock),
                             writes_by_user=RateLimiter(100, 100, self.clock),
                             sockets=ConnectionCounter(per_user=2, per_ip=10), tournament_room_max=2)
        self.heartbeat = Heartbeat(self.scheduler, self.clock, 25.0)
        self.context = SessionContext(
            hub=self.hub, heartbeat=self.heartbeat, limits=self.limits, tokens=self.tokens, matches=self.matches,
            chat=self.chat, clock=self.clock, links=LinkService(self.store, self.tokens, self.clock),
            rooms={"match": MatchRoom(self.matches, self.chat), "tournament": TournamentRoom(self.tournaments, self.matches)},
            settings=SessionSettings(max_frame_bytes=1024))

    def token(self, user: str = "alice", role: Role = Role.PLAYER, ttl_s: int = 3600) -> str:
        return self.tokens.issue(user, user.title(), role, ttl_s)[0]

    def session(self, room_id: str = "m1", kind: str = "match", origin: str | None = None,
                **query: str) -> tuple[SocketSession, FakeTransport]:
        transport = FakeTransport(room_id)
        handshake = Handshake(room_id=room_id, query=query, origin=origin, host="venue:8888",
                              peer="10.0.0.7", forwarded_for=None)
        return SocketSession(self.context, transport, self.context.rooms[kind], handshake), transport

    async def live_match(self) -> Match:
        await self.store.insert_tournament(Tournament(id="t1", name="Cup", game="", format="single_elimination",
                                                      state=TournamentState.DRAFT, created_by="org", created_at=T0))
        await self.store.insert_match(Match(id="m1", tournament_id="t1", participant_ids=("alice", "bob"),
                                            state=MatchState.SCHEDULED, created_at=T0, updated_at=T0))
        return await self.matches.start("m1", Principal("org", "Org", Role.ORGANIZER))


@pytest.fixture
def world() -> World:
    return World()


def refusal(transport: FakeTransport) -> tuple[str, int, tuple[int, str]]:
    """(error code, close_code field, the close) of a refused socket, which got nothing else."""
    (frame,) = transport.json()
    (close,) = transport.closes
    assert frame["type"] == "error"
    return frame["code"], frame["close_code"], close


@pytest.mark.gen_test
async def test_each_refusal_has_its_close_code_and_takes_nothing(world: World) -> None:
    """Every refusal is one error frame then its close, and leaves no count, watch or member."""
    await world.live_match()
    expired = world.tokens.issue("alice", "Alice", Role.PLAYER, 1)[0]
    world.clock.advance(60)
    cases = [
        (dict(room_id="bad id"), {"token": world.token()}, ("invalid_route", 4500)),
        (dict(), {"token": world.token(), "since": "1 "}, ("invalid_schema", 4500)),
        (dict(), {"token": world.token(), "since": "9" * 5000}, ("invalid_value", 4500)),
        (dict(), {"token": world.token(), "since": "1", "epoch": "not an epoch!"}, ("invalid_schema", 4500)),
        (dict(origin="http://evil.example"), {"token": world.token()}, ("invalid_origin", 4506)),
        (dict(), {}, ("authentication_required", 4501)),
        (dict(), {"token": expired}, ("token_expired", 4502)),
        (dict(), {"token": "not-a-token"}, ("invalid_token", 4503)),
        (dict(room_id="m_missing"), {"token": world.token()}, ("not_found", 4504)),
        (dict(room_id="t_missing", kind="tournament"), {"token": world.token()}, ("not_found", 4504)),
    ]
    for where, query, (code, close) in cases:
        session, transport = world.session(**where, **query)
        await session.open()
        assert refusal(transport) == (code, close, (close, code)), (where, query)
        assert (world.limits.sockets.open, len(world.heartbeat), world.hub.watchers("match:m1")) == (0, 0, 0)


@pytest.mark.gen_test
async def test_a_store_outage_at_connect_is_1011_and_releases_everything(world: World,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreachable store while subscribing refuses with 1011 store_unavailable: the frames
    held for the member (a presence) are dropped, and its counts are released."""
    await world.live_match()
    watcher, seen = world.session(token=world.token("bob"))
    await watcher.open()

    async def down(match_id: str) -> Match:
        world.scheduler.advance(1.0)  # the store times out after the join's presence went out
        raise StorageUnavailableError("database unreachable")

    monkeypatch.setattr(world.store, "get_match", down)
    session, transport = world.session(token=world.token())
    await session.open()
    assert refusal(transport) == ("store_unavailable", 1011, (1011, "store_unavailable"))
    assert (world.limits.sockets.by_user.get("player:alice"), world.hub.watchers("match:m1")) == (None, 1)
    assert seen.json()[-1] == {"type": "presence", "data": {"room": "match:m1", "watchers": 2,
                                                            "participants": ["bob"], "spectators": 1}}


@pytest.mark.gen_test
async def test_an_unforeseen_failure_at_connect_is_logged_without_the_token(world: World, caplog: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug while admitting refuses with 1011 internal_error, releases the counts and logs
    the failure, and the token is in no log line."""
    await world.live_match()

    async def broken(room_id: str, user: Principal, hub: Hub) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(world.context.rooms["match"], "snapshot", broken)
    token = world.token()
    session, transport = world.session(token=token)
    with caplog.at_level(logging.ERROR):
        await session.open()
    assert refusal(transport) == ("internal_error", 1011, (1011, "internal_error"))
    assert world.limits.sockets.open == 0
    assert "a bug" in caplog.text and token not in caplog.text


@pytest.mark.gen_test
async def test_limits_count_role_and_subject_apart(world: World) -> None:
    """A player and a spectator with the same subject each have their own socket count."""
    await world.live_match()
    for _ in range(2):
        await world.session(token=world.token("alice"))[0].open()
    spectator, transport = world.session(token=world.token("alice", Role.SPECTATOR))
    await spectator.open()
    assert transport.json()[0]["type"] == "connection_established"
    third, refused = world.session(token=world.token("alice"))
    await third.open()
    assert refusal(refused)[0] == "connection_limit_exceeded"


@pytest.mark.gen_test
async def test_welcome_then_the_missed_frames_past_the_bound_then_live(world: World) -> None:
    """A reconnect with since gets the welcome and what it missed (both past the output
    bound), then live frames, each once."""
    await world.live_match()
    organizer = Principal("org", "Org", Role.ORGANIZER)
    for goal in (1, 2):
        await world.matches.update_score("m1", organizer, {"alice": goal}, version=None)
        await world.matches.scores.flush("m1")
    session, transport = world.session(token=world.token(), since="1", epoch=f"m{int(T0 * 1000):x}")
    await session.open()
    await world.matches.update_score("m1", organizer, {"alice": 3}, version=None)
    await world.matches.scores.flush("m1")
    frames = transport.json()
    assert frames[0]["type"] == "connection_established" and frames[0]["data"]["recovered"] is True
    assert [f.get("seq") for f in frames[1:]] == [2, 3, 4]
    assert transport.unbounded_frames == [0, 1, 2]


@pytest.mark.gen_test
async def test_commands_are_acked_and_refusals_described(world: World) -> None:
    """A command frame gets an ack with the match's state; a refused one an error frame with
    the describer's code, and the socket stays open."""
    await world.live_match()
    session, transport = world.session(token=world.token())
    await session.open()
    await session.receive('{"type": "report_score", "id": 1, "data": {"scores": {"alice": 2, "bob": 1}}}')
    await session.receive('{"type": "confirm_result", "id": 2}')
    await session.receive('{"type": "raise_dispute", "id": 3, "data": {"reason": "bad \\ud800"}}')
    frames = [f for f in transport.json() if f["type"] in ("ack", "error")]
    assert frames[0] == {"type": "ack", "id": 1, "data": {"command": "report_score", "match_id": "m1",
                                                          "accepted": True, "state": "pending_result",
                                                          "version": 3, "seq": 2}}
    assert (frames[1]["id"], frames[1]["code"]) == (2, "not_opponent")
    assert (frames[2]["id"], frames[2]["code"], frames[2]["field"]) == (3, "invalid_value", "reason")
    assert transport.closes == []


@pytest.mark.gen_test
async def test_a_batched_score_is_acked_at_once_and_a_late_failure_reported(world: World) -> None:
    """update_score is acked before its batch is written; a batch whose write fails comes
    back as an error frame with the command's id."""
    await world.live_match()
    session, transport = world.session(token=world.token())
    await session.open()
    await session.receive('{"type": "update_score", "id": "s", "data": {"scores": {"alice": 4}}}')
    assert transport.json()[-1] == {"type": "ack", "id": "s", "data": {"command": "update_score",
                                                                       "match_id": "m1", "accepted": True}}
    await world.matches.cancel("m1", Principal("org", "Org", Role.ORGANIZER))  # flushes first: written
    await session.receive('{"type": "update_score", "id": "t", "data": {"scores": {"alice": 5}}}')
    assert transport.json()[-1]["code"] == "invalid_state"


@pytest.mark.gen_test
async def test_a_frame_over_the_size_refuses_with_4008(world: World) -> None:
    """A frame over max_frame_bytes: payload_too_large, then 4008; the session lets go of all."""
    await world.live_match()
    session, transport = world.session(token=world.token())
    await session.open()
    await session.receive("x" * 2000)
    assert transport.json()[-1]["code"] == "payload_too_large"
    assert transport.closes == [(CloseCode.PAYLOAD_TOO_LARGE, "payload_too_large")]
    assert (world.limits.sockets.open, world.hub.watchers("match:m1")) == (0, 0)


@pytest.mark.gen_test
async def test_closing_releases_once(world: World) -> None:
    """closed() releases the socket's count, watch and membership, and may be called twice."""
    await world.live_match()
    session, _ = world.session(token=world.token())
    await session.open()
    assert (world.limits.sockets.open, len(world.heartbeat), world.hub.watchers("match:m1")) == (1, 1, 1)
    session.closed()
    session.closed()
    assert (world.limits.sockets.open, len(world.heartbeat), world.hub.watchers("match:m1")) == (0, 0, 0)


@pytest.mark.gen_test
async def test_a_client_gone_while_its_link_is_checked_joins_nothing(world: World,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The link check awaits the store: a socket closed meanwhile must not join the room, be
    watched or stay counted when the check returns."""
    await world.live_match()
    checking = asyncio.Event()
    release = asyncio.Event()

    async def slow_check(user: Principal) -> None:
        checking.set()
        await release.wait()

    monkeypatch.setattr(world.context.links, "check", slow_check)
    session, _ = world.session(token=world.token())
    opening = asyncio.ensure_future(session.open())
    await checking.wait()
    session.closed()  # the client went away
    release.set()
    await opening
    assert (world.limits.sockets.open, len(world.heartbeat), world.hub.watchers("match:m1")) == (0, 0, 0)


def test_settings_default_to_the_documented_limits() -> None:
    """The session's defaults are the documented ones (docs/protocol.md#limits)."""
    assert dataclasses.asdict(SessionSettings()) == {
        "allowed_origins": (), "trusted_proxies": (), "max_frame_bytes": 16384, "heartbeat_interval_s": 25.0,
        "flood_limit": 40, "chat_rate_per_socket": 1.0, "chat_burst_per_socket": 5, "typing_interval_s": 2.0}


@pytest.mark.gen_test
async def test_presence_tells_which_participants_are_connected(world: World) -> None:
    """A match room's presence names the participants connected and counts the others; its
    tournament room shows, per match, the participants online in it."""
    await world.live_match()
    tournament, seen = world.session("t1", "tournament", token=world.token("org", Role.ORGANIZER))
    await tournament.open()
    for user, role in [("alice", Role.PLAYER), ("sam", Role.SPECTATOR), ("org", Role.ORGANIZER)]:
        await world.session(token=world.token(user, role))[0].open()
    world.scheduler.advance(1.0)
    assert world.hub.presence("match:m1") == {"room": "match:m1", "watchers": 3, "participants": ["alice"],
                                              "spectators": 2}
    assert seen.json()[-1] == {"type": "presence", "data": {"room": "tournament:t1", "watchers": 1,
                                                            "online": {"m1": ["alice"]}}}
    bob, _ = world.session(token=world.token("bob"))
    await bob.open()
    world.scheduler.advance(1.0)
    assert seen.json()[-1]["data"]["online"] == {"m1": ["alice", "bob"]}
    bob.closed()
    world.scheduler.advance(1.0)
    assert seen.json()[-1]["data"]["online"] == {"m1": ["alice"]}



async def _tournament_with_a_match(world: World) -> None:
    await world.store.insert_tournament(Tournament(id="t1", name="Cup", game="", format="single_elimination",
                                                   state=TournamentState.DRAFT, created_by="org", created_at=T0))
    await world.store.insert_match(Match(id="m1", tournament_id="t1", participant_ids=("alice", "bob"),
                                         state=MatchState.SCHEDULED, created_at=T0, updated_at=T0))
    world.limits.tournament_room_max = 100


def _count_reads(world: World, monkeypatch: pytest.MonkeyPatch,
                 gate: asyncio.Event | None = None, fail_first: bool = False) -> list[int]:
    """Counts the store's match-list reads (one per snapshot), optionally held at `gate` or failing once."""
    reads: list[int] = []
    list_matches = world.store.list_matches

    async def counted(tournament_id: str) -> list[Match]:
        reads.append(1)
        if gate is not None:
            await gate.wait()
        if fail_first and len(reads) == 1:
            raise StorageUnavailableError("the store is down")
        return await list_matches(tournament_id)

    monkeypatch.setattr(world.store, "list_matches", counted)
    return reads


@pytest.mark.gen_test
async def test_sockets_joining_a_tournament_room_at_one_seq_share_one_snapshot(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reconnect storm's sockets joining at one seq are welcomed from one read of the store,
    each with its own user fields; after the next event a joiner reads afresh."""
    await _tournament_with_a_match(world)
    reads = _count_reads(world, monkeypatch)
    joined = [world.session("t1", "tournament", token=world.token(name, Role.SPECTATOR))
              for name in ("ann", "ben", "cat")]
    await asyncio.gather(*(session.open() for session, _ in joined))
    welcomes = [transport.json()[0]["data"] for _, transport in joined]
    assert len(reads) == 1
    assert [w["username"] for w in welcomes] == ["Ann", "Ben", "Cat"]
    assert all(w["matches"] == welcomes[0]["matches"] and w["seq"] == welcomes[0]["seq"] for w in welcomes)
    await world.matches.start("m1", Principal("org", "Org", Role.ORGANIZER))  # an event: the seq moves on
    late, transport = world.session("t1", "tournament", token=world.token("dan", Role.SPECTATOR))
    await late.open()
    (welcome,) = transport.json()
    assert len(reads) == 2
    assert welcome["data"]["seq"] > welcomes[0]["seq"]
    assert welcome["data"]["matches"][0]["state"] == "live"


@pytest.mark.gen_test
async def test_a_joiner_that_leaves_does_not_cancel_the_shared_read(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await _tournament_with_a_match(world)
    gate = asyncio.Event()
    reads = _count_reads(world, monkeypatch, gate)
    first, _ = world.session("t1", "tournament", token=world.token("ann", Role.SPECTATOR))
    second, transport = world.session("t1", "tournament", token=world.token("ben", Role.SPECTATOR))
    opening = asyncio.ensure_future(first.open())
    while not reads:
        await asyncio.sleep(0)
    following = asyncio.ensure_future(second.open())
    for _ in range(5):
        await asyncio.sleep(0)  # the second is awaiting the first's read
    opening.cancel()
    first.closed()
    gate.set()
    await following
    assert opening.cancelled()
    assert [f["type"] for f in transport.json()] == ["connection_established"]
    assert len(reads) == 1


@pytest.mark.gen_test
async def test_a_failed_snapshot_read_is_not_shared(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that failed (the store was down) refuses its socket; the next joiner at the same
    seq reads again instead of getting the failure."""
    await _tournament_with_a_match(world)
    reads = _count_reads(world, monkeypatch, fail_first=True)
    failed, refused = world.session("t1", "tournament", token=world.token("ann", Role.SPECTATOR))
    await failed.open()
    assert refusal(refused)[1] == 1011
    later, transport = world.session("t1", "tournament", token=world.token("ben", Role.SPECTATOR))
    await later.open()
    assert [f["type"] for f in transport.json()] == ["connection_established"]
    assert len(reads) == 2
