"""Webhooks for tests: `verify_signature` (copy it into your receiver) and `WebhookSink`, a
loopback HTTP server that records every POST livebracket delivers to it.

A delivery is a POST of JSON `{"webhook_id", "seq", "stream", "stream_seq", "type",
"tournament_id", "data", "ts"}` with the headers `X-Livebracket-Webhook` (its webhook's id),
`X-Livebracket-Seq` (that webhook's delivery number: 1, 2, 3... without gaps) and
`X-Livebracket-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of the secret over
f"{t}." + body>`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import re
import threading
import time
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from pytest_livebracket.loop import LoopThread, WaitTimeout

SIGNATURE_HEADER = "X-Livebracket-Signature"
STAMP = re.compile(r"[0-9]{1,12}")  # whole unix seconds; ASCII digits only


def sign(secret: str, body: bytes, *, t: int | None = None) -> str:
    """The `X-Livebracket-Signature` value for `body` signed with `secret` at `t` (unix
    seconds, default now), as the server makes it."""
    stamp = str(int(time.time()) if t is None else t)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, *, now: float | None = None,
                     tolerance_s: float = 300) -> bool:
    """Whether `header` (`t=<unix seconds>,v1=<hex>`) is `secret`'s signature of exactly these
    `body` bytes, made within `tolerance_s` seconds of `now` (default: the current time).

    Any `v1` may match (a sender rotating its secret signs with both); the comparison takes
    constant time. A malformed header is False, never an exception.
    """
    stamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(stamps) != 1 or not STAMP.fullmatch(stamps[0]) or not signatures:
        return False
    if abs((time.time() if now is None else now) - int(stamps[0])) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    matches = [hmac.compare_digest(expected, s.encode("utf-8", "replace")) for s in signatures]
    return any(matches)  # every candidate compared: the time taken says nothing of which matched


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One POST the sink received: `body` (the parsed JSON, or None), `headers`
    (case-insensitive), `raw` (the exact bytes, which the signature covers), `status` (what the
    sink answered), `received_at` (unix seconds) and `path` (the URL's path)."""

    body: Any
    headers: HTTPHeaders
    raw: bytes
    status: int
    received_at: float
    path: str

    @property
    def signature(self) -> str:
        return self.headers.get(SIGNATURE_HEADER, "")


class _Receiver(RequestHandler):
    def initialize(self, sink: WebhookSink) -> None:
        self.sink = sink

    def post(self, path: str) -> None:
        status = self.sink._record(self.request.body, HTTPHeaders(self.request.headers), "/" + path)
        self.set_status(status)
        self.finish({"received": status < 300})

    def check_xsrf_cookie(self) -> None:
        pass


class WebhookSink:
    """A webhook receiver on 127.0.0.1 and a free port, run on the plugin's loop: register
    `url`, then read `deliveries` (every POST, failed ones included), `expect(n)` them, make
    the next ones fail with `fail_next`, and check every signature with `verify`."""

    def __init__(self, portal: LoopThread, timeout_s: float = 10.0) -> None:
        self._portal = portal
        self.timeout_s = timeout_s
        self.deliveries: list[Delivery] = []
        self._failures: list[int] = []  # statuses for the next requests, first first
        self._lock = threading.Lock()  # `fail_next` is called from the test's thread
        self._arrived: asyncio.Event | None = None
        self._server: HTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The URL to register as a webhook's target (any path below it is recorded too)."""
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def accepted(self) -> list[Delivery]:
        """The deliveries the sink answered with a 2xx."""
        return [d for d in self.deliveries if 200 <= d.status < 300]

    def start(self) -> WebhookSink:
        async def listen() -> None:
            self._arrived = asyncio.Event()
            sockets = bind_sockets(0, "127.0.0.1")
            self.port = sockets[0].getsockname()[1]
            self._server = HTTPServer(Application([(r"/(.*)", _Receiver, {"sink": self})],
                                                   log_function=lambda handler: None))
            self._server.add_sockets(sockets)

        self._portal.run(listen())
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.stop()
                await self._server.close_all_connections()

        self._portal.run(close())

    def fail_next(self, k: int, status: int = 500) -> None:
        """Answer the next `k` POSTs with `status` (for retry tests); the ones after, 200."""
        with self._lock:
            self._failures.extend([status] * k)

    def expect(self, n: int, *, timeout: float | None = None) -> list[Delivery]:
        """Wait until `n` POSTs have come (failed ones included) and return the first `n`.
        Raises WaitTimeout after `timeout` seconds (default: the plugin's)."""
        timeout_s = self.timeout_s if timeout is None else timeout

        async def wait() -> list[Delivery]:
            assert self._arrived is not None, "the sink is not started"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            while len(self.deliveries) < n:
                if loop.time() >= deadline:
                    got = [(d.body or {}).get("type") if isinstance(d.body, dict) else None for d in self.deliveries]
                    raise WaitTimeout(f"{len(self.deliveries)} of {n} webhook deliveries within {timeout_s} s: {got}")
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
                except asyncio.TimeoutError:
                    pass
            return self.deliveries[:n]

        return self._portal.run(wait())

    def verify(self, secret: str, *, tolerance_s: float = 300) -> None:
        """Check every recorded delivery's signature with `secret` (each against the time it was
        received). Raises AssertionError naming the ones that fail, and when there is none."""
        assert self.deliveries, "no webhook delivery to verify"
        bad = [f"#{i} {d.signature!r}" for i, d in enumerate(self.deliveries)
               if not verify_signature(secret, d.signature, d.raw, now=d.received_at, tolerance_s=tolerance_s)]
        assert not bad, f"{len(bad)} of {len(self.deliveries)} deliveries not signed with that secret: {bad}"

    def _record(self, raw: bytes, headers: HTTPHeaders, path: str) -> int:
        """Keep one POST; the status to answer it with."""
        with self._lock:
            status = self._failures.pop(0) if self._failures else 200
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.deliveries.append(Delivery(body, headers, raw, status, time.time(), path))
        if self._arrived is not None:
            self._arrived.set()
        return status
