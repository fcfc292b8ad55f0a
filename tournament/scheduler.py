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
