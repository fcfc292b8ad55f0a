"""The publish and read scripts against a real redis-server: what they write, what they refuse."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import redis.asyncio as aioredis

from realtime.brokerlink import BrokerLink
from realtime.brokerpublisher import BrokerPublisher
from realtime.brokerscripts import Job, channel_of, meta_key, stream_key
from realtime.hub import Hub
from tests.broker.conftest import FakeLog, match_event, tournament_event
from tests.realtime.fakes import FakeConnection, FakeScheduler
from tournament.models import Event
from tournament.store import Store

M1, T1 = "match:m1", "tournament:t1"


async def publish(publisher: BrokerPublisher, event: Event, number: int = 1) -> list[int]:
    """One run of the publish script for `event`, as the broker's sender makes it."""
    job = Job.of(event, number)
    assert job is not None
    result, = await publisher._run_scripts([job])
    return [int(x) for x in result]


@contextlib.asynccontextmanager
async def scripted(url: str) -> AsyncIterator[tuple[BrokerLink, BrokerPublisher, Any]]:
    """A broker's link and publisher, not started (no subscription, no sender): its scripts, and
    a plain client beside them."""
    link = BrokerLink(url, cast(Store, FakeLog()), ttl_s=3600)
    link.run_id = "run-1"
    publisher = BrokerPublisher(link, history_frames=10)
    client: Any = aioredis.Redis.from_url(url)  # its replies are bytes: the commands' unions say more
    try:
        yield link, publisher, client
    finally:
        await client.aclose()
        await link.close()


async def entries(client: Any, key: str) -> list[tuple[str, dict[str, Any]]]:
    return [(i.decode(), json.loads(f[b"f"])) for i, f in await client.xrange(stream_key(key))]


@pytest.mark.gen_test
async def test_a_match_event_is_appended_with_its_seq_as_id_and_copied_to_its_tournament(redis_url: str) -> None:
    """A match event: entry `<seq>-0` in its room's stream; its tournament copy takes seq 1 with match_seq."""
    async with scripted(redis_url) as (link, publisher, client):
        assert await publish(publisher, match_event(1)) == [1, 1]
        assert await publish(publisher, match_event(2)) == [1, 2]
        assert [(i, f["seq"]) for i, f in await entries(client, M1)] == [("1-0", 1), ("2-0", 2)]
        assert [(i, f["seq"], f["match_seq"]) for i, f in await entries(client, T1)] == [("1-0", 1, 1), ("2-0", 2, 2)]
        assert int(await client.hget(meta_key(T1), "seq")) == 2


@pytest.mark.gen_test
async def test_a_duplicate_seq_is_refused_and_changes_nothing(redis_url: str) -> None:
    """A seq at or below the stream's top (a retry) is refused: no entry, no tournament seq, no message."""
    async with scripted(redis_url) as (link, publisher, client):
        for seq in (1, 2, 3):
            await publish(publisher, match_event(seq))
        pubsub = client.pubsub()
        await pubsub.subscribe(channel_of(M1), channel_of(T1))
        assert await publish(publisher, match_event(3)) == [0, 3]
        assert await publish(publisher, match_event(1)) == [0, 3]
        assert [i for i, _ in await entries(client, M1)] == ["1-0", "2-0", "3-0"]
        assert int(await client.hget(meta_key(T1), "seq")) == 3
        await publish(publisher, match_event(4))  # the next one goes through, and is the only message
        messages: list[bytes] = []

        async def two() -> None:
            while len(messages) < 2:
                message = await pubsub.get_message(timeout=5.0)  # None for the subscribe confirmations
                if message is not None and message["type"] == "message":
                    messages.append(message["data"].split(b" ")[0])

        await asyncio.wait_for(two(), 5.0)
        assert messages == [b"4", b"4"]  # the match room's and the tournament room's (its seq 4)
        await pubsub.aclose()


@pytest.mark.gen_test
async def test_a_gap_is_refused_so_the_missing_events_go_first(redis_url: str) -> None:
    """A seq past the top + 1 is refused with the top: the publisher fills from the log first."""
    async with scripted(redis_url) as (link, publisher, client):
        await publish(publisher, match_event(1))
        assert await publish(publisher, match_event(3)) == [-1, 1]
        assert [i for i, _ in await entries(client, M1)] == ["1-0"]
        assert int(await client.hget(meta_key(T1), "seq")) == 1  # no tournament copy either


@pytest.mark.gen_test
async def test_a_stream_that_is_gone_takes_any_seq(redis_url: str) -> None:
    """No stream (expired, or an empty Redis): the first event starts it, whatever its seq."""
    async with scripted(redis_url) as (link, publisher, client):
        assert await publish(publisher, match_event(7)) == [1, 1]
        assert [i for i, _ in await entries(client, M1)] == ["7-0"]


@pytest.mark.gen_test
async def test_a_tournament_rooms_own_events_are_numbered_in_order_and_a_retry_is_refused(redis_url: str) -> None:
    """participant_added etc. take the room's next seq in the script; the same node's number again is refused."""
    async with scripted(redis_url) as (link, publisher, client):
        assert await publish(publisher, tournament_event(n=1), number=1) == [1, 1]
        assert await publish(publisher, match_event(1), number=2) == [1, 2]
        assert await publish(publisher, tournament_event(n=2), number=3) == [1, 3]
        assert await publish(publisher, tournament_event(n=2), number=3) == [0, 0]  # the reply was lost: a retry
        stored = await entries(client, T1)
        assert [(f["seq"], f["type"], f.get("match_seq")) for _, f in stored] == [
            (1, "participant_added", None), (2, "score_updated", 1), (3, "participant_added", None)]


@pytest.mark.gen_test
async def test_streams_are_trimmed_to_about_the_history_and_expire(redis_url: str) -> None:
    """MAXLEN ~ history_frames (whole nodes of 100 go), and both keys expire after ttl_s."""
    async with scripted(redis_url) as (link, publisher, client):
        for seq in range(1, 401):
            await publish(publisher, match_event(seq))
        length = await client.xlen(stream_key(M1))
        assert 10 <= length <= 10 + 100, length
        assert (await client.xrevrange(stream_key(M1), count=1))[0][0] == b"400-0"
        for key in (stream_key(M1), stream_key(T1), meta_key(T1)):
            assert 3500 < await client.ttl(key) <= 3600, key


@pytest.mark.gen_test
async def test_a_tournament_rooms_epoch_is_set_once_and_made_again_after_a_redis_restart(redis_url: str) -> None:
    """The first read or publish sets the epoch; every later one reads it; another run id starts a new numbering."""
    async with scripted(redis_url) as (link, publisher, client):
        epoch, top, frames = await link.read(T1, 0, 0, 0)
        assert (top, frames) == (0, [])
        await publish(publisher, tournament_event(n=1), number=1)
        assert (await link.read(T1, 0, 0, 0))[:2] == (epoch, 1)
        other = BrokerLink(redis_url, cast(Store, FakeLog()))
        other.run_id = "run-1"
        assert (await other.read(T1, 0, 0, 0))[:2] == (epoch, 1)  # another node reads the same
        await other.close()
        link.run_id = "run-2"  # Redis restarted (or came back from an old snapshot)
        renewed, top, _ = await link.read(T1, 0, 0, 0)
        assert renewed != epoch and top == 0
        assert await publish(publisher, tournament_event(n=2), number=2) == [1, 1]


@pytest.mark.gen_test
async def test_the_frames_are_the_bytes_the_hub_sends_without_a_broker(redis_url: str) -> None:
    """What a node delivers from Redis is exactly what the in-process hub would send."""
    async with scripted(redis_url) as (link, publisher, client):
        hub = Hub(FakeScheduler())
        match_conn, tournament_conn = FakeConnection(), FakeConnection()
        for key, conn in ((M1, match_conn), (T1, tournament_conn)):
            hub.resume(hub.join(key, conn), None, None, 0)
        events = [tournament_event(n=1), match_event(1), match_event(2, kind="match_completed")]
        for number, event in enumerate(events, start=1):
            hub.publish(event)
            await publish(publisher, event, number)
        assert [f.text for f in (await link.read(M1, 1, 0, 10))[2]] == match_conn.texts
        assert [f.text for f in (await link.read(T1, 1, 0, 10))[2]] == tournament_conn.texts
