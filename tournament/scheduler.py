"""Scheduler: the timers services use (Tornado's IOLoop in the server, a fake clock in tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

# A timer callback may return an awaitable (a coroutine) that must run to its end.
Callback = Callable[[], Awaitable[None] | None]


class Scheduler(Protocol):
    def call_later(self, delay: float, callback: Callback) -> object:
        """Run `callback` after `delay` seconds. When it returns an awaitable, the scheduler
        runs that to its end and logs what it raises (Tornado's IOLoop does both)."""

    def remove_timeout(self, timeout: object) -> None:
        """Cancel a timer; one that already ran or was removed is ignored."""


class Timers:
    """One timer per key (a match): arming a key again replaces its timer."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._timers: dict[str, object] = {}

    def arm(self, key: str, delay: float, callback: Callback) -> None:
        self.disarm(key)
        self._timers[key] = self._scheduler.call_later(max(0.0, delay), callback)

    def disarm(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            self._scheduler.remove_timeout(timer)

    def fired(self, key: str) -> None:
        """Forget the timer of `key`, which has just run."""
        self._timers.pop(key, None)

    def clear(self) -> None:
        for timer in self._timers.values():
            self._scheduler.remove_timeout(timer)
        self._timers.clear()
