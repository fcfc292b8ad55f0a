"""A webhook's receiving end for the suite's in-process tests: a Tornado server on 127.0.0.1 and
an unused port, in the test's own IOLoop (the plugin's `WebhookSink` runs on a thread of its own,
for integrators' synchronous tests)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

WAIT_S = 10.0


@dataclasses.dataclass(frozen=True)
class Received:
    body: dict[str, Any]
    raw: bytes  # the bytes the signature covers
    headers: dict[str, str]
    status: int  # what the receiver answered


class Receiver:
    """Every POST kept, in arrival order; answered 200, or the statuses `fail_next` queued, or
    500 while `failing`."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.failing = False
        self._next: list[int] = []
        self._arrived = asyncio.Event()
        sock, port = bind_unused_port()
        self.url = f"http://127.0.0.1:{port}/hook"
        self.server = HTTPServer(Application([(r"/hook", _Hook, {"receiver": self})]))
        self.server.add_sockets([sock])

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, one each."""
        self._next.extend(statuses)

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    def delivered(self) -> list[tuple[int, str]]:
        """(seq, type) of the requests answered 2xx, in the order they came."""
        return [(r.body["seq"], r.body["type"]) for r in self.requests if 200 <= r.status < 300]

    async def until(self, condition: Callable[[], bool]) -> None:
        """Return once `condition()` holds (each request is a chance to); TimeoutError after WAIT_S."""
        async def wait() -> None:
            while not condition():
                self._arrived.clear()
                await self._arrived.wait()
        await asyncio.wait_for(wait(), WAIT_S)

    async def first(self, count: int) -> list[dict[str, Any]]:
        """The bodies of the first `count` requests, once they have come."""
        await self.until(lambda: len(self.requests) >= count)
        return self.bodies()[:count]

    def _took(self, headers: dict[str, str], raw: bytes) -> int:
        status = self._next.pop(0) if self._next else 500 if self.failing else 200
        self.requests.append(Received(json.loads(raw), raw, headers, status))
        self._arrived.set()
        return status


class _Hook(RequestHandler):
    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def post(self) -> None:
        self.set_status(self.receiver._took(dict(self.request.headers), self.request.body))
        self.finish("ok")
