"""RedisCounts against a real redis-server: reservations summed over nodes, releases, a dead
node's counts expiring, a lapsed hash written whole again, Redis away, and presence's sums."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from realtime.counters import RedisCounts
from realtime.countscripts import NODES, node_key
from realtime.hub import Hub
from realtime.limits import ConnectionCounter, SharedCountsUnavailableError
from tests.realtime.fakes import FakeConnection, FakeScheduler
from tests.redisserver import RedisServer

T1, M1 = "tournament:t1", "match:m1"
WAIT_S = 10.0


class CountNode:
    """One node's counts: its own ConnectionCounter, its RedisCounts, a hub that is their census."""

    def __init__(self, url: str, per_user: int = 2, per_ip: int = 100, **options: Any) -> None:
        self.sockets = ConnectionCounter(per_user=per_user, per_ip=per_ip)
        self.counts = RedisCounts(url, self.sockets, **options)
        self.scheduler = FakeScheduler()
        self.hub = Hub(self.scheduler, census=self.counts)

    async def admit(self, user: str, ip: str = "10.0.0.1", room: str = T1, room_max: int = 0) -> str | None:
        """As a session admits: this node's counts, then every node's; a refusal gives both back."""
        refused = self.sockets.admit(user, ip)
        if refused is not None:
            return refused.code
        try:
            reached = await self.counts.reserve(user, ip, room, user_max=self.sockets.per_user,
                                                ip_max=self.sockets.per_ip, room_max=room_max)
        except SharedCountsUnavailableError:
            return "unavailable"
        if reached is not None:
            self.release(user, ip, room)
        return reached

    def release(self, user: str, ip: str = "10.0.0.1", room: str = T1) -> None:
        self.sockets.release(user, ip)
        self.counts.release(user, ip, room)

    async def kill(self) -> None:
        """As kill -9 leaves it: nothing renewed, nothing taken out."""
        for task in self.counts._tasks:
            task.cancel()
        await asyncio.gather(*self.counts._tasks, return_exceptions=True)
        self.counts._tasks = []
        self.counts._up = False  # close() then takes nothing out of Redis
        await self.counts.close()


@contextlib.asynccontextmanager
async def count_nodes(url: str, count: int = 2, **options: Any) -> AsyncIterator[list[CountNode]]:
    nodes = [CountNode(url, **options) for _ in range(count)]
    try:
        for node in nodes:
            await node.counts.start()
        yield nodes
    finally:
        for node in nodes:
            await node.counts.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` (each call a real Redis round trip) until it holds; AssertionError after WAIT_S."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def client(url: str) -> AsyncIterator[Any]:
    plain: Any = aioredis.Redis.from_url(url)
    try:
        yield plain
    finally:
        await plain.aclose()


@pytest.mark.gen_test
async def test_a_user_is_counted_over_every_node(redis_url: str) -> None:
    """Two sockets of one user on a and the limit 2: b refuses the third, admits it once one closes."""
    async with count_nodes(redis_url) as (a, b):
        assert [await a.admit("u"), await a.admit("u")] == [None, None]
        assert await b.admit("u") == "user"
        assert (b.sockets.by_user.get("u"), b.sockets.refused) == (None, 1)  # nothing kept of it
        assert await b.admit("v") is None  # another user is not affected
        a.release("u")
        assert await b.admit("u") is None
        assert await a.admit("u") == "user"  # a's one and b's one


@pytest.mark.gen_test
async def test_the_room_is_checked_first_then_the_address(redis_url: str) -> None:
    """The room's limit (4031) before the user's and the address's (4030), as on one node."""
    async with count_nodes(redis_url, per_user=10, per_ip=3) as (a, b):
        assert await a.admit("u1", room_max=2) is None
        assert await b.admit("u2", room_max=2) is None
        assert await b.admit("u3", room_max=2) == "room"
        assert await b.admit("u3", room=M1) is None  # a match room has no limit: the third socket of 10.0.0.1
        assert await a.admit("u4", room=M1) == "ip"


@pytest.mark.gen_test
async def test_what_is_written_is_this_nodes_exact_counts(redis_url: str) -> None:
    """The node's hash holds its counts as numbers, and loses a field once its count is 0."""
    async with count_nodes(redis_url, 1) as (a,), client(redis_url) as plain:
        await a.admit("u", room=M1)
        await a.admit("u", room=M1)
        assert {k.decode(): v.decode() for k, v in (await plain.hgetall(node_key(a.counts.node))).items()} == \
            {"alive": "1", "u:u": "2", "i:10.0.0.1": "2", f"r:{M1}": "2"}
        a.release("u", room=M1)
        a.release("u", room=M1)

        async def emptied() -> bool:
            return set(await plain.hkeys(node_key(a.counts.node))) == {b"alive"}
        await eventually(emptied, "the released counts taken out")


@pytest.mark.gen_test
async def test_a_dead_nodes_counts_stop_counting_and_expire(redis_url: str) -> None:
    """a dies holding u's two sockets: b refuses u until a's deadline passes, and a's hash expires."""
    async with count_nodes(redis_url, ttl_s=0.6) as (a, b), client(redis_url) as plain:
        await a.admit("u")
        await a.admit("u")
        assert await b.admit("u") == "user"
        await a.kill()

        async def admitted() -> bool:
            reached = await b.admit("u")
            return reached is None
        await eventually(admitted, "b admits u once a's counts are gone")

        async def expired() -> bool:
            return not await plain.exists(node_key(a.counts.node))
        await eventually(expired, "a's hash expired")
        assert await plain.zscore(NODES, b.counts.node) is not None


@pytest.mark.gen_test
async def test_a_lapsed_hash_is_written_whole_again(redis_url: str) -> None:
    """Its hash gone (Redis lost it, the node was stopped too long): the next heartbeat writes it whole."""
    async with count_nodes(redis_url, 1, ttl_s=0.6) as (a,), client(redis_url) as plain:
        await a.admit("u", room=M1)
        await plain.delete(node_key(a.counts.node))

        async def whole() -> bool:
            return bool(await plain.hget(node_key(a.counts.node), "u:u") == b"1")
        await eventually(whole, "a's hash written whole again")
        assert await plain.hget(node_key(a.counts.node), "alive") == b"1"
        assert a.counts.stats.restores >= 2  # at the start, and once lapsed


@pytest.mark.gen_test(timeout=30)
async def test_redis_away_admits_on_the_nodes_own_counts_then_writes_them(own_redis: RedisServer) -> None:
    """Redis stopped: reserve raises (the session admits on its own counts) without waiting long;
    back, the node writes every socket it holds, those admitted meanwhile included."""
    async with count_nodes(own_redis.url, 1, ttl_s=0.9) as (a,):
        assert await a.admit("u") is None
        own_redis.stop()
        assert await a.admit("u") == "unavailable"
        assert a.counts.stats.failed_open == 1
        own_redis.start()  # empty
        async with client(own_redis.url) as plain:
            async def whole() -> bool:
                try:
                    return bool(await plain.hget(node_key(a.counts.node), "u:u") == b"2")
                except (OSError, aioredis.RedisError):
                    return False
            await eventually(whole, "both sockets in a's hash once Redis is back")


@pytest.mark.gen_test
async def test_watchers_of_any_room_are_every_nodes(redis_url: str) -> None:
    """The lobby's read: every live node's sockets per room, this node's included, rooms it does not show too."""
    async with count_nodes(redis_url, 3, per_user=10) as (a, b, c):
        for node, room in ((a, T1), (b, T1), (b, T1), (c, "tournament:t2")):
            assert await node.admit(f"u{id(node)}", room=room) is None
        assert await a.counts.watchers([T1, "tournament:t2", "tournament:t3"]) == \
            {T1: 3, "tournament:t2": 1, "tournament:t3": 0}
        assert await c.counts.watchers([]) == {}


@pytest.mark.gen_test
async def test_presence_sums_the_other_nodes_part(redis_url: str) -> None:
    """A player and a spectator on a, a spectator on b: each hub's presence of the match room and
    of its tournament room counts all three and names the player; a's leave reaches b."""
    async with count_nodes(redis_url) as (a, b):
        a_player, a_spectator, b_spectator = FakeConnection("ap"), FakeConnection("as"), FakeConnection("bs")
        for node, conn, who in ((a, a_player, "alice"), (a, a_spectator, None), (b, b_spectator, None)):
            assert await node.admit(conn.name, room=M1) is None
            member = node.hub.join(M1, conn)
            node.hub.identify(M1, member, who, T1)
        b_tournament = FakeConnection("bt")
        assert await b.admit("bt", room=T1) is None
        b.hub.join(T1, b_tournament)

        async def b_sees_all() -> bool:
            return (b.hub.presence(M1) == {"room": M1, "watchers": 3, "participants": ["alice"], "spectators": 2}
                    and b.hub.presence(T1)["online"] == {"m1": ["alice"]})
        await eventually(b_sees_all, "b's presence counts a's part")
        assert b.hub.watchers(M1) == 3 and a.hub.watchers(M1) == 3
        assert b.hub.room(M1).presence_timer is not None  # a frame is due for b's members

        a_room = a.hub.room(M1)
        for member in list(a_room.members):
            a.hub.leave(M1, member)
            a.release(member.conn.name, room=M1)  # type: ignore[attr-defined]

        async def b_sees_them_go() -> bool:
            return (b.hub.presence(M1) == {"room": M1, "watchers": 1, "participants": [], "spectators": 1}
                    and b.hub.presence(T1)["online"] == {})
        await eventually(b_sees_them_go, "a's leaves reach b")
