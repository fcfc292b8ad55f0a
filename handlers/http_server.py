"""The HTTP listener: Tornado's HTTPServer with each connection bounded before a request is read.

- An accepted connection counts against its address (`connections_per_ip`; trusted proxies are
  exempt, they bound their own clients) and against all of them (the soft RLIMIT_NOFILE, raised
  to the hard limit by `listen`, less `reserved_fds` kept for the store, files and logs; and one
  address never gets more than half of that). Past either it is closed at once, so connections
  never take the descriptors the rest of the server needs. A WebSocket counts until its TCP
  connection closes. (An IPv6 client is counted per address, not per /64.)
- A request head (line and headers) must arrive within `header_timeout_s` of connecting or of
  the previous response; Tornado has one timer for both (its `idle_connection_timeout` is the
  head's timeout), so an idle keep-alive connection lasts as long. An upgraded WebSocket is
  detached from it. A body must arrive within `body_timeout_s` (Tornado's default: forever).
- A head over `max_header_bytes` is answered 431 and closed, instead of Tornado's silent reset.
- An accept that fails anyway (EMFILE from descriptors held elsewhere) pauses accepting for
  `accept_pause_s` instead of spinning on the readable socket; every kind of refusal is logged
  at most once per `log_interval_s`, with the number refused since the last line.

Two Tornado behaviours are relied on (proven on 6.6; setup.cfg pins `tornado>=6.4,<7`):
`IOStream.close_fd` closes the accepted socket object it was given (so `_AcceptedSocket.close`
is where a descriptor is released), and a head over `max_header_size` closes the stream with an
`UnsatisfiableReadError` as its `error`. A Tornado that differs in the first still releases a
place when the socket is collected (a finalizer); one that differs in the second only loses the
431 (the head is refused by a reset, as before). The streams stay plain `IOStream`s, which keeps
handlers/connection.py's direct write path.
"""

from __future__ import annotations

import collections
import ipaddress
import json
import logging
import math
import resource
import socket
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from tornado import httputil, web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, UnsatisfiableReadError
from tornado.log import app_log

from config import Config
from realtime.errors import Problem

log = logging.getLogger(__name__)

# Accepted per listener event (Tornado's own handler takes 128): each is a handshake in the same
# loop turn, ahead of a publish; 16 keeps a reconnect storm from queueing in front of live traffic
ACCEPTS_PER_EVENT = 16
LINGER_S = 2.0  # after a 431: how long what the client still sends is read and dropped
LINGER_BYTES = 256 * 1024  # ... and how much of it, before the connection is closed anyway


class ConnectionBounds:
    """Open connections per address and in all, against their caps."""

    def __init__(self, per_address: int, total: int, exempt: Iterable[str] = ()) -> None:
        self.per_address = per_address
        self.total = total
        self._exempt = [ipaddress.ip_network(net, strict=False) for net in exempt]
        self._open: collections.Counter[str] = collections.Counter()
        self.open_total = 0

    def admit(self, address: str) -> tuple[str, str] | None:
        """Count a new connection from `address`; or, when a cap is reached, count nothing and
        return why (the cap's name and a message for the log)."""
        if self.open_total >= self.total:
            return "max_connections", (f"refusing connections: {self.open_total} open, the most this "
                                       "process's descriptor limit allows (less reserved_fds)")
        if self._open[address] >= self.per_address and not self._is_exempt(address):
            return "connections_per_ip", (f"refusing connections from {address}: {self._open[address]} "
                                          f"open, connections_per_ip is {self.per_address}")
        self._open[address] += 1
        self.open_total += 1
        return None

    def release(self, address: str) -> None:
        self.open_total -= 1
        self._open[address] -= 1
        if not self._open[address]:
            del self._open[address]

    def _is_exempt(self, address: str) -> bool:
        if not self._exempt:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._exempt)


class RefusalLog:
    """Warns of refused connections at most once per `interval_s` for each reason, and counts
    the refusals in between, so a flood costs one line per interval rather than one per accept."""

    def __init__(self, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self._counts: collections.Counter[str] = collections.Counter()
        self._quiet_until: dict[str, float] = {}

    def note(self, reason: str, message: str) -> None:
        self._counts[reason] += 1
        now = self.clock()
        if now < self._quiet_until.get(reason, -math.inf):
            return
        self._quiet_until[reason] = now + self.interval_s
        log.warning("%s [%d refused since the last %s warning; at most one per %gs]",
                    message, self._counts.pop(reason), reason, self.interval_s)


class _AcceptedSocket(socket.socket):
    """An accepted connection's socket. Its first `close()` goes to `on_close` (the server's),
    which gives the address's place back, perhaps after answering a head that was too large."""

    __slots__ = ("on_close", "release", "stream", "reading_head")

    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
        super().__init__(family, type, proto, fileno)
        self.on_close: Callable[[_AcceptedSocket], None] | None = None
        self.release: Callable[[], Any] = lambda: None
        self.stream: weakref.ref[IOStream] | None = None
        self.reading_head = True

    def close(self) -> None:
        on_close, self.on_close = self.on_close, None
        if on_close is None:
            super().close()
        else:
            on_close(self)


class _HeadWatch(httputil.HTTPMessageDelegate):
    """The app's delegate for one request, noting on its socket when the request's head is read."""

    def __init__(self, delegate: httputil.HTTPMessageDelegate, sock: _AcceptedSocket) -> None:
        self.delegate = delegate
        self.sock = sock

    def headers_received(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                         headers: httputil.HTTPHeaders) -> Awaitable[None] | None:
        self.sock.reading_head = False
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()


def _head_too_large_answer(limit_bytes: int) -> bytes:
    """The whole 431 answer, in the API's error shape."""
    body = json.dumps(Problem(431, "headers_too_large", f"the request line and headers are limited to "
                              f"{limit_bytes} bytes", {"limit_bytes": limit_bytes}).body()).encode()
    return (b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


class BoundedHTTPServer(HTTPServer):
    """HTTPServer accepting with its own handler: bounds first, then a plain IOStream."""

    def initialize(self, *args: Any, bounds: ConnectionBounds, refusals: RefusalLog,  # type: ignore[override]
                   accept_pause_s: float = 0.5, **kwargs: Any) -> None:
        """HTTPServer's arguments, and the bounds to count connections against, the log of
        refusals, and how long to stop accepting after an accept failed. Raises ValueError
        for TLS options (terminate TLS in a proxy)."""
        super().initialize(*args, **kwargs)
        if self.ssl_options is not None:
            raise ValueError("BoundedHTTPServer speaks plain HTTP: terminate TLS in a proxy")
        self.bounds = bounds
        self.refusals = refusals
        self.accept_pause_s = accept_pause_s
        self._head_too_large = _head_too_large_answer(self.conn_params.max_header_size)
        self._listening: list[socket.socket] = []
        self._paused: dict[socket.socket, object] = {}
        self._lingering: dict[_AcceptedSocket, Callable[[], None]] = {}
        self._closed = False

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        for sock in sockets:
            self._listening.append(sock)
            IOLoop.current().add_handler(sock, self._accept, IOLoop.READ)

    def stop(self) -> None:
        """Stop listening and drop the connections still lingering after a 431."""
        if self._closed:
            return
        self._closed = True
        loop = IOLoop.current()
        for timer in self._paused.values():
            loop.remove_timeout(timer)
        self._paused.clear()
        for sock in self._listening:
            loop.remove_handler(sock)
            sock.close()
        for finish in list(self._lingering.values()):
            finish()
        super().stop()

    def _accept(self, listener: socket.socket, events: int) -> None:
        for _ in range(ACCEPTS_PER_EVENT):
            if self._closed:
                return
            try:
                connection, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # closed while in the accept queue
            except OSError as e:
                self.refusals.note("accept", f"accepting failed: {e.strerror or e}; accepting is paused for "
                                             f"{self.accept_pause_s:g}s at a time until it works again")
                self._pause(listener)
                return
            self._admit(connection, address)

    def _pause(self, listener: socket.socket) -> None:
        loop = IOLoop.current()
        loop.remove_handler(listener)

        def resume() -> None:
            del self._paused[listener]
            if not self._closed:
                loop.add_handler(listener, self._accept, IOLoop.READ)

        self._paused[listener] = loop.call_later(self.accept_pause_s, resume)

    def _admit(self, connection: socket.socket, address: Any) -> None:
        key = str(address[0]) if isinstance(address, tuple) and address else "local"
        refusal = self.bounds.admit(key)
        if refusal is not None:
            connection.close()
            self.refusals.note(*refusal)
            return
        try:
            sock = _AcceptedSocket(fileno=connection.detach())
        except OSError:
            self.bounds.release(key)
            return
        release = weakref.finalize(sock, self.bounds.release, key)  # once: on close, or if it is lost
        release.atexit = False
        sock.release = release
        sock.on_close = self._closing
        try:
            stream = IOStream(sock, max_buffer_size=self.max_buffer_size, read_chunk_size=self.read_chunk_size)
            sock.stream = weakref.ref(stream)
            self.handle_stream(stream, address)
        except Exception:
            app_log.error("Error in connection callback", exc_info=True)
            sock.close()

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection
                      ) -> httputil.HTTPMessageDelegate:
        delegate = super().start_request(server_conn, request_conn)
        sock = getattr(getattr(server_conn, "stream", None), "socket", None)
        if not isinstance(sock, _AcceptedSocket):
            return delegate
        sock.reading_head = True
        return _HeadWatch(delegate, sock)

    def _closing(self, sock: _AcceptedSocket) -> None:
        stream = sock.stream() if sock.stream is not None else None
        head_too_large = (sock.reading_head and stream is not None and not stream.writing()
                          and isinstance(stream.error, UnsatisfiableReadError))
        if head_too_large:
            self._answer_and_linger(sock, self._head_too_large)
        else:
            sock.release()  # before the close: a client that sees it closed may connect again
            sock.close()

    def _answer_and_linger(self, sock: _AcceptedSocket, answer: bytes) -> None:
        """Send `answer`, end our side, and read and drop what the client still sends for a
        while: closing with unread input would reset the connection, and a reset can destroy
        the answer before the client reads it."""
        try:
            sock.send(answer)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.release()
            sock.close()
            return
        loop = IOLoop.current()
        drained = 0

        def finish() -> None:
            if self._lingering.pop(sock, None) is None:
                return
            loop.remove_handler(sock)
            loop.remove_timeout(timer)
            sock.release()
            sock.close()

        def drain(fd: Any, events: int) -> None:
            nonlocal drained
            try:
                chunk = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                chunk = b""
            drained += len(chunk)
            if not chunk or drained > LINGER_BYTES:
                finish()

        timer = loop.call_later(LINGER_S, finish)
        self._lingering[sock] = finish
        loop.add_handler(sock, drain, IOLoop.READ)


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (as far as the system allows); the soft
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass  # macOS refuses an unlimited hard limit: keep the soft one
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def build_server(app: web.Application, config: Config, *, max_connections: int,
                 clock: Callable[[], float] = time.monotonic, accept_pause_s: float = 0.5,
                 log_interval_s: float = 60.0) -> BoundedHTTPServer:
    """The server for `app` with config's bounds and at most `max_connections` open; it listens
    on nothing yet (`server.listen` or `server.add_sockets`). One address gets at most half of
    `max_connections`, whatever `connections_per_ip` says, so it never holds them all."""
    per_address = min(config.connections_per_ip, max(max_connections // 2, 1))
    if per_address < config.connections_per_ip:
        log.warning("connections_per_ip is %d, but the descriptor limit allows %d connections in all: "
                    "%d per address (raise `ulimit -n` for more)", config.connections_per_ip,
                    max_connections, per_address)
    return BoundedHTTPServer(
        app, idle_connection_timeout=config.header_timeout_s, body_timeout=config.body_timeout_s,
        max_header_size=config.max_header_bytes,
        bounds=ConnectionBounds(per_address, max_connections, config.trusted_proxies),
        refusals=RefusalLog(log_interval_s, clock), accept_pause_s=accept_pause_s)


def listen(app: web.Application, config: Config,
           sockets: Sequence[socket.socket] | None = None) -> BoundedHTTPServer:
    """Serve `app` behind the connection bounds on `sockets` (bound already), or else on
    config's host and port, after raising the soft descriptor limit to the hard one
    (`reserved_fds` of it are kept free). Raises OSError when the address cannot be bound."""
    fds = raise_fd_limit()
    server = build_server(app, config, max_connections=max(fds - config.reserved_fds, 1))
    if sockets is None:
        server.listen(config.port, address=config.host)
    else:
        server.add_sockets(sockets)
    return server
