"""Token buckets, connection counts and client addresses, at their edges on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from realtime.limits import ConnectionCounter, OnePerTurn, RateLimiter, TokenBucket, client_ip, retry_after_ms
from tests.realtime.fakes import FakeClock


def test_bucket_allows_its_burst_then_waits_for_the_rate() -> None:
    """A 10/s bucket of 20 allows 20 at once, refuses the 21st for 0.1 s, then allows one."""
    clock = FakeClock(0.0)
    bucket = TokenBucket(10.0, 20, clock())
    assert [bucket.take(clock()) for _ in range(20)] == [0.0] * 20
    assert bucket.take(clock()) == pytest.approx(0.1)
    clock.advance(0.099)
    assert bucket.take(clock()) == pytest.approx(0.001)
    clock.advance(0.001)
    assert bucket.take(clock()) == 0.0
    assert bucket.take(clock()) > 0


def test_bucket_never_exceeds_its_burst() -> None:
    """An idle bucket refills to its burst, no further."""
    clock = FakeClock(0.0)
    bucket = TokenBucket(10.0, 5, clock())
    clock.advance(3600)
    assert sum(bucket.take(clock()) == 0.0 for _ in range(10)) == 5


def test_limiter_keys_are_independent_and_refusals_counted() -> None:
    """Each key has its own bucket; refusals are counted."""
    clock = FakeClock(0.0)
    limiter = RateLimiter(1.0, 2, clock)
    assert [limiter.check("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.check("b") == 0.0
    assert limiter.refused == 1
    with pytest.raises(ValueError):
        RateLimiter(0.0, 1, clock)


def test_limiter_forgets_refilled_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its size bound, buckets that refilled are dropped; busy ones stay."""
    import realtime.limits

    monkeypatch.setattr(realtime.limits, "PRUNE_AT", 3)
    clock = FakeClock(0.0)
    limiter = RateLimiter(1.0, 1, clock)
    for key in "abc":
        limiter.check(key)
    clock.advance(10)
    limiter.check("c")
    limiter.check("d")
    assert len(limiter) == 2  # a and b refilled and were forgotten; c is empty again


def test_retry_after_rounds_up_to_whole_milliseconds() -> None:
    """retry_after_ms is at least 1 and never rounds a wait down."""
    assert (retry_after_ms(0.0001), retry_after_ms(0.1), retry_after_ms(0.1001)) == (1, 100, 101)


def test_connection_counts_stay_exact() -> None:
    """Refused connections are never counted; each release frees exactly one."""
    counter = ConnectionCounter(per_user=2, per_ip=3)
    assert counter.admit("u", "1.1.1.1") is None
    assert counter.admit("u", "1.1.1.1") is None
    refusal = counter.admit("u", "1.1.1.1")
    assert refusal is not None and refusal.code == "connection_limit_exceeded"
    assert counter.admit("v", "1.1.1.1") is None
    refusal = counter.admit("w", "1.1.1.1")
    assert refusal is not None and refusal.code == "ip_connection_limit_exceeded"
    assert (counter.by_user["u"], counter.by_ip["1.1.1.1"], counter.refused) == (2, 3, 2)
    counter.release("u", "1.1.1.1")
    assert counter.admit("u", "1.1.1.1") is None
    for user in ("u", "u", "v"):
        counter.release(user, "1.1.1.1")
    assert counter.open == 0 and not counter.by_ip and not counter.by_user


@pytest.mark.parametrize("peer, header, trusted, expected", [
    ("10.0.0.5", "1.2.3.4", (), "10.0.0.5"),  # no trusted proxy: the peer
    ("10.0.0.5", "1.2.3.4", ("10.0.0.0/8",), "1.2.3.4"),
    ("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9", ("10.0.0.0/8",), "1.2.3.4"),  # spoofed left hops ignored
    ("8.8.8.8", "1.2.3.4", ("10.0.0.0/8",), "8.8.8.8"),  # untrusted peer's header ignored
    ("10.0.0.5", "not-an-ip", ("10.0.0.0/8",), "10.0.0.5"),
    ("10.0.0.5", None, ("10.0.0.0/8",), "10.0.0.5"),
])
def test_client_ip_believes_only_trusted_proxies(peer: str, header: str | None, trusted: tuple[str, ...],
                                                expected: str) -> None:
    """X-Forwarded-For counts only when the peer is a trusted proxy, right to left."""
    assert client_ip(peer, header, trusted) == expected


def test_a_spectator_token_has_its_own_larger_limit() -> None:
    """A shared spectator link admits many screens; a player token stays at its limit."""
    counter = ConnectionCounter(per_user=1, per_ip=100, per_spectator=3)
    assert [counter.admit("screen", f"10.0.0.{i}", spectator=True) for i in range(3)] == [None] * 3
    refusal = counter.admit("screen", "10.0.0.9", spectator=True)
    assert refusal is not None and refusal.message.startswith("this token has its 3 open sockets: close pages")
    assert counter.admit("alice", "10.0.0.1") is None
    assert counter.admit("alice", "10.0.0.2") is not None


def test_the_default_limits_hold_a_production_pc() -> None:
    """One organizer token on one address opens 20 pages of 2 sockets each with the defaults."""
    from config import Config

    defaults = Config()
    counter = ConnectionCounter(defaults.sockets_per_user, defaults.sockets_per_ip,
                                per_spectator=defaults.sockets_per_spectator_token)
    assert [counter.admit("organizer:organizer", "192.168.1.20") for _ in range(40)] == [None] * 40


async def _through_the_pacer(cancel: int | None = None) -> tuple[list[tuple[int, int]], int]:
    """Five waiters arrive in one loop turn: (waiter, loop turn it passed in), and the waits counted."""
    pacer, turn, passed = OnePerTurn(), [0], []
    loop = asyncio.get_running_loop()

    def tick() -> None:  # one increment per loop iteration while the waiters are under way
        turn[0] += 1
        if turn[0] < 100:
            loop.call_soon(tick)

    async def waiter(i: int) -> None:
        await pacer.turn()
        passed.append((i, turn[0]))

    loop.call_soon(tick)
    tasks = [asyncio.ensure_future(waiter(i)) for i in range(5)]
    await asyncio.sleep(0)  # all five are waiting now
    if cancel is not None:
        tasks[cancel].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return passed, pacer.waited


@pytest.mark.gen_test
async def test_one_waiter_passes_per_loop_turn_in_arrival_order() -> None:
    passed, waited = await _through_the_pacer()
    assert [i for i, _ in passed] == [0, 1, 2, 3, 4]
    turns = [t for _, t in passed]
    assert turns == sorted(set(turns)), "two waiters passed in one loop turn"
    assert waited == 4


@pytest.mark.gen_test
async def test_a_cancelled_waiter_gives_up_its_turn() -> None:
    """A socket closed while it waits is skipped; the ones behind it still pass, in order."""
    passed, _ = await _through_the_pacer(cancel=2)
    assert [i for i, _ in passed] == [0, 1, 3, 4]
