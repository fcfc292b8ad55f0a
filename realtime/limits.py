"""Rate and connection limits: token buckets per key (clock injected), exact connection counts,
one socket admission per event-loop turn, and the seam of the counts shared between nodes."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import ipaddress
import math
from collections.abc import Callable, Iterable
from typing import Protocol

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

    def user_limit(self, spectator: bool) -> int:
        """A spectator token may be shared by many screens, so it has its own, larger limit."""
        return self.per_spectator if spectator else self.per_user

    def admit(self, user_id: str, ip: str, spectator: bool = False) -> Refusal | None:
        """Count a new connection, or say why not (and count nothing)."""
        if self.by_user[user_id] >= self.user_limit(spectator):
            self.refused += 1
            return self.refusal("user", spectator)
        if self.by_ip[ip] >= self.per_ip:
            self.refused += 1
            return self.refusal("ip", spectator)
        self.by_user[user_id] += 1
        self.by_ip[ip] += 1
        return None

    def refusal(self, kind: str, spectator: bool = False) -> Refusal:
        """The refusal for the per-user (`kind` "user") or the per-address ("ip") limit."""
        if kind == "user":
            return Refusal("connection_limit_exceeded",
                           f"this token has its {self.user_limit(spectator)} open sockets: close pages you no longer "
                           f"need, or raise the limit (--limits sockets_per_user=...)", self.retry_after_ms)
        return Refusal("ip_connection_limit_exceeded",
                       f"this address has its {self.per_ip} open sockets: close pages you no longer need, "
                       f"or raise the limit (--limits sockets_per_ip=...)", self.retry_after_ms)

    def release(self, user_id: str, ip: str) -> None:
        for counter, key in ((self.by_user, user_id), (self.by_ip, ip)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]

    @property
    def open(self) -> int:
        return sum(self.by_user.values())


class SharedCountsUnavailableError(Exception):
    """The counts shared between nodes do not answer now: the socket is admitted on this node's
    own counts (docs/architecture.md "Counts across nodes")."""


class SharedCounts(Protocol):
    """Socket counts summed over every live node (realtime/counters.py, with --broker), checked
    after this node's own ConnectionCounter admitted the socket."""

    async def reserve(self, user_id: str, ip: str, room: str, *, user_max: int, ip_max: int,
                      room_max: int) -> str | None:
        """Count the socket in every node's sight: None when every limit holds across the nodes,
        else the one reached: "room", "user" or "ip" (room_max 0: the room has none). The room
        counts from the call on, either way, until `release`. Raises SharedCountsUnavailableError."""

    def release(self, user_id: str, ip: str, room: str) -> None:
        """Give back what `reserve` took (once, after it was called)."""


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
    # --broker: the socket counts of every node, checked after this node's own (`sockets`)
    shared: SharedCounts | None = None
