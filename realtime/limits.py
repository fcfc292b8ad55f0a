"""Rate and connection limits: token buckets per key (clock injected), exact connection counts,
and one socket admission per event-loop turn."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import ipaddress
import math
from collections.abc import Callable, Iterable

PRUNE_AT = 10_000  # buckets kept before the idle (full) ones are forgotten


class TokenBucket:
    """`rate` tokens per second up to `burst`; each allowed event takes one."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def take(self, now: float) -> float:
        """0.0 when allowed (a token is taken), else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def full_at(self, now: float) -> bool:
        return self.tokens + (now - self.stamp) * self.rate >= self.burst


class RateLimiter:
    """Token buckets by key (a user id, an IP). Buckets that refilled are forgotten."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self.refused = 0

    def check(self, key: str) -> float:
        """0.0 when `key` may act now, else how many seconds it must wait."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= PRUNE_AT:
                self._prune(now)
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
        wait = bucket.take(now)
        if wait:
            self.refused += 1
        return wait

    def _prune(self, now: float) -> None:
        for key in [k for k, b in self._buckets.items() if b.full_at(now)]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class OnePerTurn:
    """Lets one waiter through per event-loop turn, in arrival order: a burst of reconnecting
    sockets queues here, and the live traffic already in the loop's ready queue goes between
    them instead of behind all of them (docs/performance.md "Reconnect storm")."""

    def __init__(self) -> None:
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._scheduled = False
        self.waited = 0  # waiters that found others ahead of them

    async def turn(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._waiting and not self._scheduled:
            self._scheduled = True  # the next arrival this turn waits for the next turn
            loop.call_soon(self._release)
            return
        self.waited += 1
        future = loop.create_future()
        self._waiting.append(future)
        await future

    def _release(self) -> None:
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():  # a cancelled waiter (its socket closed) gives up its turn
                future.set_result(None)
                break
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._release)
        else:
            self._scheduled = False


def retry_after_ms(wait_s: float) -> int:
    return max(1, math.ceil(wait_s * 1000))


@dataclasses.dataclass(frozen=True)
class Refusal:
    code: str  # connection_limit_exceeded | ip_connection_limit_exceeded | room_full
    message: str
    retry_after_ms: int


class ConnectionCounter:
    """Open sockets per user and per IP, kept exact: count only admitted, release each once."""

    def __init__(self, per_user: int, per_ip: int, retry_after_ms: int = 5000,
                 per_spectator: int | None = None) -> None:
        self.per_user = per_user
        self.per_spectator = per_user if per_spectator is None else per_spectator
        self.per_ip = per_ip
        self.retry_after_ms = retry_after_ms
        self.by_user: collections.Counter[str] = collections.Counter()
        self.by_ip: collections.Counter[str] = collections.Counter()
        self.refused = 0

    def admit(self, user_id: str, ip: str, spectator: bool = False) -> Refusal | None:
        """Count a new connection, or say why not (and count nothing). A spectator token may
        be shared by many screens, so it has its own, larger per-user limit."""
        per_user = self.per_spectator if spectator else self.per_user
        if self.by_user[user_id] >= per_user:
            self.refused += 1
            return Refusal("connection_limit_exceeded",
                           f"this token has its {per_user} open sockets: close pages you no longer need, or "
                           f"raise the limit (--limits sockets_per_user=...)", self.retry_after_ms)
        if self.by_ip[ip] >= self.per_ip:
            self.refused += 1
            return Refusal("ip_connection_limit_exceeded",
                           f"this address has its {self.per_ip} open sockets: close pages you no longer need, "
                           f"or raise the limit (--limits sockets_per_ip=...)", self.retry_after_ms)
        self.by_user[user_id] += 1
        self.by_ip[ip] += 1
        return None

    def release(self, user_id: str, ip: str) -> None:
        for counter, key in ((self.by_user, user_id), (self.by_ip, ip)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]

    @property
    def open(self) -> int:
        return sum(self.by_user.values())


def client_ip(peer: str, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The client's address: the socket peer, or, when the peer is a trusted proxy, the last
    address in X-Forwarded-For that is not one of the trusted proxies."""
    trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if not forwarded_for or not is_trusted(peer):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed header from a trusted proxy: trust the socket
    return peer


@dataclasses.dataclass
class Limits:
    """Every limit the server applies, built from the config."""

    messages_by_user: RateLimiter
    messages_by_ip: RateLimiter
    writes_by_user: RateLimiter
    sockets: ConnectionCounter
    tournament_room_max: int
    slow_consumers: int = 0  # sockets dropped for not reading their frames
