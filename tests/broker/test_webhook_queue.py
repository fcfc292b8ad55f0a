"""RedisWebhookQueue on a real redis-server: the append takes the lease or tells its holder, an
unknown tournament is left alone, the numbering is guarded by the lease and all or nothing, an
idle holder gives the lease up, a dead holder's busy tournament is found once its lease expired,
and a holder is asked and answers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from realtime.leases import RedisLease, lease_key
from realtime.mailbox import NodeMailbox
from realtime.webhookqueue import BUSY_KEY, RedisWebhookQueue, cursors_key, in_key, out_key
from tests.broker.expiry import expired
from tournament.models import Delivery
from tournament.webhookqueue import Answer, QueuedEvent, webhook_lease


class Listener:
    """What a node's outbox would be told, kept."""

    def __init__(self, answer: Answer = Answer("done", 7)) -> None:
        self.waiting: list[str] = []
        self.asks: list[tuple[str, str, dict[str, Any]]] = []
        self.answer = answer
        self.told = asyncio.Event()

    def events_waiting(self, tournament_id: str) -> None:
        self.waiting.append(tournament_id)
        self.told.set()

    async def asked(self, tournament_id: str, op: str, args: dict[str, Any]) -> Answer:
        self.asks.append((tournament_id, op, args))
        return self.answer

    def reconnected(self) -> None:
        pass


Node = tuple[RedisWebhookQueue, Listener, NodeMailbox]


@contextlib.asynccontextmanager
async def nodes(url: str, ttl_s: float = 3.0) -> AsyncIterator[tuple[Node, Node]]:
    made: list[Node] = []
    for name in ("a", "b"):
        mailbox = NodeMailbox(url, node=name)
        queue = RedisWebhookQueue(mailbox, RedisLease(mailbox, ttl_s))
        listener = Listener()
        queue.listen(listener)
        await mailbox.start()
        made.append((queue, listener, mailbox))
    try:
        yield made[0], made[1]
    finally:
        for _, _, mailbox in made:
            await mailbox.close()


def event(seq: int, origin: str = "a", tournament_id: str = "t1", number: int | None = None) -> QueuedEvent:
    return QueuedEvent(origin, tournament_id, "match:m1", seq, "score_updated", {"n": seq}, float(seq),
                       seq if number is None else number)


async def append(queue: RedisWebhookQueue, entry: QueuedEvent, force: bool = False) -> Any:
    (placed,) = await queue.append([entry], force)
    return placed


def row(seq: int) -> Delivery:
    return Delivery(webhook_id="wh1", seq=seq, stream="match:m1", stream_seq=seq, type="score_updated",
                    tournament_id="t1", data={"n": seq}, ts=float(seq))


@pytest.mark.gen_test
async def test_the_first_append_takes_the_lease_and_the_next_tells_the_holder(redis_url: str) -> None:
    """a's append takes the free lease; b's is queued behind it and a is told (heard)."""
    async with nodes(redis_url) as ((a, a_heard, redis), (b, _, _)):
        await a.known(["t1"])
        first = await append(a, event(1))
        assert first is not None and (first.holder, first.heard) == ("a", True)
        second = await append(b, event(2, origin="b"))
        assert second is not None and (second.holder, second.heard) == ("a", True)
        await asyncio.wait_for(a_heard.told.wait(), 5)
        assert a_heard.waiting == ["t1"]
        assert [(e.seq, e.origin) for e in await a.read("t1")] == [(1, "a"), (2, "b")]
        assert await redis.redis.sismember(BUSY_KEY, "t1")


@pytest.mark.gen_test
async def test_an_append_for_a_tournament_without_webhooks_does_nothing(redis_url: str) -> None:
    """Unknown tournament once the webhooks were announced: no entry, no lease; forced (before this
    node announced them), it is queued; before any node announced them (Redis empty), it is too."""
    async with nodes(redis_url) as ((a, _, mailbox), _b):
        assert await append(a, event(1, tournament_id="t8")) is not None
        await a.known(["t1"], complete=True)
        assert await append(a, event(1, tournament_id="t9")) is None
        assert await mailbox.redis.exists(in_key("t9"), lease_key(webhook_lease("t9"))) == 0
        forced = await append(a, event(1, tournament_id="t9"), force=True)
        assert forced is not None and forced.holder == "a"
        assert len(await a.read("t9")) == 1


@pytest.mark.gen_test
async def test_an_append_sent_again_is_queued_once(redis_url: str) -> None:
    """A batch sent again after a lost answer (the same numbers) adds nothing; a later number does."""
    async with nodes(redis_url) as ((a, _, _), _b):
        await a.known(["t1"])
        assert [p is not None for p in await a.append([event(1), event(2)])] == [True, True]
        assert await a.append([event(1), event(2)]) == [None, None]
        assert [p is not None for p in await a.append([event(2), event(3)])] == [False, True]
        assert [e.seq for e in await a.read("t1")] == [1, 2, 3]


@pytest.mark.gen_test
async def test_the_numbering_is_the_holders_and_all_or_nothing(redis_url: str) -> None:
    """A stranger's commit changes nothing; the holder's takes the events out, puts the rows in
    and moves the cursors in one step; the rows leave once stored."""
    async with nodes(redis_url) as ((a, _, mailbox), (b, _, _)):
        await a.known(["t1"])
        await append(a, event(1))
        await append(a, event(2))
        entries = await a.read("t1")
        assert await b.commit("t1", [e.id for e in entries], [row(1), row(2)], {"m1": 2}) is False
        assert len(await a.read("t1")) == 2 and await a.numbered("t1") == []
        assert await mailbox.redis.exists(cursors_key("t1")) == 0
        assert await a.commit("t1", [e.id for e in entries], [row(1), row(2)], {"m1": 2}) is True
        assert await a.read("t1") == []
        numbered = await a.numbered("t1")
        assert [r for _, r in numbered] == [row(1), row(2)]
        assert await a.cursors("t1") == {"m1": 2}
        await a.stored("t1", [entry_id for entry_id, _ in numbered])
        assert await mailbox.redis.xlen(out_key("t1")) == 0


@pytest.mark.gen_test
async def test_an_idle_holder_releases_and_a_busy_one_keeps_the_lease(redis_url: str) -> None:
    """release_if_idle: kept while events or rows wait, refused to a stranger, done when idle."""
    async with nodes(redis_url) as ((a, _, mailbox), (b, _, _)):
        await a.known(["t1"])
        await append(a, event(1))
        assert await a.release_if_idle("t1") is False  # an event waits
        entries = await a.read("t1")
        await a.commit("t1", [e.id for e in entries], [row(1)], {})
        assert await a.release_if_idle("t1") is False  # a row waits for the store
        await a.stored("t1", [entry_id for entry_id, _ in await a.numbered("t1")])
        assert await b.release_if_idle("t1") is False
        assert await a.release_if_idle("t1") is True
        assert await mailbox.redis.exists(lease_key(webhook_lease("t1"))) == 0
        assert not await mailbox.redis.sismember(BUSY_KEY, "t1")


@pytest.mark.gen_test
async def test_a_dead_holders_busy_tournament_is_an_orphan_once_its_lease_expired(redis_url: str) -> None:
    """a holds t1 and says nothing more: t1 is no orphan while the lease lasts, then b finds and takes it."""
    async with nodes(redis_url, ttl_s=0.3) as ((a, _, _), (b, _, _)):
        await a.known(["t1"])
        await append(a, event(1))
        assert await b.orphans() == []
        async with expired(redis_url, lease_key(webhook_lease("t1"))) as gone:
            await asyncio.wait_for(gone, 5)
        assert await b.orphans() == ["t1"]
        taken = await b.take("t1")
        assert taken.holder == "b"
        assert await a.orphans() == []
        assert (await a.take("t1")).holder == "b"


@pytest.mark.gen_test
async def test_the_holder_is_asked_and_answers(redis_url: str) -> None:
    """b asks a (the holder) for an op: a's listener gets it and its answer comes back; a node
    that does not listen is `gone`."""
    async with nodes(redis_url) as ((a, a_listener, _), (b, _, _)):
        answer = await b.ask("a", "t1", "ping", {"w": "wh1"}, 5.0)
        assert (answer.status, answer.result) == ("done", 7)
        assert a_listener.asks == [("t1", "ping", {"w": "wh1"})]
        assert (await b.ask("nobody", "t1", "ping", {}, 5.0)).status == "gone"
