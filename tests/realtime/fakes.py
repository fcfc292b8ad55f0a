"""Fakes for unit tests of realtime/: a clock, a scheduler that runs on it, and a connection."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from realtime.frames import Frame

ROUNDING_S = 1e-9  # a deadline this close to `until` is due: 1000.05 + 0.05 < 1000.0 + 0.1 in floats


class FakeClock:
    """Epoch seconds that move only when a test (or the scheduler) says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeTimeout:
    """A handle returned by FakeScheduler.call_later."""

    def __init__(self, deadline: float, order: int, callback: Callable[[], Any]) -> None:
        self.deadline = deadline
        self.order = order  # equal deadlines run in the order they were scheduled
        self.callback = callback


class FakeScheduler:
    """The IOLoop's call_later/remove_timeout on a FakeClock; time passes only in `advance`.

    A callback that returns an awaitable (a coroutine, as the batcher's flush does) has it
    collected: `advance_async` awaits each one before the next callback runs, `advance` leaves
    them in `awaitables` for `drain()`.
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self._timeouts: list[FakeTimeout] = []
        self._order = 0
        self.awaitables: list[Awaitable[Any]] = []
        self.fired: list[float] = []  # the fake time at which each callback ran
        self.delays: list[float] = []  # the delay of every call_later, in call order

    def call_later(self, delay: float, callback: Callable[[], Any]) -> FakeTimeout:
        self._order += 1
        timeout = FakeTimeout(self.clock.now + delay, self._order, callback)
        self._timeouts.append(timeout)
        self.delays.append(delay)
        return timeout

    def remove_timeout(self, timeout: object) -> None:
        """Cancel a timeout; one already run or removed is ignored, as Tornado does."""
        if isinstance(timeout, FakeTimeout) and timeout in self._timeouts:
            self._timeouts.remove(timeout)

    @property
    def pending(self) -> list[FakeTimeout]:
        """The timeouts not run yet, earliest first."""
        return sorted(self._timeouts, key=lambda t: (t.deadline, t.order))

    def _pop_due(self, until: float) -> FakeTimeout | None:
        due = [t for t in self.pending if t.deadline <= until + ROUNDING_S]
        if not due:
            return None
        self._timeouts.remove(due[0])
        self.clock.now = max(self.clock.now, due[0].deadline)
        return due[0]

    def advance(self, seconds: float) -> None:
        """Move the clock `seconds` forward, running every callback that falls due, in order."""
        until = self.clock.now + seconds
        while (timeout := self._pop_due(until)) is not None:
            self.fired.append(self.clock.now)
            result = timeout.callback()
            if inspect.isawaitable(result):
                self.awaitables.append(result)
        self.clock.now = max(self.clock.now, until)

    async def advance_async(self, seconds: float) -> None:
        """Like `advance`, awaiting what each callback returns before running the next."""
        await self.drain()
        until = self.clock.now + seconds
        while (timeout := self._pop_due(until)) is not None:
            self.fired.append(self.clock.now)
            result = timeout.callback()
            if inspect.isawaitable(result):
                await result
        self.clock.now = max(self.clock.now, until)

    async def drain(self) -> None:
        """Await the awaitables collected by `advance`."""
        while self.awaitables:
            await self.awaitables.pop(0)


class FakeConnection:
    """Records what the hub or the heartbeat sends and how it closes the socket."""

    def __init__(self, name: str = "conn") -> None:
        self.name = name
        self.frames: list[Frame] = []
        self.closes: list[tuple[int, str]] = []

    def __repr__(self) -> str:
        return f"FakeConnection({self.name!r})"

    def send(self, frame: Frame) -> None:
        self.frames.append(frame)

    def close(self, code: int, reason: str) -> None:
        self.closes.append((code, reason))

    @property
    def closed(self) -> bool:
        return bool(self.closes)

    @property
    def texts(self) -> list[str]:
        return [f.text for f in self.frames]

    @property
    def seqs(self) -> list[int | None]:
        return [f.seq for f in self.frames]

    def json(self) -> list[Any]:
        return [json.loads(f.text) for f in self.frames]
