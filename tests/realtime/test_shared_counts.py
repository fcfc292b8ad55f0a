"""The seams of counts shared between nodes, without Redis: a session's admission through
SharedCounts (refusals, Redis away, one release) and the hub's presence with a Census."""

from __future__ import annotations

import pytest

from realtime.hub import Headcount, Hub
from realtime.limits import SharedCountsUnavailableError
from tests.realtime.fakes import FakeConnection, FakeScheduler
from tests.realtime.test_session import World, refusal
from tournament.roles import Role

M1, T1 = "match:m1", "tournament:t1"


class FakeShared:
    """SharedCounts answering `verdict` (or raising when it is None and `down`); records calls."""

    def __init__(self, verdict: str | None = None, down: bool = False) -> None:
        self.verdict = verdict
        self.down = down
        self.reserved: list[tuple[str, str, str, int, int, int]] = []
        self.released: list[tuple[str, str, str]] = []

    async def reserve(self, user_id: str, ip: str, room: str, *, user_max: int, ip_max: int,
                      room_max: int) -> str | None:
        self.reserved.append((user_id, ip, room, user_max, ip_max, room_max))
        if self.down:
            raise SharedCountsUnavailableError("Redis is away")
        return self.verdict

    def release(self, user_id: str, ip: str, room: str) -> None:
        self.released.append((user_id, ip, room))


@pytest.fixture
def world() -> World:
    return World()


def share(world: World, shared: FakeShared) -> FakeShared:
    world.limits.shared = shared
    return shared


@pytest.mark.gen_test
async def test_a_socket_is_checked_across_nodes_after_its_own_node(world: World) -> None:
    """Admitted here, the socket is reserved with its limits (the tournament room's, the spectator
    token's), and released once when it closes."""
    await world.live_match()
    shared = share(world, FakeShared())
    session, transport = world.session("t1", "tournament", token=world.token("screen", Role.SPECTATOR))
    await session.open()
    assert transport.json()[0]["type"] == "connection_established"
    sockets = world.limits.sockets
    assert shared.reserved == [("spectator:screen", "10.0.0.7", T1, sockets.per_spectator, sockets.per_ip, 2)]
    session.closed()
    session.closed()
    assert shared.released == [("spectator:screen", "10.0.0.7", T1)]
    assert sockets.open == 0


@pytest.mark.gen_test
async def test_the_other_nodes_limits_refuse_as_this_nodes_do(world: World) -> None:
    """A limit reached across the nodes is the same refusal (4031, 4030) and gives everything back."""
    await world.live_match()
    for verdict, kind, expected in (("room", "tournament", ("room_full", 4031)),
                                    ("user", "match", ("connection_limit_exceeded", 4030)),
                                    ("ip", "match", ("ip_connection_limit_exceeded", 4030))):
        shared = share(world, FakeShared(verdict))
        session, transport = world.session("t1" if kind == "tournament" else "m1", kind, token=world.token())
        await session.open()
        code, close = expected
        assert refusal(transport) == (code, close, (close, code))
        assert transport.json()[0]["retry_after_ms"] > 0
        assert len(shared.released) == 1 and world.limits.sockets.open == 0
        assert (len(world.heartbeat), world.hub.watchers("match:m1")) == (0, 0)


@pytest.mark.gen_test
async def test_redis_away_admits_by_this_nodes_counts(world: World) -> None:
    """The shared counts unreachable: admitted while the room has room here, refused 4031 once
    it has tournament_room_max watchers here (the user's and address's limits were checked here)."""
    await world.live_match()
    share(world, FakeShared(down=True))
    first, seen = world.session("t1", "tournament", token=world.token("a"))
    second, _ = world.session("t1", "tournament", token=world.token("b"))
    third, refused = world.session("t1", "tournament", token=world.token("c"))
    await first.open()
    await second.open()
    await third.open()
    assert seen.json()[0]["type"] == "connection_established"
    assert refusal(refused) == ("room_full", 4031, (4031, "room_full"))


class FakeCensus:
    def __init__(self) -> None:
        self.counts: dict[str, Headcount] = {}
        self.changes: list[str] = []

    def changed(self, key: str, sink: Hub) -> None:
        self.changes.append(key)

    def others(self, key: str) -> Headcount | None:
        return self.counts.get(key)


def test_presence_adds_the_other_nodes_part() -> None:
    """Watchers and spectators summed, players joined, a tournament room's online merged; the
    census hears of the match room's change and its tournament room's."""
    census = FakeCensus()
    scheduler = FakeScheduler()
    hub = Hub(scheduler, census=census)
    member = hub.join(M1, FakeConnection())
    hub.identify(M1, member, "alice", T1)
    assert census.changes == [M1, M1, T1]
    census.counts[M1] = Headcount(watchers=3, participants=frozenset({"bob", "alice"}), spectators=1)
    census.counts[T1] = Headcount(watchers=2, online={"m1": frozenset({"bob"}), "m2": frozenset({"carol"})})
    assert hub.presence(M1) == {"room": M1, "watchers": 4, "participants": ["alice", "bob"], "spectators": 1}
    assert hub.presence_here(M1) == {"room": M1, "watchers": 1, "participants": ["alice"], "spectators": 0}
    assert hub.presence(T1) == {"room": T1, "watchers": 2, "online": {"m1": ["alice", "bob"], "m2": ["carol"]}}
    assert (hub.watchers(M1), hub.members_here(M1), hub.watchers(T1)) == (4, 1, 2)


def test_another_nodes_change_is_a_presence_frame_here() -> None:
    """presence_moved schedules the room's presence frame as a join does, once per interval."""
    scheduler = FakeScheduler()
    hub = Hub(scheduler, presence_interval_s=1.0, census=FakeCensus())
    conn = FakeConnection()
    member = hub.join(M1, conn)
    hub.resume(member, None, None, 0)
    scheduler.advance(1.0)
    assert conn.json()[-1]["type"] == "presence"
    sent = len(conn.frames)
    hub.presence_moved(M1)
    hub.presence_moved(M1)
    scheduler.advance(1.0)
    assert len(conn.frames) == sent + 1
    hub.presence_moved("match:unknown")  # a room not here: nothing
