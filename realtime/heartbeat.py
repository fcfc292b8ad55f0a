"""Heartbeat: one sweep for all sockets pings them each interval and closes the silent ones.

Any message frame from a client counts as alive (`seen`); protocol-level pongs do not, since a
browser answers those even when the page's code is stuck. A client silent for two intervals,
a dead TCP peer among them, is closed with CloseCode.HEARTBEAT_TIMEOUT: the server sends no
protocol-level pings of its own (handlers/app.py). The sweep runs every half interval, so a silent client is
closed between 2 and 2.5 intervals after its last frame, and each client is pinged about
once per interval: `{"type": "ping", "timestamp": <epoch ms>}`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from realtime.frames import Frame
from realtime.hub import Connection
from tournament.scheduler import Scheduler
from realtime import protocol
from realtime.protocol import CloseCode, ErrorCode

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, scheduler: Scheduler, clock: Callable[[], float], interval_s: float = 25.0) -> None:
        if interval_s <= 0:
            raise ValueError("the heartbeat interval must be positive")
        self._scheduler = scheduler
        self._clock = clock
        self.interval_s = interval_s
        self._last_seen: dict[Connection, float] = {}
        self._last_ping = clock()
        self._timer: object | None = None
        self.timeouts = 0

    def __len__(self) -> int:
        return len(self._last_seen)

    def start(self) -> None:
        if self._timer is None:
            self._timer = self._scheduler.call_later(self.interval_s / 2, self._sweep)

    def stop(self) -> None:
        if self._timer is not None:
            self._scheduler.remove_timeout(self._timer)
            self._timer = None

    def watch(self, conn: Connection) -> None:
        self._last_seen[conn] = self._clock()

    def seen(self, conn: Connection) -> None:
        if conn in self._last_seen:
            self._last_seen[conn] = self._clock()

    def forget(self, conn: Connection) -> None:
        self._last_seen.pop(conn, None)

    def _sweep(self) -> None:
        self._timer = None
        try:
            self.sweep()
        finally:
            self.start()

    def sweep(self) -> None:
        """Close the silent, ping the rest when a ping is due."""
        now = self._clock()
        deadline = now - 2 * self.interval_s
        ping_due = now - self._last_ping >= self.interval_s * 0.99
        ping = Frame(json.dumps({"type": "ping", "timestamp": int(now * 1000)}, separators=(",", ":")))
        timeout = Frame(protocol.error_frame(ErrorCode.HEARTBEAT_TIMEOUT, "no frame for two heartbeat intervals",
                                             close_code=int(CloseCode.HEARTBEAT_TIMEOUT)))
        if ping_due:
            self._last_ping = now
        for conn, seen in list(self._last_seen.items()):
            if seen <= deadline:
                self.forget(conn)
                self.timeouts += 1
                conn.send(timeout)
                conn.close(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat timeout")
            elif ping_due:
                conn.send(ping)
