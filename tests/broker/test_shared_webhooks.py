"""SharedWebhookOutbox: two nodes (each its outbox, mailbox, lease and queue) over one MemoryStore
and a real redis-server, on the test's IOLoop. Events published on both reach the webhook once
each, numbered 1..N with no gap, every match's in its seq order; a seq no node appended comes from
the match's log; a holder that stops without a word is taken over once its lease expired; a
replay and a test delivery asked on the other node are done by the holder."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tornado.ioloop import IOLoop

from realtime.leases import RedisLease, lease_key
from realtime.mailbox import NodeMailbox
from realtime.webhookqueue import RedisWebhookQueue, in_key
from storage.memory import MemoryStore
from tests.broker.expiry import expired
from tests.redisserver import RedisServer
from tests.tournament.test_webhooks import ORG, Receiver
from tournament import events as ev
from tournament.models import DeliveryStatus, Event, Tournament, TournamentState, match_stream, tournament_stream
from tournament.sharedoutbox import SharedWebhookOutbox
from tournament.webhookqueue import webhook_lease
from tournament.webhooks import WebhookService


class LoggedStore(MemoryStore):
    """A MemoryStore whose matches' logs are the events the test committed (`commit`)."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[str, list[Event]] = {}

    def commit(self, event: Event) -> Event:
        self.logs.setdefault(event.stream, []).append(event)
        return event

    async def list_events(self, stream: str, since: int = 0, limit: int = 1000,
                          until: int | None = None) -> list[Event]:
        top = until if until is not None else 2**53
        return [e for e in self.logs.get(stream, []) if since < e.seq <= top][:limit]


class WebhookNode:
    """One node as far as webhooks go."""

    def __init__(self, url: str, name: str, store: MemoryStore, receiver: Receiver, ttl_s: float) -> None:
        self.mailbox = NodeMailbox(url, node=name)
        self.lease = RedisLease(self.mailbox, ttl_s)
        self.queue = RedisWebhookQueue(self.mailbox, self.lease)
        self.receiver = receiver
        self.stuck = False  # True: a POST from this node never gets an answer
        self.posting = asyncio.Event()
        self.outbox = SharedWebhookOutbox(store, self.post, IOLoop.current(), self.lease, self.queue,
                                          retry_base_s=0.01, max_attempts=3)

        async def elsewhere(host: str, port: int) -> bool:
            return False
        self.service = WebhookService(store, self.outbox, elsewhere)

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        self.posting.set()
        if self.stuck:
            await asyncio.get_running_loop().create_future()  # never answered
        return await self.receiver(url, body, headers, timeout_s)

    def die(self) -> None:
        """Stop dead, as kill -9 does: nothing more runs and nothing is released."""
        outbox = self.outbox
        for tid, held in list(outbox._held.items()):
            outbox._cancel(held.renewal)
            if held.pump is not None:
                held.pump.cancel()
            for hook in outbox._of_tournament(tid):
                if hook.sender is not None:
                    hook.sender.cancel()
        outbox._held.clear()
        outbox._cancel(outbox._sweeper)
        outbox._closed = True

    async def start(self) -> WebhookNode:
        await self.mailbox.start()
        self.outbox.start()
        self.outbox._begin()  # what start()'s call_later(0) runs, now: the webhooks announced first
        await self.outbox.loaded()
        return self

    def match_event(self, store: LoggedStore, seq: int, match_id: str = "m1", kind: str = ev.SCORE_UPDATED,
                    published: bool = True) -> None:
        event = store.commit(Event(stream=match_stream(match_id), seq=seq, type=kind,
                                   data={"tournament_id": "t1", "match_id": match_id, "n": seq}, ts=time.time()))
        if published:
            self.outbox.publish(event)

    def tournament_event(self, n: int) -> None:
        self.outbox.publish(Event(stream=tournament_stream("t1"), seq=0, type=ev.PARTICIPANT_ADDED,
                                  data={"tournament_id": "t1", "n": n}, ts=time.time()))

    async def close(self) -> None:
        await self.outbox.close()
        await self.mailbox.close()


World = tuple[WebhookNode, WebhookNode, LoggedStore, Receiver]


@contextlib.asynccontextmanager
async def two_nodes(redis_url: str, ttl_s: float = 3.0) -> AsyncIterator[World]:
    store = LoggedStore()
    await store.insert_tournament(Tournament(id="t1", name="t1", game="", format="single_elimination",
                                             state=TournamentState.LIVE, created_by="org", created_at=1.0))
    receiver = Receiver()
    a = await WebhookNode(redis_url, "a", store, receiver, ttl_s).start()
    b = await WebhookNode(redis_url, "b", store, receiver, ttl_s).start()
    try:
        yield a, b, store, receiver
    finally:
        await a.close()
        await b.close()


def by_stream(delivered: list[dict[str, Any]]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for body in delivered:
        found.setdefault(body["stream"], []).append(body["stream_seq"] if body["stream_seq"] is not None
                                                    else body["data"]["n"])
    return found


@pytest.mark.gen_test(timeout=30)
async def test_events_of_both_nodes_are_numbered_once_in_each_matchs_order(redis_url: str) -> None:
    """Match events published on both nodes out of their seq order (b's 2 before a's 1), and
    tournament events of both: every one delivered once, seqs 1..N, each match in seq order."""
    async with two_nodes(redis_url) as (a, b, store, receiver):
        await a.service.create("t1", ORG, "https://hooks.example.com/a")
        total = 0
        for pair in range(1, 41, 2):  # seqs (1, 2), (3, 4) ...: the second published first, on b
            b.match_event(store, pair + 1, match_id="m1")
            a.match_event(store, pair, match_id="m1")
            a.match_event(store, (pair + 1) // 2, match_id="m2")
            b.tournament_event(pair)
            total += 4
        await receiver.until(lambda: len(receiver.delivered) >= total)
        await a.outbox.flush()
        await b.outbox.flush()
        streams = by_stream(receiver.delivered)
        print(streams, receiver.seqs())
        assert receiver.seqs() == list(range(1, total + 1))
        assert streams[match_stream("m1")] == list(range(1, 41))
        assert streams[match_stream("m2")] == list(range(1, 21))
        assert streams[tournament_stream("t1")] == list(range(1, 41, 2))


@pytest.mark.gen_test(timeout=30)
async def test_a_seq_no_node_appended_is_read_from_the_log(redis_url: str) -> None:
    """Seq 2 was committed by a node that died before it appended it: the holder reads it from
    the match's log when seq 3 shows the gap; a chat in between moves the match on unsent."""
    async with two_nodes(redis_url) as (a, b, store, receiver):
        await b.service.create("t1", ORG, "https://hooks.example.com/a")
        a.match_event(store, 1)
        b.match_event(store, 2, published=False)
        a.match_event(store, 3, kind=ev.CHAT_MESSAGE)
        b.match_event(store, 4)
        await receiver.until(lambda: len(receiver.delivered) >= 3)
        assert [(p["seq"], p["stream_seq"]) for p in receiver.delivered] == [(1, 1), (2, 2), (3, 4)]


@pytest.mark.gen_test(timeout=30)
async def test_a_match_new_to_the_queue_gets_what_came_after_the_webhook(redis_url: str) -> None:
    """m_old's first three events came before the webhook: they are not sent. m_new's seq 1,
    committed on a, is appended after b's seq 2 was numbered: it is read from the log before 2,
    and a's late append of it is a duplicate."""
    async with two_nodes(redis_url) as (a, b, store, receiver):
        for seq in range(1, 4):
            a.match_event(store, seq, match_id="m_old", published=False)
        await a.service.create("t1", ORG, "https://hooks.example.com/a")
        a.match_event(store, 4, match_id="m_old")
        await receiver.until(lambda: len(receiver.delivered) >= 1)
        late = store.commit(Event(stream=match_stream("m_new"), seq=1, type=ev.SCORE_UPDATED,
                                  data={"tournament_id": "t1", "match_id": "m_new", "n": 1}, ts=time.time()))
        b.match_event(store, 2, match_id="m_new")
        await receiver.until(lambda: len(receiver.delivered) >= 3)
        a.outbox.publish(late)
        a.match_event(store, 3, match_id="m_new")
        await receiver.until(lambda: len(receiver.delivered) >= 4)
        await a.outbox.flush()
        assert [(p["seq"], p["stream"], p["stream_seq"]) for p in receiver.delivered] == [
            (1, "match:m_old", 4), (2, "match:m_new", 1), (3, "match:m_new", 2), (4, "match:m_new", 3)]


@pytest.mark.gen_test(timeout=30)
async def test_a_holder_gone_silent_is_taken_over_with_nothing_lost(redis_url: str) -> None:
    """a holds the lease and dies while it POSTs seq 2 (nothing released): b's events wait in the
    queue, and b's sweep takes the tournament once the lease expired; seq 2 is sent again (the same
    seq) and every later event follows, numbered on."""
    async with two_nodes(redis_url, ttl_s=0.5) as (a, b, store, receiver):
        await a.service.create("t1", ORG, "https://hooks.example.com/a")
        a.match_event(store, 1)
        await receiver.until(lambda: len(receiver.delivered) == 1)
        a.stuck, a.posting = True, asyncio.Event()
        a.match_event(store, 2)
        await asyncio.wait_for(a.posting.wait(), 10)
        assert await a.lease.holder(webhook_lease("t1")) == "a"
        a.die()
        async with expired(redis_url, lease_key(webhook_lease("t1"))) as gone:
            for seq in range(3, 12):
                b.match_event(store, seq)
            await b.outbox.flush()
            assert await b.mailbox.redis.xlen(in_key("t1")) == 9  # waiting for a holder
            await asyncio.wait_for(gone, 10)
        await receiver.until(lambda: len(receiver.delivered) >= 11)
        assert receiver.seqs() == list(range(1, 12))
        assert [p["stream_seq"] for p in receiver.delivered] == list(range(1, 12))


@pytest.mark.gen_test(timeout=30)
async def test_a_holder_that_stops_hands_over_what_it_had_not_sent(redis_url: str) -> None:
    """a holds the lease with a delivery under way and stops (SIGTERM's close): its lease is
    given up at once and b's sweep sends what a had not, the seq cut off included."""
    async with two_nodes(redis_url) as (a, b, store, receiver):
        await a.service.create("t1", ORG, "https://hooks.example.com/a")
        a.stuck = True
        a.match_event(store, 1)
        await asyncio.wait_for(a.posting.wait(), 10)
        b.match_event(store, 2)
        await b.outbox.flush()
        await a.outbox.close()
        assert await b.lease.holder(webhook_lease("t1")) in (None, "b")
        await receiver.until(lambda: len(receiver.delivered) >= 2)
        assert receiver.seqs() == [1, 2]
        assert [p["stream_seq"] for p in receiver.delivered] == [1, 2]


@pytest.mark.gen_test(timeout=30)
async def test_replay_and_ping_asked_on_the_other_node_are_done_by_the_holder(redis_url: str) -> None:
    """A failing receiver pauses the webhook at the holder (a); b's replay resumes it there, in
    order, and b's test delivery takes the next seq."""
    async with two_nodes(redis_url) as (a, b, store, receiver):
        webhook = await a.service.create("t1", ORG, "https://hooks.example.com/a")
        receiver.script = [500, 500, 500]
        a.match_event(store, 1)
        a.match_event(store, 2)
        await receiver.until(lambda: len(receiver.requests) >= 3)
        await a.outbox.flush()
        assert await a.lease.holder(webhook_lease("t1")) == "a"
        assert await b.service.replay("t1", webhook.id, ORG, 1) == 2
        await receiver.until(lambda: receiver.seqs() == [1, 2])
        assert await b.service.ping("t1", webhook.id, ORG) == 3
        await receiver.until(lambda: receiver.seqs() == [1, 2, 3])
        assert receiver.delivered[-1]["type"] == "webhook_ping"
        rows = await store.list_deliveries(webhook.id)
        assert [(r.seq, r.status) for r in rows] == [(s, DeliveryStatus.DELIVERED) for s in (1, 2, 3)]


@pytest.mark.gen_test(timeout=60)
async def test_a_redis_restart_loses_nothing_numbered_and_numbering_goes_on(own_redis: RedisServer) -> None:
    """Redis restarts empty (leases, queues, cursors and the tournaments' list gone) between two
    bursts: the events after it are appended (every tournament's, until a node announced its
    webhooks again), a node takes the lease afresh and numbers on from the store's last seq."""
    async with two_nodes(own_redis.url) as (a, b, store, receiver):
        await a.service.create("t1", ORG, "https://hooks.example.com/a")
        for seq in range(1, 6):
            (a if seq % 2 else b).match_event(store, seq)
        await receiver.until(lambda: len(receiver.delivered) >= 5)
        await a.outbox.flush()
        await b.outbox.flush()
        await asyncio.to_thread(own_redis.restart)
        for seq in range(6, 11):
            (a if seq % 2 else b).match_event(store, seq)
        await receiver.until(lambda: len(receiver.delivered) >= 10)
        assert receiver.seqs() == list(range(1, 11))
        assert [p["stream_seq"] for p in receiver.delivered] == list(range(1, 11))
