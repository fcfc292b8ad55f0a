"""Load generator: N subscriber sockets on one room, one publisher, every delivery timed and checked.

    python -m bench.loadgen --ws-url ws://127.0.0.1:P/ws --http 127.0.0.1:P --subscribers 1000 \\
        --publisher peer                                   # bench/peers/*: POST /publish
    python -m bench.loadgen --ws-url 'ws://127.0.0.1:P/ws/match/M?token=T' --http 127.0.0.1:P \\
        --publisher livebracket --match-id M --token T --version 2 --base-seq 1 [--deflate]

One process, one uvloop loop, picows sockets. It connects the subscribers with at most
`--connect-concurrency` handshakes in flight, waits until every one got its welcome, reads
the server's RSS, then runs two phases on the same sockets:

1. throughput: publish back to back for `--throughput-s` (two requests in flight), pausing
   while `--window` events are not yet delivered to every subscriber or while the oldest of
   them is older than `--max-lag-s`: the rate every subscriber keeps up with;
2. latency: publish `--rate` events per second for `--latency-s`, one request at a time;
   skipped when the throughput phase showed the target cannot deliver that many, and
   stopped early (marked saturated) once the oldest undelivered event is `--give-up-lag-s` old.

The publisher stamps each event's send time (`perf_counter_ns`, taken just before the request
is written) in a table indexed by the event's publish number; a subscriber takes
`perf_counter_ns` when picows hands it the frame and reads the number from the frame's `seq`.
Publisher and subscribers share this process, so one clock serves both. Every subscriber must
get every event exactly once and in order; anything else is counted and reported.

`--deflate`: every subscriber offers permessage-deflate as Chromium does (picows has no
compression of its own: the offer is an extra header, and frames with RSV1 are inflated here
with zlib). The server must answer it (the session fails otherwise). Answered with
`server_no_context_takeover`, each message inflates on its own, and since every socket then
gets the same bytes for an event, the load generator inflates each distinct payload once and
reuses the text for the other sockets (the same bytes inflate to the same text); without it
(context takeover, Tornado's own compression) each socket keeps its inflater and every frame
is inflated on it, in order.

Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import collections
import dataclasses
import gc
import json
import sys
import time
import urllib.parse
import zlib
from typing import Any

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, WSUpgradeResponse, ws_connect

from bench.httpclient import HttpError
from bench.recovery import WELCOME_PREFIX
from bench.publishers import LivebracketPublisher, PeerPublisher, PublishError, Publisher
from bench.system import cpu_times, machine_busy_s, raise_fd_limit, rss_kb

EVENT_PREFIX = b'{"type":"score_updated","seq":'
PING_PREFIX = b'{"type":"ping"'
PONG = b'{"type":"pong"}'
_SEQ_AT = len(EVENT_PREFIX)
MAX_EVENTS = 200_000  # bound on the events of one session, whatever the rate
PIPELINE = 2  # publish requests in flight in the throughput phase
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium offers
_TAIL = b"\x00\x00\xff\xff"  # removed by the sender of each deflated message (RFC 7692 7.2.1)
SOURCE_ADDRESSES = 4  # loopback addresses the subscribers connect from
INFLATED_KEPT = 256  # distinct deflated payloads whose text is kept for the other sockets


def progress(message: str) -> None:
    print(f"[loadgen] {message}", file=sys.stderr, flush=True)


# -- subscribers -----------------------------------------------------------------------------


class Subscriber(WSListener):
    """One socket: tallies the order its events come in and hands each to the session."""

    def __init__(self, session: Session, answer: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.answer = answer  # the server's Sec-WebSocket-Extensions, when permessage-deflate was offered
        # context takeover: this socket's own inflater, fed every compressed frame in order
        self.inflater = (zlib.decompressobj(-zlib.MAX_WBITS)
                         if answer and "server_no_context_takeover" not in answer else None)
        self.transport: WSTransport | None = None
        self.welcomed = False
        self.last = 0  # the highest publish number received
        self.received = 0  # events received in increasing order (each once)
        self.gaps = 0  # times an event came while one before it had not
        self.late = 0  # events received again, or after a later one (duplicate or reordered)
        self.closed_by_server: str | None = None
        self.disconnected = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is WSMsgType.TEXT:
            payload = frame.get_payload_as_bytes()
            wire = len(payload)
            if frame.rsv1:
                payload = self.session.inflate(payload, self.inflater)
            if payload.startswith(EVENT_PREFIX):
                end = payload.index(b",", _SEQ_AT)
                self.session.delivered(self, int(payload[_SEQ_AT:end]), len(payload), wire)
            elif payload.startswith(WELCOME_PREFIX):
                if not self.welcomed:
                    self.welcomed = True
                    self.session.welcomed(self)
            elif payload.startswith(PING_PREFIX):
                transport.send(WSMsgType.TEXT, PONG)
            # presence, ack and anything else: not an event, ignored
        elif frame.msg_type is WSMsgType.CLOSE:
            self.closed_by_server = f"{frame.get_close_code()} {frame.get_close_reason()}"
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.disconnected = True
        self.session.lost(self)


# -- the session -----------------------------------------------------------------------------


def percentile_ms(sorted_ns: list[int], q: float) -> float | None:
    """The q-quantile (nearest rank) of sorted nanoseconds, in ms; None when empty."""
    if not sorted_ns:
        return None
    index = min(len(sorted_ns) - 1, max(0, round(q * (len(sorted_ns) - 1))))
    return round(sorted_ns[index] / 1e6, 3)


@dataclasses.dataclass
class Phase:
    """When one phase ran and what the CPUs did meanwhile (figures: `Session.summary`)."""

    index: int  # 0 throughput, 1 latency
    first: int  # its first event
    t0_ns: int
    cpu0: tuple[float, float]
    own0: float
    busy0: float
    last: int = 0
    publish_end_ns: int = 0
    cpu_end_ns: int = 0
    cpu1: tuple[float, float] = (0.0, 0.0)
    own1: float = 0.0
    busy1: float = 0.0
    drained: bool = False
    saturated: bool = False


class Session:
    """Subscribers, publisher and the tallies of one benchmark session on one target."""

    def __init__(self, n: int, publisher: Publisher, window: int, server_pid: int | None) -> None:
        self.n = n
        self.publisher = publisher
        self.window = window
        self.server_pid = server_pid
        self.subscribers: list[Subscriber] = []
        self.welcome_count = 0
        self.all_welcomed = asyncio.Event()
        self.lost_count = 0
        self.send_ns = array.array("q", bytes(8 * (MAX_EVENTS + 2)))
        self.counts = array.array("i", bytes(4 * (MAX_EVENTS + 2)))
        self.published = 0
        self.done = 0  # every event up to this one reached every subscriber
        self.progressed = asyncio.Event()
        self.boundary = MAX_EVENTS + 1  # events above it belong to the latency phase
        self.latencies = (array.array("q"), array.array("q"))
        self.last_delivery_ns = [0, 0]
        self.frame_bytes = 0
        self.wire_bytes = 0  # the same event's payload as it came (deflated, when it was)
        self.foreign = 0  # event frames whose number was never published
        self.inflated: dict[bytes, bytes] = {}  # deflated payload -> its text (no context takeover)
        self.compressed_frames = 0

    # callbacks from subscribers (the hot path)

    def inflate(self, payload: bytes, inflater: Any) -> bytes:
        """A deflated message's text: on the socket's own inflater (context takeover), or
        inflated once per distinct payload (every socket gets the same bytes)."""
        self.compressed_frames += 1
        if inflater is not None:
            text: bytes = inflater.decompress(payload + _TAIL)
            return text
        text = self.inflated.get(payload, b"")
        if not text:
            if len(self.inflated) >= INFLATED_KEPT:
                self.inflated.clear()
            text = self.inflated[payload] = zlib.decompressobj(-zlib.MAX_WBITS).decompress(payload + _TAIL)
        return text

    def delivered(self, sub: Subscriber, seq: int, size: int, wire: int) -> None:
        now = time.perf_counter_ns()
        k = seq - self.publisher.base_seq
        if k == sub.last + 1:
            sub.last = k
            sub.received += 1
        elif k > sub.last:
            sub.gaps += 1
            sub.last = k
            sub.received += 1
        else:
            sub.late += 1
        if not 0 < k <= self.published:
            self.foreign += 1
            return
        phase = 0 if k <= self.boundary else 1
        self.latencies[phase].append(now - self.send_ns[k])
        self.last_delivery_ns[phase] = now
        counts = self.counts
        counts[k] += 1
        if k == self.done + 1 and counts[k] >= self.n:
            done = k
            while counts[done + 1] >= self.n and done < self.published:
                done += 1
            self.done = done
            self.frame_bytes = size
            self.wire_bytes = wire
            self.progressed.set()

    def welcomed(self, sub: Subscriber) -> None:
        self.welcome_count += 1
        if self.welcome_count >= self.n:
            self.all_welcomed.set()

    def lost(self, sub: Subscriber) -> None:
        self.lost_count += 1
        self.progressed.set()

    # phases

    async def connect(self, url: str, concurrency: int, timeout_s: float, deflate: bool = False) -> float:
        """Open every subscriber, at most `concurrency` handshakes at a time; seconds taken.
        `deflate`: offer permessage-deflate; a socket the server does not answer it on fails."""
        started = time.perf_counter()
        gate = asyncio.Semaphore(concurrency)
        failures: list[str] = []
        offer = {"Sec-WebSocket-Extensions": DEFLATE_OFFER} if deflate else None

        def subscriber(request: WSUpgradeRequest, response: WSUpgradeResponse) -> Subscriber:
            answer = response.headers.get("Sec-WebSocket-Extensions")
            if deflate and not (answer or "").startswith("permessage-deflate"):
                raise ValueError(f"permessage-deflate offered, answered {answer!r}")  # fails the connect
            return Subscriber(self, answer if deflate else None)

        async def one(i: int) -> None:
            # from 127.0.0.1 to 127.0.0.4 in turn: a server admits at most half its descriptor
            # limit from one address (20,000 here: 9,936), and 10,000 subscribers are more
            source: dict[str, Any] = {"local_addr": (f"127.0.0.{1 + i % SOURCE_ADDRESSES}", 0)} if loopback else {}
            async with gate:
                for attempt in range(4):
                    try:
                        _, sub = await ws_connect(subscriber, url, enable_auto_ping=False, extra_headers=offer,
                                                  read_buffer_init_size=4096, websocket_handshake_timeout=20,
                                                  **source)
                        assert isinstance(sub, Subscriber)
                        self.subscribers.append(sub)
                        return
                    except Exception as e:  # refused, reset, timed out, handshake error: retried, then reported
                        if attempt == 3:
                            failures.append(repr(e))
                        await asyncio.sleep(0.2 * (attempt + 1))

        loopback = urllib.parse.urlsplit(url).hostname == "127.0.0.1"
        tasks = [asyncio.ensure_future(one(i)) for i in range(self.n)]
        step = max(1, self.n // 5)
        deadline = started + timeout_s
        while tasks and time.perf_counter() < deadline:
            done, pending = await asyncio.wait(tasks, timeout=1.0)
            tasks = list(pending)
            if len(self.subscribers) // step != (len(self.subscribers) - len(done)) // step:
                progress(f"connected {len(self.subscribers)}/{self.n}")
        for task in tasks:
            task.cancel()
        if failures or len(self.subscribers) < self.n:
            raise SystemExit(f"loadgen: only {len(self.subscribers)}/{self.n} sockets connected "
                             f"({len(failures)} failed, e.g. {failures[:1]})")
        try:
            await asyncio.wait_for(self.all_welcomed.wait(), max(1.0, deadline - time.perf_counter()))
        except asyncio.TimeoutError:
            raise SystemExit(f"loadgen: only {self.welcome_count}/{self.n} sockets were welcomed") from None
        return time.perf_counter() - started

    def _send(self, k: int) -> None:
        self.send_ns[k] = time.perf_counter_ns()
        self.published = k
        self.publisher.send(k)

    def deliveries(self) -> int:
        return len(self.latencies[0]) + len(self.latencies[1])

    async def wait_progress(self, stall_s: float) -> bool:
        """Wait until one more event reached every subscriber (True), or until no delivery
        at all came for `stall_s` (False)."""
        seen, seen_at = self.deliveries(), time.monotonic()
        self.progressed.clear()
        while True:
            try:
                await asyncio.wait_for(self.progressed.wait(), 0.25)
                return True
            except asyncio.TimeoutError:
                pass
            if self.deliveries() != seen:
                seen, seen_at = self.deliveries(), time.monotonic()
            elif time.monotonic() - seen_at > stall_s:
                return False

    async def drain(self, upto: int, stall_s: float, cap_s: float) -> bool:
        """Wait until every event up to `upto` reached every subscriber, or no delivery came
        for `stall_s`, or `cap_s` passed. True when complete."""
        deadline = time.monotonic() + cap_s
        while self.done < upto and not self.lost_count and time.monotonic() < deadline:
            if not await self.wait_progress(min(stall_s, max(0.0, deadline - time.monotonic()))):
                break
        return self.done >= upto

    def lag_s(self) -> float:
        """Age of the oldest event not yet delivered to every subscriber (0 when none is)."""
        if self.done >= self.published:
            return 0.0
        return (time.perf_counter_ns() - self.send_ns[self.done + 1]) / 1e9

    async def throughput(self, duration_s: float, max_lag_s: float, stall_s: float, cap_s: float) -> Phase:
        """Publish as fast as the target takes it for `duration_s`, then drain."""
        phase = self._begin(0)
        await self._throughput_publish(duration_s, max_lag_s, stall_s)
        self.boundary = self.published
        return await self._end(phase, stall_s, cap_s)

    async def _throughput_publish(self, duration_s: float, max_lag_s: float, stall_s: float) -> None:
        """Publish back to back with `PIPELINE` requests in flight, pausing while `window`
        events are undelivered or the oldest of them is older than `max_lag_s`: the rate
        that every subscriber keeps up with."""
        end = time.perf_counter() + duration_s
        k = self.published
        answers: collections.deque[int] = collections.deque()
        try:
            while time.perf_counter() < end and k < MAX_EVENTS // 2 and not self.lost_count:
                while k - self.done >= self.window or self.lag_s() > max_lag_s:
                    if not await self.wait_progress(stall_s):
                        progress(f"no delivery for {stall_s}s: stopping the throughput phase")
                        return
                    if self.lost_count:
                        return
                while len(answers) >= PIPELINE:
                    await self.publisher.receive(answers.popleft())
                k += 1
                self._send(k)
                answers.append(k)
        finally:
            while answers:
                await self.publisher.receive(answers.popleft())

    async def latency(self, rate: float, duration_s: float, give_up_lag_s: float, stall_s: float,
                      cap_s: float) -> Phase:
        """Publish `rate` events per second for `duration_s` (one request at a time), then drain."""
        phase = self._begin(1)
        count = min(int(rate * duration_s), MAX_EVENTS // 2)
        first = self.published
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.lost_count:
                break
            if self.published - self.done >= self.window or self.lag_s() > give_up_lag_s:
                phase.saturated = True  # it cannot keep this rate: stop before the backlog grows
                progress(f"saturated: {self.published - self.done} events undelivered, the oldest "
                         f"{self.lag_s():.1f}s old; the latency phase stops early")
                break
            self._send(first + i + 1)
            await self.publisher.receive(first + i + 1)
        return await self._end(phase, stall_s, cap_s)

    def _begin(self, index: int) -> Phase:
        return Phase(index, self.published + 1, time.perf_counter_ns(), cpu_times(self.server_pid),
                     time.process_time(), machine_busy_s())

    async def _end(self, phase: Phase, stall_s: float, cap_s: float) -> Phase:
        phase.last = self.published
        phase.publish_end_ns = time.perf_counter_ns()
        phase.drained = await self.drain(phase.last, stall_s, cap_s)
        phase.cpu1, phase.own1, phase.busy1 = cpu_times(self.server_pid), time.process_time(), machine_busy_s()
        phase.cpu_end_ns = time.perf_counter_ns()
        return phase

    def summary(self, phase: Phase) -> dict[str, Any]:
        """The phase's figures, from every delivery of its events so far."""
        lat = sorted(self.latencies[phase.index])
        events = phase.last - phase.first + 1
        wall_s = max(1e-9, (max(self.last_delivery_ns[phase.index], phase.t0_ns) - phase.t0_ns) / 1e9)
        cpu_s = max(1e-9, (phase.cpu_end_ns - phase.t0_ns) / 1e9)
        server = self.server_pid is not None
        return {
            "events": events, "deliveries": len(lat), "expected": events * self.n,
            "drained_in_time": phase.drained,
            "publish_s": round((phase.publish_end_ns - phase.t0_ns) / 1e9, 3), "wall_s": round(wall_s, 3),
            "deliveries_per_s": round(len(lat) / wall_s, 1), "events_per_s": round(events / wall_s, 2),
            "p50_ms": percentile_ms(lat, 0.50), "p99_ms": percentile_ms(lat, 0.99),
            "max_ms": round(lat[-1] / 1e6, 3) if lat else None,
            "server_cpu_pct": round(100 * (sum(phase.cpu1) - sum(phase.cpu0)) / cpu_s, 1) if server else None,
            "server_sys_pct": round(100 * (phase.cpu1[1] - phase.cpu0[1]) / cpu_s, 1) if server else None,
            "loadgen_cpu_pct": round(100 * (phase.own1 - phase.own0) / cpu_s, 1),
            # everything else the cores did meanwhile: other processes, and the kernel's
            # softirq work (loopback packets) not charged to either process
            "other_cpu_pct": round(max(0.0, 100 * ((phase.busy1 - phase.busy0) - (sum(phase.cpu1) - sum(phase.cpu0))
                                                   - (phase.own1 - phase.own0)) / cpu_s), 1) if server else None,
            **({"saturated": True} if phase.saturated else {}),
        }

    def verdict(self) -> dict[str, Any]:
        """Did every subscriber get every published event exactly once, in order?"""
        total = self.published
        missing = sum(max(0, total - s.received) for s in self.subscribers)
        gaps = sum(s.gaps for s in self.subscribers)
        late = sum(s.late for s in self.subscribers)
        short = [s for s in self.subscribers if s.received != total or s.gaps or s.late]
        closes = sorted({s.closed_by_server for s in self.subscribers if s.closed_by_server})
        return {"events_published": total, "missing": missing, "gaps": gaps, "duplicate_or_late": late,
                "subscribers_incomplete": len(short), "disconnected": self.lost_count,
                "foreign_events": self.foreign, "server_close_codes": closes,
                "ok": not (missing or gaps or late or self.lost_count or self.foreign)}

    async def close(self) -> None:
        for sub in self.subscribers:
            if sub.transport is not None and not sub.disconnected:
                sub.transport.send_close()
                sub.transport.disconnect()
        self.publisher.close()
        await asyncio.sleep(0.2)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    host, _, port = args.http.rpartition(":")
    publisher: Publisher
    if args.publisher == "livebracket":
        publisher = LivebracketPublisher(host, int(port), args.match_id, args.token, args.version, args.base_seq)
    else:
        publisher = PeerPublisher(host, int(port), args.publish_path, args.frame_bytes)
    session = Session(args.subscribers, publisher, args.window, args.server_pid)
    result: dict[str, Any] = {"subscribers": args.subscribers, "window": args.window,
                              "fd_limit": raise_fd_limit()}
    pid = args.server_pid
    result["rss_before_kb"] = rss_kb(pid) if pid else None
    progress(f"connecting {args.subscribers} subscribers")
    result["connect_s"] = round(await session.connect(args.ws_url, args.connect_concurrency, args.connect_timeout_s,
                                                      args.deflate), 2)
    result["extension"] = session.subscribers[0].answer if args.deflate else None
    await asyncio.sleep(args.settle_s)  # joins announced (presence), buffers drained
    # Only now: a keep-alive connection opened before a slow connect phase idles past the
    # server's head timeout (10 s) and is closed under the publisher.
    await publisher.open()
    result["rss_after_kb"] = rss_kb(pid) if pid else None
    if pid:
        result["rss_per_socket_kb"] = round((result["rss_after_kb"] - result["rss_before_kb"]) / args.subscribers, 2)
    gc.collect()
    gc.freeze()  # the sockets and tallies stay; keep the collector off them
    profiler = None
    phases: dict[str, Phase] = {}
    try:
        if args.profile_out and pid:
            profiler = await asyncio.create_subprocess_exec(
                args.py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "100",
                "--native", "--duration", str(int(args.throughput_s) + 1), "-o", args.profile_out,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await asyncio.sleep(0.5)
        progress(f"throughput: publishing as fast as it keeps up for {args.throughput_s}s "
                 f"(window {args.window} events, lag {args.max_lag_s}s)")
        phases["throughput"] = await session.throughput(args.throughput_s, args.max_lag_s, args.stall_s,
                                                        args.drain_cap_s)
        capacity = session.summary(phases["throughput"])["deliveries_per_s"]
        progress(f"throughput: {capacity:.0f} deliveries/s")
        if profiler is not None:
            try:
                await asyncio.wait_for(profiler.wait(), 30)
            except asyncio.TimeoutError:
                profiler.kill()
                progress("py-spy did not finish; its profile may be missing")
        await asyncio.sleep(0.5)
        needed = args.rate * args.subscribers
        if capacity < needed and not args.force_latency:
            result["latency"] = {"skipped": f"needs {needed:.0f} deliveries/s, sustains {capacity:.0f}",
                                 "saturated": True}
            progress(f"latency: skipped ({result['latency']['skipped']})")
        else:
            progress(f"latency: {args.rate} events/s for {args.latency_s}s")
            phases["latency"] = await session.latency(args.rate, args.latency_s, args.give_up_lag_s,
                                                      args.stall_s, args.drain_cap_s)
    except (PublishError, HttpError) as e:
        result["error"] = str(e)
        progress(f"FAIL: {e}")
    if not await session.drain(session.published, args.stall_s, args.drain_cap_s):
        progress("some events never reached every subscriber")
    for name, phase in phases.items():
        result[name] = session.summary(phase)
    if "latency" in phases:
        progress(f"latency: p50 {result['latency']['p50_ms']} ms, p99 {result['latency']['p99_ms']} ms")
    result["frame_bytes"] = session.frame_bytes
    result["wire_bytes"] = session.wire_bytes
    result["compressed_frames"] = session.compressed_frames
    result["verdict"] = session.verdict()
    if args.deflate and not session.compressed_frames:
        result["verdict"]["ok"] = False
        progress("FAIL: permessage-deflate was answered but no frame came compressed")
    if not result["verdict"]["ok"]:
        progress(f"FAIL: deliveries incomplete: {json.dumps(result['verdict'])}")
    await session.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ws-url", required=True, help="subscriber URL (loopback)")
    parser.add_argument("--http", required=True, help="host:port the publisher posts to")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--publisher", choices=("livebracket", "peer"), required=True)
    parser.add_argument("--publish-path", default="/publish")
    parser.add_argument("--frame-bytes", type=int, default=0,
                        help="peer events: pad to this many bytes of JSON (livebracket's frame size)")
    parser.add_argument("--match-id")
    parser.add_argument("--token")
    parser.add_argument("--version", type=int, default=0, help="the match's version before the first publish")
    parser.add_argument("--base-seq", type=int, default=0, help="the match's seq before the first publish")
    parser.add_argument("--throughput-s", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=64,
                        help="events published but not yet delivered to every subscriber, at most")
    parser.add_argument("--max-lag-s", type=float, default=1.0,
                        help="throughput phase: pause while the oldest undelivered event is older")
    parser.add_argument("--give-up-lag-s", type=float, default=2.0,
                        help="latency phase: stop (saturated) once the oldest undelivered event is older")
    parser.add_argument("--force-latency", action="store_true",
                        help="run the latency phase even when the throughput phase says it cannot keep up")
    parser.add_argument("--rate", type=float, default=5.0, help="events per second in the latency phase")
    parser.add_argument("--latency-s", type=float, default=10.0)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--connect-timeout-s", type=float, default=120.0)
    parser.add_argument("--settle-s", type=float, default=1.5)
    parser.add_argument("--stall-s", type=float, default=10.0, help="give up after this long without a delivery")
    parser.add_argument("--drain-cap-s", type=float, default=60.0, help="longest wait for a phase to drain")
    parser.add_argument("--deflate", action="store_true",
                        help="offer permessage-deflate (as Chromium does) and inflate what comes compressed")
    parser.add_argument("--server-pid", type=int, help="for RSS and CPU readings from /proc")
    parser.add_argument("--profile-out", help="py-spy the server during the throughput phase (raw stacks)")
    parser.add_argument("--py-spy", default="py-spy")
    args = parser.parse_args(argv)
    if args.publisher == "livebracket" and not (args.match_id and args.token and args.version):
        parser.error("--publisher livebracket needs --match-id, --token and --version")
    result = uvloop.run(run(args))  # its read path costs the generator's core less than asyncio's
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
