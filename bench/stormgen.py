"""Reconnect storm load generator: a tournament room's sockets drop at once and recover.

    python -m bench.stormgen --http 127.0.0.1:P --token T --tournament-id TID \\
        --matches M1:VERSION:SEQ:P1:P2,M2:... [--storm 2000] [--live-rooms 4 --live-per-room 50]

One process, one uvloop loop, picows sockets (bench/storm.py starts it on a core of its own).
It opens, with at most `--connect-concurrency` handshakes in flight:

- `--storm` sockets on the tournament room: the ones that drop;
- `--control` sockets on the same room that stay (the room's own live latency, and its head);
- `--live-per-room` sockets on each of the first `--live-rooms` match rooms: the live rooms.

A publisher posts `--rate` guarded scores a second (`POST /api/matches/<id>/score` with
`If-Match`), round robin over the `--matches`, one keep-alive connection per match so that a
slow answer delays no other match's publish (open loop: each request goes at its slot, answered
or not). After `--before-s`, every storm socket is dropped in one pass (`--drop reset`: the TCP
connection reset, no close frame, as when a Wi-Fi blip ends in an RST; `--drop silent`: left
open and unread, as the server sees a blip until its heartbeat), and each reconnects after its
own delay drawn uniformly in `--jitter-s` with `?since=<last seq received>&epoch=<epoch>`. A
reconnect that fails or is refused is retried as static/js/live.js does (the wait doubles from
2 s, "equal jitter", at least 10 s after a limit's refusal). The publisher keeps going until
`--after-s` after the last socket recovered.

Checked per socket, across its connections (`bench.recovery.Stream`): every numbered event
after the first welcome exactly once and in order, and every reconnect answered `recovered:
true` under the same epoch. A storm socket has *recovered* when, after its welcome, the replay
(the events up to the welcome's `seq`) and the first live event (`seq` + 1) arrived in order;
its time is from its first reconnect attempt. Live-room latency is the match room's delivery
time minus the moment its publish request was written, grouped by the publish time: before the
drop, during (from the drop until every storm socket recovered), after. Prints one JSON object
on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import socket
import struct
import sys
import time
from typing import Any

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from bench.publishers import ScoreWriter
from bench.recovery import WELCOME_PREFIX, Stream, numbered, room_head, welcome_fields
from bench.system import cpu_times, listen_drops, machine_busy_s, raise_fd_limit, rss_kb

PING_PREFIX = b'{"type":"ping"'
PONG = b'{"type":"pong"}'
SCORES_UPDATED = "scores_updated"  # a tournament room's scores of one window (docs/protocol.md#tournament-rooms)
NS = 1_000_000_000


def progress(message: str) -> None:
    print(f"[stormgen] {message}", file=sys.stderr, flush=True)


# -- sockets ---------------------------------------------------------------------------------


STORM, CONTROL, LIVE = "storm", "control", "live"


class Client:
    """One page's socket across its connections: its stream, its timings (perf_counter_ns)."""

    def __init__(self, gen: StormGen, kind: str, url: str, match: int = -1) -> None:
        self.gen = gen
        self.kind = kind
        self.url = url
        self.match = match  # the live room's match (index into the writers), -1 for tournament sockets
        self.stream = Stream()
        self.conn: Connection | None = None
        self.reconnect_ns = 0  # its first reconnect attempt began
        self.attempts = 0
        self.failures: list[str] = []
        self.opened_ns = 0  # handshake done
        self.welcome_ns = 0
        self.welcome_bytes = 0
        self.replayed_ns = 0  # the last replay frame arrived (the welcome, when there was none)
        self.live_ns = 0  # the first live event arrived: recovered
        self.lost = 0  # connections lost that this client did not drop itself
        self.closed_by_server: str | None = None


class Connection(WSListener):
    """One connection of a client; after a drop it is `dead` and what it still reads is ignored."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client
        self.transport: WSTransport | None = None
        self.dead = False
        self.disconnected = False
        self.ended = asyncio.get_running_loop().create_future()  # True: welcomed; False: closed first

    def _end(self, welcomed: bool) -> None:
        if not self.ended.done():
            self.ended.set_result(welcomed)

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if self.dead:
            return
        client = self.client
        if frame.msg_type is WSMsgType.TEXT:
            now = time.perf_counter_ns()
            payload = frame.get_payload_as_bytes()
            seq = numbered(payload)
            if seq is not None:
                stream = client.stream
                if stream.event(seq, len(payload)):
                    client.live_ns = now
                    if client.kind is STORM and client.reconnect_ns:
                        client.gen.recovered(client)
                elif seq <= stream.snapshot_seq:
                    client.replayed_ns = now
                if client.kind is LIVE:
                    client.gen.live_delivery(client.match, seq, now)
                elif client.kind is CONTROL:
                    client.gen.room_delivery(payload, now)
            elif payload.startswith(WELCOME_PREFIX):
                seq_, epoch, recovered = welcome_fields(payload)
                client.stream.welcome(seq_, epoch, recovered)
                client.welcome_ns = client.replayed_ns = now
                client.welcome_bytes = len(payload)
                client.gen.welcomed(client)
                self._end(True)
            elif payload.startswith(PING_PREFIX):
                transport.send(WSMsgType.TEXT, PONG)
            # presence and anything else: not an event
        elif frame.msg_type is WSMsgType.CLOSE:
            client.closed_by_server = f"{frame.get_close_code()} {frame.get_close_reason()}"
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.disconnected = True
        self._end(False)
        if not self.dead:
            self.client.lost += 1
            self.client.gen.lost(self.client)

    def drop(self, mode: str) -> None:
        """End this connection without a close frame: `reset` sends a TCP RST at once;
        `silent` leaves it open and stops reading it (the server finds out by itself)."""
        self.dead = True
        assert self.transport is not None
        underlying = self.transport.underlying_transport
        if mode == "silent":
            underlying.pause_reading()
            return
        sock = underlying.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        underlying.abort()


# -- the run ---------------------------------------------------------------------------------


def quantiles(values: list[float], digits: int = 1) -> dict[str, float | None]:
    """min, p50, p99, max (nearest rank) of `values`."""
    if not values:
        return {"min": None, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], digits)

    return {"min": at(0.0), "p50": at(0.5), "p99": at(0.99), "max": at(1.0)}


class StormGen:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        host, _, port = args.http.rpartition(":")
        self.host, self.port = host, int(port)
        self.writers: list[ScoreWriter] = []
        self.players: list[tuple[str, str]] = []
        for spec in args.matches.split(","):
            match_id, version, seq, a, b = spec.split(":")
            self.writers.append(ScoreWriter(host, int(port), args.token, match_id, int(version), int(seq)))
            self.players.append((a, b))
        self.by_match = {w.match_id: i for i, w in enumerate(self.writers)}
        base = f"ws://{args.http}"
        room = self.room_url = f"{base}/ws/tournament/{args.tournament_id}?token={args.token}"
        self.clients = [Client(self, STORM, room) for _ in range(args.storm)]
        self.clients += [Client(self, CONTROL, room) for _ in range(args.control)]
        for m in range(min(args.live_rooms, len(self.writers))):
            url = f"{base}/ws/match/{self.writers[m].match_id}?token={args.token}"
            self.clients += [Client(self, LIVE, url, m) for _ in range(args.live_per_room)]
        self.storm = [c for c in self.clients if c.kind is STORM]
        self.welcome_count = 0
        self.all_welcomed = asyncio.Event()
        self.recovered_count = 0
        self.all_recovered = asyncio.Event()
        self.lost_count = 0
        self.live_sends: list[int] = []  # per live delivery: its publish's send time, and its latency
        self.live_latency: list[int] = []
        self.room_sends: list[int] = []  # the same for the control sockets (the stormed room itself)
        self.room_latency: list[int] = []
        self.foreign = 0  # events no publish of this run made
        self.drop_ns = 0

    # callbacks (the hot path)

    def welcomed(self, client: Client) -> None:
        if client.stream.welcomes == 1:
            self.welcome_count += 1
            if self.welcome_count >= len(self.clients):
                self.all_welcomed.set()

    def recovered(self, client: Client) -> None:
        self.recovered_count += 1
        if self.recovered_count >= len(self.storm):
            self.all_recovered.set()

    def lost(self, client: Client) -> None:
        self.lost_count += 1

    def live_delivery(self, m: int, seq: int, now: int) -> None:
        writer = self.writers[m]
        j = seq - writer.base_seq
        if not 0 < j <= len(writer.send_ns):
            self.foreign += 1
            return
        sent = writer.send_ns[j - 1]
        self.live_sends.append(sent)
        self.live_latency.append(now - sent)

    def room_delivery(self, payload: bytes, now: int) -> None:
        """A stormed-room frame on a control socket: the latency of each score it carries (a
        `scores_updated` lists the latest of each match in its window; any other event is one)."""
        frame = json.loads(payload)
        data = frame.get("data") or {}
        if frame.get("type") == SCORES_UPDATED:
            scores = [(u.get("match_id"), u.get("match_seq")) for u in data.get("updates", ())]
        else:
            scores = [(data.get("match_id"), frame.get("match_seq"))]
        for match_id, match_seq in scores:
            m = self.by_match.get(match_id)
            writer = self.writers[m] if m is not None else None
            j = match_seq - writer.base_seq if writer is not None and isinstance(match_seq, int) else 0
            if writer is None or not 0 < j <= len(writer.send_ns):
                self.foreign += 1
                continue
            sent = writer.send_ns[j - 1]
            self.room_sends.append(sent)
            self.room_latency.append(now - sent)

    # phases

    async def connect(self, client: Client, timeout_s: float = 20.0) -> bool:
        """One connection for `client` (with ?since=&epoch= once it has a stream). False on failure."""
        url = client.url
        if client.stream.since is not None:
            url += f"&since={client.stream.since}&epoch={client.stream.epoch}"
        client.attempts += 1
        try:
            _, conn = await ws_connect(lambda: Connection(client), url, enable_auto_ping=False,
                                       read_buffer_init_size=4096, websocket_handshake_timeout=timeout_s)
        except Exception as e:  # refused, reset, timed out: the caller retries
            client.failures.append(type(e).__name__)
            return False
        assert isinstance(conn, Connection)
        client.conn = conn
        client.opened_ns = time.perf_counter_ns()
        return True

    async def connect_all(self) -> float:
        started = time.perf_counter()
        gate = asyncio.Semaphore(self.args.connect_concurrency)

        async def one(client: Client) -> None:
            async with gate:
                for attempt in range(4):
                    if await self.connect(client):
                        return
                    await asyncio.sleep(0.2 * (attempt + 1))

        await asyncio.gather(*(one(c) for c in self.clients))
        missing = [c for c in self.clients if c.conn is None]
        if missing:
            raise SystemExit(f"stormgen: {len(missing)} of {len(self.clients)} sockets did not connect "
                             f"({missing[0].failures[-1:]})")
        try:
            await asyncio.wait_for(self.all_welcomed.wait(), 60)
        except asyncio.TimeoutError:
            raise SystemExit(f"stormgen: only {self.welcome_count}/{len(self.clients)} sockets were welcomed") from None
        return time.perf_counter() - started

    async def publish(self, stop: asyncio.Event) -> int:
        """`--rate` scores a second, round robin over the matches, each at its slot; returns how many."""
        rate, writers = self.args.rate, self.writers
        start = time.perf_counter()
        i = 0
        while not stop.is_set():
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    break
                except asyncio.TimeoutError:
                    pass
            if any(w.error for w in writers):
                break
            m = i % len(writers)
            writers[m].send(self.players[m])
            i += 1
        return i

    async def reconnect(self, client: Client, delay_s: float) -> None:
        """After `delay_s`, reconnect with since/epoch; a failed connect, or a refusal (closed
        before its welcome), is retried as static/js/live.js does: the wait doubles from 2 s
        with equal jitter, and is at least 10 s after a limit's refusal (4030, 4031)."""
        await asyncio.sleep(delay_s)
        client.stream.reconnecting()
        client.reconnect_ns = time.perf_counter_ns()
        client.live_ns = client.welcome_ns = client.replayed_ns = 0
        backoff = 2.0
        while True:
            if await self.connect(client):
                assert client.conn is not None
                if await client.conn.ended:
                    return
            wait = backoff
            code = (client.closed_by_server or "").split(" ")[0]
            if client.conn is not None and client.conn.disconnected and code:
                client.failures.append(f"refused {code}")
            if code in ("4030", "4031"):
                wait = max(wait, 10.0)  # the refusal's retry_after_ms
            backoff = min(2 * backoff, 30.0)
            await asyncio.sleep(wait / 2 + random.random() * wait / 2)

    def drain_done(self, heads: dict[int, int], tournament_head: int) -> bool:
        for c in self.clients:
            if c.conn is None or c.conn.disconnected:
                continue
            target = heads[c.match] if c.kind is LIVE else tournament_head
            if c.stream.last < target:
                return False
        return True


def _cpu(pid: int | None) -> tuple[float, float, float, float]:
    """(time, server CPU s, this process's CPU s, machine busy s)."""
    return time.perf_counter(), sum(cpu_times(pid)), time.process_time(), machine_busy_s()


def _share(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> dict[str, float]:
    wall = max(1e-9, b[0] - a[0])
    server, own = (b[1] - a[1]) / wall, (b[2] - a[2]) / wall
    other = max(0.0, (b[3] - a[3]) / wall - server - own)
    return {"s": round(wall, 2), "server_cpu_pct": round(100 * server, 1), "loadgen_cpu_pct": round(100 * own, 1),
            "other_cpu_pct": round(100 * other, 1)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    gen = StormGen(args)
    pid = args.server_pid
    result: dict[str, Any] = {"storm": args.storm, "control": args.control, "live_rooms": args.live_rooms,
                              "live_per_room": args.live_per_room, "rate": args.rate, "drop": args.drop,
                              "jitter_s": args.jitter_s, "fd_limit": raise_fd_limit()}
    progress(f"connecting {len(gen.clients)} sockets ({args.storm} storm, {args.control} control, "
             f"{args.live_rooms} x {args.live_per_room} live)")
    result["connect_s"] = round(await gen.connect_all(), 2)
    await asyncio.sleep(args.settle_s)
    for w in gen.writers:
        await w.conn.open()
    readers = [asyncio.ensure_future(w.answers()) for w in gen.writers]
    gc.collect()
    gc.freeze()
    result["rss_before_kb"] = rss_kb(pid) if pid else None
    room_base = gen.storm[0].stream.last
    samples: list[tuple[float, float, float, float]] = []

    async def sample() -> None:
        while True:
            samples.append(_cpu(pid))
            await asyncio.sleep(0.25)

    sampler = asyncio.ensure_future(sample())
    stop = asyncio.Event()
    publisher = asyncio.ensure_future(gen.publish(stop))
    marks = {"start": _cpu(pid)}
    progress(f"publishing {args.rate:g} scores/s over {len(gen.writers)} matches; the drop in {args.before_s:g}s")
    await asyncio.sleep(args.before_s)
    profiler = None
    if args.profile_out and pid:
        profiler = await asyncio.create_subprocess_exec(
            args.py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "100", "--native",
            "--duration", str(int(args.profile_s)), "-o", args.profile_out,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await asyncio.sleep(0.5)
    marks["drop"] = _cpu(pid)
    drops0 = listen_drops()
    result["drop_wall_s"] = time.time()  # to line other records (a server's own log) up with the storm
    gen.drop_ns = time.perf_counter_ns()
    low, high = args.jitter_s
    for client in gen.storm:
        assert client.conn is not None
        client.conn.drop(args.drop)
    dropped = [c.conn for c in gen.storm]
    tasks = [asyncio.ensure_future(gen.reconnect(c, random.uniform(low, high))) for c in gen.storm]
    progress(f"dropped {len(gen.storm)} sockets ({args.drop}); reconnecting within {low:g}-{high:g}s")
    try:
        await asyncio.wait_for(gen.all_recovered.wait(), args.recover_cap_s)
    except asyncio.TimeoutError:
        progress(f"only {gen.recovered_count}/{len(gen.storm)} recovered within {args.recover_cap_s:g}s")
    marks["recovered"] = _cpu(pid)
    result["listen_drops"] = {k: v - drops0.get(k, 0) for k, v in listen_drops().items()}
    result["recovered_wall_s"] = time.time()
    recovered_ns = time.perf_counter_ns()
    await asyncio.sleep(args.after_s)
    marks["end"] = _cpu(pid)
    stop.set()
    published = await publisher
    for task in tasks:
        task.cancel()
    for w in gen.writers:
        if w.error is None:
            try:
                await asyncio.wait_for(w.pending.join(), 30)
            except asyncio.TimeoutError:
                w.error = f"{w.match_id}: answers still missing after 30 s"
    for r in readers:
        r.cancel()
    sampler.cancel()
    if profiler is not None:
        try:
            await asyncio.wait_for(profiler.wait(), 30)
        except asyncio.TimeoutError:
            profiler.kill()
    heads = {m: w.base_seq + len(w.send_ns) for m, w in enumerate(gen.writers)}
    # The room's scores of a window are one event: its head is what a fresh socket is welcomed at
    # once the last window is sent.
    await asyncio.sleep(2 * args.batch_window_s)
    head = await room_head(gen.room_url)
    deadline = time.monotonic() + args.drain_s
    while not gen.drain_done(heads, head) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    result["rss_after_kb"] = rss_kb(pid) if pid else None

    # -- figures --
    ms = 1e6
    drop = gen.drop_ns
    storm = gen.storm
    done = [c for c in storm if c.live_ns and c.reconnect_ns]
    result["published"] = published
    result["room_seq"] = {"before": room_base, "expected_head": head,
                          "control_head": max((c.stream.last for c in gen.clients if c.kind is CONTROL), default=None)}
    result["reconnect_at_s"] = quantiles([(c.reconnect_ns - drop) / NS for c in storm if c.reconnect_ns], 3)
    result["welcome_ms"] = quantiles([(c.welcome_ns - c.reconnect_ns) / ms for c in done])
    result["replay_ms"] = quantiles([(c.replayed_ns - c.welcome_ns) / ms for c in done])  # welcome -> last replayed
    result["recover_ms"] = quantiles([(c.live_ns - c.reconnect_ns) / ms for c in done])
    result["all_recovered_after_drop_s"] = (round((max(c.live_ns for c in done) - drop) / NS, 3)
                                            if len(done) == len(storm) else None)
    result["recovered_by_s"] = {str(s): sum(1 for c in done if c.live_ns - drop <= s * NS) for s in range(1, 11)}
    result["over_3s"] = sum(1 for c in done if c.live_ns - c.reconnect_ns > 3 * NS)
    result["replay_frames"] = quantiles([c.stream.replay_frames for c in done], 0)
    result["replay_bytes"] = quantiles([c.stream.replay_bytes for c in done], 0)
    result["welcome_bytes"] = quantiles([c.welcome_bytes for c in done], 0)
    result["retries"] = {"total": sum(c.attempts - 1 for c in storm), "failed": sum(len(c.failures) for c in storm),
                          "kinds": sorted({f for c in storm for f in c.failures})}

    def by_phase(sends: list[int], latency: list[int]) -> dict[str, Any]:
        phases: dict[str, list[float]] = {"before": [], "during": [], "after": []}
        for sent, lat in zip(sends, latency):
            key = "before" if sent < drop else "during" if sent < recovered_ns else "after"
            phases[key].append(lat / ms)
        return {k: {**quantiles(v), "deliveries": len(v)} for k, v in phases.items()}

    result["live_latency_ms"] = by_phase(gen.live_sends, gen.live_latency)
    result["room_latency_ms"] = by_phase(gen.room_sends, gen.room_latency)
    answers = [(w.send_ns[j], a) for w in gen.writers for j, a in enumerate(w.answer_ns)]
    result["rest_answer_ms"] = by_phase([s for s, _ in answers], [a for _, a in answers])
    result["cpu"] = {"before": _share(marks["start"], marks["drop"]),
                     "during": _share(marks["drop"], marks["recovered"]),
                     "after": _share(marks["recovered"], marks["end"])}
    peak = 0.0
    for i, a in enumerate(samples):  # the busiest second of the server's core
        later = [b for b in samples[i:] if b[0] - a[0] >= 1.0]
        if later:
            peak = max(peak, (later[0][1] - a[1]) / (later[0][0] - a[0]))
    result["cpu"]["peak_1s_server_pct"] = round(100 * peak, 1)

    # -- verdict --
    wrong = [c for c in gen.clients if not c.stream.ok]
    behind = [c for c in gen.clients if c.stream.last < (heads[c.match] if c.kind is LIVE else head)]
    errors = [w.error for w in gen.writers if w.error]
    verdict = {
        "gaps": sum(c.stream.gaps for c in gen.clients), "duplicates": sum(c.stream.duplicates for c in gen.clients),
        "unrecovered": sum(c.stream.unrecovered for c in gen.clients),
        "storm_recovered": len(done), "sockets_wrong": len(wrong), "sockets_behind": len(behind),
        "lost": gen.lost_count, "foreign_events": gen.foreign, "publish_errors": errors[:3],
        "server_close_codes": sorted({c.closed_by_server for c in gen.clients if c.closed_by_server}),
        "dropped_closed_by_server": sum(1 for d in dropped if d is not None and d.disconnected),
    }
    verdict["ok"] = not (wrong or behind or errors or gen.lost_count or gen.foreign or len(done) < len(storm))
    result["verdict"] = verdict
    if not verdict["ok"]:
        progress(f"FAIL: {json.dumps(verdict)}")
    for c in gen.clients:
        if c.conn is not None and c.conn.transport is not None and not c.conn.disconnected:
            c.conn.transport.send_close()
            c.conn.transport.disconnect()
    for d in dropped:
        if d is not None and d.transport is not None and not d.disconnected:
            d.transport.disconnect(graceful=False)
    for w in gen.writers:
        w.conn.close()
    await asyncio.sleep(0.2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stormgen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--http", required=True, help="host:port of the server (loopback)")
    parser.add_argument("--token", required=True, help="an organizer token")
    parser.add_argument("--tournament-id", required=True)
    parser.add_argument("--matches", required=True,
                        help="the live matches, comma-separated ID:VERSION:SEQ:PLAYER:PLAYER")
    parser.add_argument("--storm", type=int, default=2000, help="tournament-room sockets that drop")
    parser.add_argument("--control", type=int, default=20, help="tournament-room sockets that stay")
    parser.add_argument("--live-rooms", type=int, default=4, help="match rooms with sockets that stay")
    parser.add_argument("--live-per-room", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="scores published per second, in all")
    parser.add_argument("--before-s", type=float, default=5.0, help="publishing before the drop")
    parser.add_argument("--after-s", type=float, default=5.0, help="publishing after every socket recovered")
    parser.add_argument("--jitter-s", type=lambda s: tuple(float(x) for x in s.split(",")), default=(0.0, 1.0),
                        help="each reconnect's delay after the drop, uniform in LOW,HIGH seconds (default 0,1)")
    parser.add_argument("--drop", choices=("reset", "silent"), default="reset")
    parser.add_argument("--recover-cap-s", type=float, default=60.0, help="longest wait for every socket to recover")
    parser.add_argument("--batch-window-s", type=float, default=0.1,
                        help="the server's batch window (the room's scores wait at most this long)")
    parser.add_argument("--drain-s", type=float, default=15.0, help="longest wait for the last events to arrive")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--settle-s", type=float, default=1.5)
    parser.add_argument("--seed", type=int, help="seed of the reconnect delays")
    parser.add_argument("--server-pid", type=int, help="for CPU and RSS readings from /proc")
    parser.add_argument("--profile-out", help="py-spy the server from just before the drop (raw stacks)")
    parser.add_argument("--profile-s", type=float, default=8.0)
    parser.add_argument("--py-spy", default="py-spy")
    args = parser.parse_args(argv)
    if len(args.jitter_s) != 2 or not 0 <= args.jitter_s[0] <= args.jitter_s[1]:
        parser.error("--jitter-s needs LOW,HIGH with 0 <= LOW <= HIGH")
    if args.seed is not None:
        random.seed(args.seed)
    result = uvloop.run(run(args))  # its read path costs the generator's core less than asyncio's
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
