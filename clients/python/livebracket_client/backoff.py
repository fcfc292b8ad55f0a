"""Reconnect delays: exponential backoff with full jitter and a cap."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """The wait before each reconnect, in seconds.

    Attempt n (from 0) waits `floor_s + rng() * min(cap_s, base_s * 2**n)`: "full jitter", so
    the clients of a restarted server spread over the whole window instead of coming back
    together, and never more than `cap_s` past the server's own `retry_after`. `reset()`
    after a welcome starts again from `base_s`. `rng` returns a float in [0, 1); inject one to
    test the delays without sleeping.
    """

    def __init__(self, base_s: float = 1.0, cap_s: float = 30.0,
                 rng: Callable[[], float] = random.random) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError("backoff needs 0 < base_s <= cap_s")
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng
        self.attempt = 0

    def ceiling_s(self) -> float:
        """The jitter window of the next attempt, in seconds."""
        return min(self.cap_s, self.base_s * 2.0 ** min(self.attempt, 64))

    def next_delay(self, floor_s: float = 0.0) -> float:
        """The next wait in seconds, at least `floor_s` (a refusal's `retry_after_ms`); counts
        the attempt."""
        delay = max(0.0, floor_s) + self._rng() * self.ceiling_s()
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
