"""RedisLease on a real redis-server: taken by one node, renewed and released only by it, and
taken by the next node once it expired."""

from __future__ import annotations

import asyncio

import pytest

from realtime.leases import RedisLease, lease_key
from realtime.mailbox import NodeMailbox
from tests.broker.expiry import expired


def node(url: str, name: str, ttl_s: float = 3.0) -> RedisLease:
    return RedisLease(NodeMailbox(url, node=name), ttl_s)


async def close(*leases: RedisLease) -> None:
    for lease in leases:
        await lease._mailbox.close()


@pytest.mark.gen_test
async def test_one_node_holds_a_lease(redis_url: str) -> None:
    """The first node takes it; a second cannot; the holder taking it again extends it."""
    a, b = node(redis_url, "a"), node(redis_url, "b")
    try:
        assert await a.acquire("scores:m1") is True
        assert await b.acquire("scores:m1") is False
        assert await a.holder("scores:m1") == "a"
        assert await a.acquire("scores:m1") is True
        assert await b.holder("scores:m2") is None
        assert await b.acquire("scores:m2") is True  # another name: another lease
    finally:
        await close(a, b)


@pytest.mark.gen_test
async def test_only_the_holder_renews_or_releases(redis_url: str) -> None:
    """Compare-and-extend and compare-and-delete refuse a stranger and change nothing."""
    a, b = node(redis_url, "a"), node(redis_url, "b")
    try:
        assert await a.acquire("scores:m1")
        client = a._mailbox.redis
        await client.pexpire(lease_key("scores:m1"), 60_000)
        assert await b.renew("scores:m1") is False
        assert await b.release("scores:m1") is False
        assert await a.holder("scores:m1") == "a"
        assert 59_000 < await client.pttl(lease_key("scores:m1")) <= 60_000  # b's renew did not touch it
        assert await a.renew("scores:m1") is True
        assert await client.pttl(lease_key("scores:m1")) <= a.ttl_ms
        assert await a.release("scores:m1") is True
        assert await a.holder("scores:m1") is None
        assert await a.renew("scores:m1") is False  # released: nothing to extend
        assert await b.acquire("scores:m1") is True
    finally:
        await close(a, b)


@pytest.mark.gen_test
async def test_an_expired_lease_goes_to_the_next_node(redis_url: str) -> None:
    """A holder that stops renewing loses the lease at its expiry; another node takes it, and
    the old holder can then neither renew nor release it."""
    a, b = node(redis_url, "a", ttl_s=0.2), node(redis_url, "b")
    async with expired(redis_url, lease_key("scores:m1")) as gone:
        try:
            assert await a.acquire("scores:m1")
            assert await b.acquire("scores:m1") is False
            await asyncio.wait_for(gone, 10.0)
            assert await b.acquire("scores:m1") is True
            assert await a.renew("scores:m1") is False
            assert await a.release("scores:m1") is False
            assert await a.holder("scores:m1") == "b"
        finally:
            await close(a, b)
