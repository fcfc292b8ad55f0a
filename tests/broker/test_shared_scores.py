"""SharedScoreBatcher: two nodes (each its MatchService, mailbox, lease and queue) over one
MemoryStore and a real redis-server, each on its own fake clock. The match's lease holder
batches every node's updates in the order Redis took them; a move on the other node has the
holder write first; a holder that dies loses nothing its node acked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from realtime.leases import RedisLease, lease_key
from realtime.mailbox import NodeMailbox
from realtime.scorequeue import RedisScoreQueue, queue_key
from storage.memory import MemoryStore
from tests.broker.expiry import expired
from tests.realtime.fakes import FakeClock, FakeScheduler
from tests.redisserver import RedisServer
from tests.tournament.test_scores import ALICE, BOB, ORGANIZER, T0, WINDOW_S, NoBracket, Recorder
from tournament import events as ev
from tournament.matches import MatchService
from tournament.models import Match, MatchState, Tournament
from tournament.scores import Batcher, Write
from tournament.sharedscores import SharedScoreBatcher, score_lease
from tournament.writer import MatchWriter

WAIT_S = 10.0


class ScoreNode:
    """One node as far as live scores go."""

    def __init__(self, url: str, name: str, store: MemoryStore, publisher: Recorder, ttl_s: float = 3.0) -> None:
        self.mailbox = NodeMailbox(url, node=name)
        self.lease = RedisLease(self.mailbox, ttl_s)
        self.queue = RedisScoreQueue(self.mailbox, self.lease)
        self.clock = FakeClock(T0)
        self.scheduler = FakeScheduler(self.clock)

        def batcher(write: Write) -> Batcher:
            return SharedScoreBatcher(write, store.get_match, self.scheduler, self.lease, self.queue, WINDOW_S)
        self.matches = MatchService(store, MatchWriter(store, publisher, self.clock), NoBracket(), self.scheduler,
                                    self.clock, WINDOW_S, batcher=batcher)
        assert isinstance(self.matches.scores, SharedScoreBatcher)
        self.batcher = self.matches.scores

    async def update(self, user: object, scores: dict[str, int]) -> asyncio.Future[Match]:
        """An update accepted (acked) by this node: in the shared queue when this returns."""
        return await self.matches.update_score("m1", user, scores)  # type: ignore[arg-type]


World = tuple["ScoreNode", "ScoreNode", Recorder, MemoryStore]


@contextlib.asynccontextmanager
async def two_nodes(redis_url: str) -> AsyncIterator[World]:
    """Nodes a (its lease lasts 0.3 s) and b, a live match m1 started on a."""
    store = MemoryStore()
    await store.insert_tournament(Tournament(id="t1", name="Cup", game="CS2", format="single_elimination",
                                             state="draft", created_by="org", created_at=T0))
    await store.insert_match(Match(id="m1", tournament_id="t1", participant_ids=("alice", "bob"),
                                   state=MatchState.SCHEDULED, created_at=T0, updated_at=T0))
    publisher = Recorder()
    a, b = (ScoreNode(redis_url, name, store, publisher, ttl_s=0.3 if name == "a" else 3.0) for name in "ab")
    for node in (a, b):
        await node.mailbox.start()
    await a.matches.start("m1", ORGANIZER)
    try:
        yield a, b, publisher, store
    finally:
        for node in (a, b):
            await node.mailbox.close()


def scores_of(publisher: Recorder) -> list[dict[str, int]]:
    return [e.data["scores"] for e in publisher.of("m1", ev.SCORE_UPDATED)]


@pytest.mark.gen_test
async def test_two_nodes_updates_become_one_batch_at_the_holder(redis_url: str) -> None:
    """The first update's node takes the lease; the other node's updates go to its queue; one
    window makes one score_updated, latest wins in the order Redis took them; every waiter on
    either node gets the match written; the idle holder releases the lease."""
    async with two_nodes(redis_url) as (a, b, publisher, store):
        waiters = [await a.update(ALICE, {"alice": 1}), await b.update(BOB, {"alice": 2, "bob": 1}),
                   await a.update(ALICE, {"bob": 4}), await b.update(BOB, {"alice": 7})]
        assert await a.lease.holder(score_lease("m1")) == "a"
        assert scores_of(publisher) == []
        await a.scheduler.advance_async(WINDOW_S)
        assert scores_of(publisher) == [{"alice": 7, "bob": 4}]
        written = await asyncio.wait_for(asyncio.gather(*waiters), WAIT_S)
        assert {(m.version, m.seq) for m in written} == {(3, 2)}
        assert (a.batcher.stats.flushes, a.batcher.stats.coalesced, b.batcher.stats.flushes) == (1, 3, 0)
        assert await a.lease.holder(score_lease("m1")) is None  # idle: released
        assert await a.mailbox.redis.xlen(queue_key("m1")) == 0
        assert (await store.get_match("m1")).scores == {"alice": 7, "bob": 4}


@pytest.mark.gen_test
async def test_a_move_on_another_node_has_the_holder_write_first(redis_url: str) -> None:
    """A result reported on the node that does not hold the lease: the holder writes the
    waiting batch when asked, before the result, so the final score comes first."""
    async with two_nodes(redis_url) as (a, b, publisher, _):
        await a.update(ALICE, {"alice": 5})
        await b.update(BOB, {"bob": 3})
        done = await b.matches.report_result("m1", ORGANIZER, {"alice": 5, "bob": 3})
        assert done.state is MatchState.COMPLETED
        assert [e.type for e in publisher.of("m1")][-2:] == [ev.SCORE_UPDATED, ev.MATCH_COMPLETED]
        assert scores_of(publisher) == [{"alice": 5, "bob": 3}]
        assert a.batcher.stats.flushes == 1 and b.batcher.stats.flushes == 0


@pytest.mark.gen_test
async def test_a_dead_holder_loses_no_acked_update(redis_url: str) -> None:
    """The holder dies (no flush, no renewal, its channel silent) with acked updates of both
    nodes in its window: once its lease expires, the other node takes it and writes them all,
    latest wins; later updates go on through that node."""
    async with two_nodes(redis_url) as (a, b, publisher, _), expiry(redis_url) as gone:
        await a.update(ALICE, {"alice": 1})
        waiter = await b.update(BOB, {"bob": 2})
        await a.update(ALICE, {"alice": 3})
        await a.mailbox.close()  # a is gone: its timers never run again, it renews nothing
        await asyncio.wait_for(gone, WAIT_S)
        await b.scheduler.advance_async(3.0)  # b's check on the holder of its update
        assert (await asyncio.wait_for(waiter, WAIT_S)).scores == {"alice": 3, "bob": 2}
        assert scores_of(publisher) == [{"alice": 3, "bob": 2}]
        later = await b.update(BOB, {"bob": 9})
        await b.scheduler.advance_async(WINDOW_S)
        assert (await asyncio.wait_for(later, WAIT_S)).scores == {"alice": 3, "bob": 9}
        assert scores_of(publisher) == [{"alice": 3, "bob": 2}, {"alice": 3, "bob": 9}]


@pytest.mark.gen_test
async def test_a_dead_holder_with_no_later_update_is_written_by_the_next_move(redis_url: str) -> None:
    """Only the dead holder's own acked updates wait: the next move on the other node waits
    for the lease to expire, writes them, then the move (final score first)."""
    async with two_nodes(redis_url) as (a, b, publisher, _), expiry(redis_url) as gone:
        await a.update(ALICE, {"alice": 4})
        await a.mailbox.close()
        await asyncio.wait_for(gone, WAIT_S)
        await b.matches.report_result("m1", ORGANIZER, {"alice": 4, "bob": 1})
        assert [e.type for e in publisher.of("m1")][-2:] == [ev.SCORE_UPDATED, ev.MATCH_COMPLETED]
        assert scores_of(publisher) == [{"alice": 4, "bob": 0}]


def expiry(redis_url: str) -> contextlib.AbstractAsyncContextManager[asyncio.Future[None]]:
    """Done when m1's score lease expires."""
    return expired(redis_url, lease_key(score_lease("m1")))


@pytest.mark.gen_test
async def test_without_redis_a_node_batches_what_it_accepts(own_redis: RedisServer) -> None:
    """Redis stops: an update is still accepted, batched on its node (latest wins there) and
    written at its window, and a move on that node writes it first."""
    async with two_nodes(own_redis.url) as (a, _, publisher, _):
        own_redis.stop()
        first = await a.update(ALICE, {"alice": 1})
        await a.update(ALICE, {"alice": 2})
        await a.scheduler.advance_async(WINDOW_S)
        assert (await asyncio.wait_for(first, WAIT_S)).scores == {"alice": 2, "bob": 0}
        await a.update(BOB, {"bob": 6})
        await a.matches.report_result("m1", ORGANIZER, {"alice": 2, "bob": 6})
        assert scores_of(publisher) == [{"alice": 2, "bob": 0}, {"alice": 2, "bob": 6}]
        assert [e.type for e in publisher.of("m1")][-1] == ev.MATCH_COMPLETED
