"""StoreWatch: pings the store and tells every socket when it goes down and comes back."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from realtime import protocol
from realtime.frames import Frame
from realtime.hub import Hub
from tournament.scheduler import Scheduler
from tournament.store import StorageError

log = logging.getLogger(__name__)


class StoreWatch:
    """Every `interval_s`, ping the store; on a change, send `store_status` to every socket.

    Requests find out on their own (503 / error frames); this only keeps screens informed.
    """

    def __init__(self, ping: Callable[[], Awaitable[None]], hub: Hub, scheduler: Scheduler,
                 interval_s: float = 2.0) -> None:
        self._ping = ping
        self._hub = hub
        self._scheduler = scheduler
        self.interval_s = interval_s
        self.available = True
        self._timer: object | None = None

    def start(self) -> None:
        if self._timer is None:
            self._timer = self._scheduler.call_later(self.interval_s, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._scheduler.remove_timeout(self._timer)
            self._timer = None

    async def _tick(self) -> None:
        self._timer = None
        try:
            await self.check()
        finally:
            self.start()

    async def check(self) -> bool:
        """Ping now; announce a change. Returns whether the store answers."""
        try:
            await self._ping()
            available = True
        except StorageError:
            available = False
        if available != self.available:
            self.available = available
            log.warning("store %s", "reachable again" if available else "unreachable")
            self._hub.broadcast_all(Frame(protocol.frame("store_status", {"available": available})))
        return available
