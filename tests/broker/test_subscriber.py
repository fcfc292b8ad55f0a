"""The broker's subscriber over a real redis-server: delivery in order, gap fill, duplicate drop,
renumbering, a Redis restart, and recovery from the stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from realtime.broker import BrokerUnavailableError
from realtime.brokerscripts import channel_of, event_frame, meta_key, stream_key
from tests.broker.conftest import FakeLog, Node, match_event, tournament_event
from tests.redisserver import RedisServer

M1, T1 = "match:m1", "tournament:t1"


@contextlib.asynccontextmanager
async def nodes(url: str, count: int = 2, **options: Any) -> AsyncIterator[tuple[FakeLog, list[Node]]]:
    """`count` started nodes on one Redis over one (fake) store."""
    log = FakeLog()
    started = [Node(url, log, **options) for _ in range(count)]
    try:
        for node in started:
            await node.broker.start()
        yield log, started
    finally:
        for node in started:
            await node.close()


def commit(node: Node, event: Any) -> None:
    """What the writer does: the event is stored, then published through the node's hub."""
    if event.stream.startswith("match:"):
        node.log.commit(event)
    node.hub.publish(event)


@pytest.mark.gen_test(timeout=30)
async def test_every_node_delivers_every_event_once_in_the_brokers_order(redis_url: str) -> None:
    """Events published on either node reach the members of both, in order, the publisher's
    own members through Redis too; the tournament room's seqs are the same everywhere."""
    async with nodes(redis_url) as (_, (a, b)):
        a_match, b_match = await a.member(M1, "a"), await b.member(M1, "b")
        a_tour, b_tour = await a.member(T1, "at"), await b.member(T1, "bt")
        commit(a, match_event(1))
        assert a_match.frames == []  # not fanned out locally: it comes back from the broker
        commit(b, match_event(2))
        commit(a, tournament_event(n=1))
        commit(b, match_event(3))
        assert await a_match.received(3) == await b_match.received(3) == [1, 2, 3]
        assert await a_tour.received(4) == await b_tour.received(4) == [1, 2, 3, 4]
        assert a_tour.texts == b_tour.texts and a_match.texts == b_match.texts
        frames = a_tour.json()  # one order for all (which node won a race is Redis's to say)
        assert sorted(f["type"] for f in frames) == ["participant_added"] + ["score_updated"] * 3
        assert [f["match_seq"] for f in frames if "match_seq" in f] == [1, 2, 3]


@pytest.mark.gen_test(timeout=30)
async def test_a_gap_is_filled_from_the_stream_and_a_duplicate_is_dropped(redis_url: str) -> None:
    """A frame the channel never carried (written to the stream only) is read from the stream
    before the next one; a frame the channel carries twice is delivered once."""
    async with nodes(redis_url, 1) as (log, (a,)):
        conn = await a.member(M1)
        commit(a, match_event(1))
        assert await conn.received(1) == [1]
        client = aioredis.Redis.from_url(redis_url)
        try:
            missing = log.commit(match_event(2))  # in the stream, never PUBLISHed
            await client.xadd(stream_key(M1), {"f": event_frame(missing)}, id="2-0")
            commit(a, match_event(3))
            assert await conn.received(3) == [1, 2, 3]
            await client.publish(channel_of(M1), b"3 " + conn.frames[2].text.encode())  # again
            commit(a, match_event(4))
            assert await conn.received(4) == [1, 2, 3, 4]
        finally:
            await client.aclose()
        stats = a.broker.stats  # 2 and 3 came from the stream; 3 on the channel, twice, was dropped
        assert (stats.filled_from_stream, stats.duplicates_dropped) == (2, 2)
        assert len(conn.frames) == 4


@pytest.mark.gen_test(timeout=30)
async def test_a_match_room_whose_stream_was_trimmed_fills_from_the_log(redis_url: str) -> None:
    """The stream no longer holds the missing frames: a match room reads them from the MongoDB log."""
    async with nodes(redis_url, 1) as (log, (a,)):
        conn = await a.member(M1)
        commit(a, match_event(1))
        assert await conn.received(1) == [1]
        client = aioredis.Redis.from_url(redis_url)
        try:
            for seq in (2, 3):  # committed, in the stream, never published ...
                await client.xadd(stream_key(M1), {"f": event_frame(log.commit(match_event(seq)))}, id=f"{seq}-0")
            await client.xtrim(stream_key(M1), maxlen=1, approximate=False)  # ... and 2 trimmed away
            commit(a, match_event(4))
            assert await conn.received(4) == [1, 2, 3, 4]
        finally:
            await client.aclose()
        assert a.broker.stats.filled_from_log >= 1 and len(conn.frames) == 4


@pytest.mark.gen_test(timeout=30)
async def test_a_tournament_room_that_cannot_be_caught_up_is_renumbered(redis_url: str) -> None:
    """A tournament room's missing frames are gone from the stream: no partial catch-up, its
    members take a fresh snapshot (their frames held until then)."""
    async with nodes(redis_url, 1) as (_, (a,)):
        conn = await a.member(T1)
        commit(a, tournament_event(n=1))
        assert await conn.received(1) == [1]
        client = aioredis.Redis.from_url(redis_url)
        try:
            for seq in (2, 3):  # numbered and kept, never published; then 2 trimmed away
                await client.hincrby(meta_key(T1), "seq", 1)
                await client.xadd(stream_key(T1), {"f": conn.frames[0].text}, id=f"{seq}-0")
            await client.xtrim(stream_key(T1), maxlen=1, approximate=False)
            commit(a, tournament_event(n=4))
            await asyncio.wait_for(a.resynced.wait(), 5)
        finally:
            await client.aclose()
        assert a.resyncs == ["conn"] and a.broker.stats.renumbered == 1
        assert conn.seqs == [1]  # neither 3 nor 4 before the fresh snapshot
        assert a.hub.room(T1).seq == 4


@pytest.mark.gen_test(timeout=30)
async def test_recovery_reads_the_stream_when_the_node_never_carried_the_room(redis_url: str) -> None:
    """A socket recovering on a node that has just joined the room gets its frames from Redis."""
    async with nodes(redis_url) as (_, (a, b)):
        watcher = await a.member(T1)
        for n in range(1, 6):
            commit(a, tournament_event(n=n))
        assert await watcher.received(5) == [1, 2, 3, 4, 5]
        member = b.hub.join(T1, Watched_(), resync=None)
        await b.hub.ready(T1)
        room = b.hub.room(T1)
        assert (room.seq, room.epoch) == (5, a.hub.room(T1).epoch)  # the broker's numbering
        replay = await b.hub.missed(T1, room.seq, 2, None)
        assert replay is not None and [f.text for f in replay] == watcher.texts[2:]
        b.hub.resume(member, replay, 2, room.seq)


def Watched_() -> Any:
    from tests.broker.conftest import Watched
    return Watched()


@pytest.mark.gen_test(timeout=30)
async def test_a_socket_waits_for_redis_then_is_refused(own_redis: RedisServer) -> None:
    """A room this node does not carry cannot be joined while Redis is away (1011 store_unavailable)."""
    async with nodes(own_redis.url, 1, attach_timeout_s=0.3) as (_, (a,)):
        own_redis.stop()
        a.hub.join(M1, Watched_())
        with pytest.raises(BrokerUnavailableError):
            await a.hub.ready(M1)


@pytest.mark.gen_test(timeout=30)
async def test_a_redis_restart_loses_no_event_and_renumbers_tournament_rooms(own_redis: RedisServer) -> None:
    """Events committed while Redis is away are published once it is back; match rooms go on
    gap-free; a tournament room, whose numbering Redis lost, gives its members a fresh snapshot."""
    async with nodes(own_redis.url) as (_, (a, b)):
        a_match, b_match = await a.member(M1, "a"), await b.member(M1, "b")
        b_tour = await b.member(T1, "bt")
        commit(a, match_event(1))
        assert await b_match.received(1) == [1]
        assert await b_tour.received(1) == [1]
        epoch = b.hub.room(T1).epoch
        own_redis.stop()
        for seq in (2, 3):
            commit(a, match_event(seq))  # queued on a
        own_redis.start()  # empty, same port: both nodes reconnect and catch up
        commit(b, match_event(4))  # may reach Redis before a's 2 and 3
        assert await a_match.received(4) == await b_match.received(4) == [1, 2, 3, 4]
        await asyncio.wait_for(b.resynced.wait(), 10)
        assert b.resyncs == ["bt"] and b.hub.room(T1).epoch != epoch
        assert a.broker.stats.reconnects == b.broker.stats.reconnects == 1
        assert len(a_match.frames) == len(b_match.frames) == 4


@pytest.mark.gen_test(timeout=30)
async def test_past_the_queue_bound_matches_come_from_their_log_and_tournament_rooms_renumber(
        own_redis: RedisServer) -> None:
    """While Redis is away the queue is bounded: a match's later events are published from its
    log, a tournament room's own events that did not fit give it a new epoch (fresh snapshots)."""
    async with nodes(own_redis.url, queue_max=2) as (_, (a, b)):
        b_match = await b.member(M1, "b")
        await b.member(T1, "bt")  # resynced below
        own_redis.stop()
        for seq in range(1, 6):
            commit(a, match_event(seq, tournament_id=None))
        commit(a, tournament_event(n=1))  # over the bound
        own_redis.start()
        assert await b_match.received(5) == [1, 2, 3, 4, 5]
        await asyncio.wait_for(b.resynced.wait(), 10)
        assert a.broker.stats.republished >= 3 and "bt" in b.resyncs
