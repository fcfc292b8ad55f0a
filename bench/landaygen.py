"""LAN-day load generator: 32 live matches fed by game servers, watched by a tournament room
and their match rooms, every frame checked (issue 18, part 1).

    python -m bench.landaygen --http 127.0.0.1:P --token T --tournament-id TID \\
        --matches M1:VERSION:SEQ:P1:P2,M2:... [--tournament-sockets 2000] [--per-match 50]

One process, one uvloop loop, picows sockets (bench/landay.py starts it on a core of its own).
It opens, with at most `--connect-concurrency` handshakes in flight, `--tournament-sockets` on
the tournament room (the first `--probes` of them *probes*), `--per-match` on each match's room,
and one *game server* socket on the room of each socket-fed match. Then, for `--duration-s`,
every match gets `--rate` live scores a second, open loop (each at its slot, answered or not):

- the first half of the matches over REST: `POST /api/matches/<id>/score` without `If-Match`
  (the score batcher's path: answered once its batch is written), round robin over
  `--rest-connections` keep-alive connections per match;
- the other half over their game server's socket: `update_score` (acked at once, written by
  the batcher).

Update k of a match sets its scores to {first player: k, second player: 0}, so the scores of
any frame name the newest update it carries, and that update's send time (a table per match).
After the last update every answer is awaited, then each match is completed (`POST
/api/matches/<id>/result` with its last scores) and the run waits until every socket holds its
room's head (the match's `seq`, read back; the tournament room's, from a fresh socket's welcome).

Checked: every socket, every numbered event of its room once and in order up to the head
(`bench.recovery.Stream`: no gap, no duplicate); no socket closed or lost by the server; every
REST answer 200 and every update acked. Probes parse every frame and check per match: its
`match_seq` only goes up; for socket-fed matches its scores never go back (REST-fed ones may:
four connections are four queues, and a later update can be written before an earlier one);
no score after its `match_completed`; and the last state held (scores, version) equals the
match as stored. The other tournament sockets read only the frame's `seq` (parsing ~25 KB of
JSON 20,000 times a second would saturate this core). Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import sys
import time
from typing import Any

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from bench.httpclient import HttpConnection, HttpError
from bench.recovery import WELCOME_PREFIX, Stream, numbered, room_head, welcome_fields
from bench.stormgen import PING_PREFIX, PONG, _cpu, _share, quantiles
from bench.system import raise_fd_limit, rss_kb

NS = 1_000_000_000
TOURNAMENT, PROBE, MATCH, GAME = "tournament", "probe", "match", "game"
SCORE_UPDATED = b'{"type":"score_updated"'
_ACK = re.compile(rb'^\{"type":"ack","id":"(\d+)"')
_ERROR = b'{"type":"error"'


def p99_by_second(sent: list[int], latency: list[int], start_ns: int) -> list[float | None]:
    """The p99 latency (ms) of the deliveries of updates sent in each second after `start_ns`."""
    buckets: dict[int, list[float]] = {}
    for at, lat in zip(sent, latency):
        buckets.setdefault(max(0, (at - start_ns) // NS), []).append(lat / 1e6)
    return [quantiles(buckets[k])["p99"] if k in buckets else None for k in range(max(buckets, default=-1) + 1)]


def progress(message: str) -> None:
    print(f"[landaygen {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Feed:
    """One live match: its players, how its updates go, and when each was sent."""

    def __init__(self, index: int, match_id: str, version: int, seq: int, a: str, b: str, rest: bool) -> None:
        self.index = index
        self.match_id = match_id
        self.version = version
        self.base_seq = seq
        self.players = (a, b)
        self.rest = rest
        self.send_ns: list[int] = []  # [k - 1]: when update k was written
        self.answer_ns: list[int] = []  # REST answers (or socket acks): their time after the send
        self.error: str | None = None
        self.score_of = re.compile(rb'"scores":\{"' + re.escape(a.encode()) + rb'":(\d+)')
        self.body = f'{{"scores":{{"{a}":%d,"{b}":0}}}}'
        self.conns: list[HttpConnection] = []
        self.pending: list[asyncio.Queue[int]] = []
        self.game: Client | None = None

    def sent_at(self, k: int) -> int | None:
        return self.send_ns[k - 1] if 0 < k <= len(self.send_ns) else None


class Client:
    """One socket: its room's stream and what it counts."""

    def __init__(self, gen: LanDayGen, kind: str, url: str, feed: Feed | None = None) -> None:
        self.gen = gen
        self.kind = kind
        self.url = url
        self.feed = feed
        self.stream = Stream()
        self.transport: WSTransport | None = None
        self.welcomed = False
        self.disconnected = False
        self.closing = False  # this side closes it
        self.closed_by_server: str | None = None
        self.frames = 0
        self.bytes = 0
        # probes: per match index, what was seen
        self.match_seq: dict[str, int] = {}
        self.last_k: dict[str, int] = {}
        self.state: dict[str, tuple[dict[str, int], int]] = {}
        self.completed: set[str] = set()


class Connection(WSListener):
    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.client.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        client = self.client
        if frame.msg_type is WSMsgType.TEXT:
            now = time.perf_counter_ns()
            kind = client.kind
            client.frames += 1
            if kind is TOURNAMENT:  # the cheap path: the frame's head only
                view = frame.get_payload_as_memoryview()
                client.bytes += len(view)
                head = bytes(view[:80])
                seq = numbered(head)
                if seq is not None:
                    client.stream.event(seq, len(view))
                elif head.startswith(WELCOME_PREFIX):
                    self._welcome(frame.get_payload_as_bytes())
                elif head.startswith(PING_PREFIX):
                    transport.send(WSMsgType.TEXT, PONG)
                return
            payload = frame.get_payload_as_bytes()
            client.bytes += len(payload)
            seq = numbered(payload)
            if seq is not None:
                client.stream.event(seq, len(payload))
                if kind is PROBE:
                    client.gen.probe_frame(client, payload, now)
                elif kind is MATCH and payload.startswith(SCORE_UPDATED):
                    client.gen.match_delivery(client, payload, now)
            elif kind is GAME and payload.startswith(b'{"type":"ack"'):
                client.gen.acked(client, payload, now)
            elif payload.startswith(WELCOME_PREFIX):
                self._welcome(payload)
            elif payload.startswith(_ERROR):
                client.gen.errors.append(payload[:300].decode(errors="replace"))
            elif payload.startswith(PING_PREFIX):
                transport.send(WSMsgType.TEXT, PONG)
        elif frame.msg_type is WSMsgType.CLOSE:
            if not self.client.closing:
                self.client.closed_by_server = f"{frame.get_close_code()} {frame.get_close_reason()}"
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def _welcome(self, payload: bytes) -> None:
        client = self.client
        seq, epoch, recovered = welcome_fields(payload)
        client.stream.welcome(seq, epoch, recovered)
        if not client.welcomed:
            client.welcomed = True
            client.gen.welcomed()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        client = self.client
        client.disconnected = True
        if not client.closing:
            client.gen.lost += 1


class LanDayGen:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        host, _, port = args.http.rpartition(":")
        self.host, self.port = host, int(port)
        specs = args.matches.split(",")
        rest_count = args.rest_matches if args.rest_matches >= 0 else len(specs) // 2
        self.feeds: list[Feed] = []
        for i, spec in enumerate(specs):
            match_id, version, seq, a, b = spec.split(":")
            self.feeds.append(Feed(i, match_id, int(version), int(seq), a, b, rest=i < rest_count))
        self.by_id = {f.match_id: f for f in self.feeds}
        base = f"ws://{args.http}"
        room = f"{base}/ws/tournament/{args.tournament_id}?token={args.token}"
        self.room_url = room
        self.clients = [Client(self, PROBE if i < args.probes else TOURNAMENT, room)
                        for i in range(args.tournament_sockets)]
        for f in self.feeds:
            url = f"{base}/ws/match/{f.match_id}?token={args.token}"
            self.clients += [Client(self, MATCH, url, f) for _ in range(args.per_match)]
            if not f.rest:
                f.game = Client(self, GAME, url, f)
                self.clients.append(f.game)
        self.welcome_count = 0
        self.all_welcomed = asyncio.Event()
        self.lost = 0
        self.errors: list[str] = []
        self.foreign = 0  # score frames naming no update of this run
        self.backwards = 0  # a socket-fed match's scores went back on a probe
        self.rest_reordered = 0  # the same for a REST-fed match (allowed)
        self.match_seq_back = 0  # a match's match_seq did not go up on a probe
        self.after_completion = 0  # a score of a match after its match_completed on a probe
        self.probe_errors: list[str] = []
        self.unparsable = 0
        # latency samples: (send ns, latency ns)
        self.match_lat: list[int] = []
        self.match_sent: list[int] = []
        self.room_lat: list[int] = []
        self.room_sent: list[int] = []
        self.room_lat_socket: list[int] = []  # room_lat of socket-fed matches, and of REST-fed ones
        self.room_lat_rest: list[int] = []
        self.acks_missing = 0

    # the hot path

    def welcomed(self) -> None:
        self.welcome_count += 1
        if self.welcome_count >= len(self.clients):
            self.all_welcomed.set()

    def match_delivery(self, client: Client, payload: bytes, now: int) -> None:
        feed = client.feed
        assert feed is not None
        found = feed.score_of.search(payload, 0, 400)
        sent = feed.sent_at(int(found[1])) if found else None
        if sent is None:
            self.foreign += 1
            return
        self.match_sent.append(sent)
        self.match_lat.append(now - sent)

    def acked(self, client: Client, payload: bytes, now: int) -> None:
        feed = client.feed
        assert feed is not None
        found = _ACK.match(payload)
        sent = feed.sent_at(int(found[1])) if found else None
        if sent is not None:
            feed.answer_ns.append(now - sent)

    def probe_frame(self, client: Client, payload: bytes, now: int) -> None:
        """Every check a probe makes of one numbered tournament-room frame."""
        try:
            frame = json.loads(payload)
        except ValueError as e:
            self.unparsable += 1
            self.probe_errors.append(f"unparsable frame: {e}")
            return
        kind, data = frame["type"], frame.get("data") or {}
        if kind == "scores_updated":
            updates = data["updates"]
        elif "match_seq" in frame and data.get("match_id") in self.by_id:
            updates = [{**data, "match_seq": frame["match_seq"]}]
        else:
            return  # another match's or the tournament's own event
        for u in updates:
            mid = u["match_id"]
            feed = self.by_id.get(mid)
            if feed is None:
                continue
            if u["match_seq"] <= client.match_seq.get(mid, 0):
                self.match_seq_back += 1
            client.match_seq[mid] = u["match_seq"]
            # a scores_updated entry carries what the score changed; any other event the match's snapshot
            change = u if kind == "scores_updated" else u.get("match") or {}
            if change.get("version") is not None:
                client.state[mid] = (dict(change.get("scores") or {}), int(change["version"]))
            if kind == "match_completed":
                client.completed.add(mid)
                continue
            if kind not in ("scores_updated", "score_updated"):
                continue
            if mid in client.completed:
                self.after_completion += 1
            k = int(u["scores"].get(feed.players[0], 0))
            if k < client.last_k.get(mid, 0):
                if feed.rest:
                    self.rest_reordered += 1
                else:
                    self.backwards += 1
            client.last_k[mid] = max(k, client.last_k.get(mid, 0))
            sent = feed.sent_at(k)
            if sent is None:
                self.foreign += 1
                continue
            self.room_sent.append(sent)
            self.room_lat.append(now - sent)
            (self.room_lat_rest if feed.rest else self.room_lat_socket).append(now - sent)

    # phases

    async def connect_all(self) -> float:
        started = time.perf_counter()
        gate = asyncio.Semaphore(self.args.connect_concurrency)

        async def one(client: Client) -> None:
            async with gate:
                for attempt in range(4):
                    try:
                        await ws_connect(lambda: Connection(client), client.url, enable_auto_ping=False,
                                         read_buffer_init_size=65536, websocket_handshake_timeout=20)
                        return
                    except Exception as e:  # refused, reset, timed out: again
                        error = e
                        await asyncio.sleep(0.2 * (attempt + 1))
                raise SystemExit(f"landaygen: a socket did not connect: {error!r}")

        await asyncio.gather(*(one(c) for c in self.clients))
        try:
            await asyncio.wait_for(self.all_welcomed.wait(), 60)
        except asyncio.TimeoutError:
            raise SystemExit(f"landaygen: only {self.welcome_count}/{len(self.clients)} sockets welcomed") from None
        return time.perf_counter() - started

    async def open_rest(self) -> list[asyncio.Future[None]]:
        readers: list[asyncio.Future[None]] = []
        headers = {"Authorization": f"Bearer {self.args.token}", "Content-Type": "application/json"}
        for f in self.feeds:
            if not f.rest:
                continue
            for _ in range(self.args.rest_connections):
                conn = HttpConnection(self.host, self.port, headers)
                await conn.open()
                queue: asyncio.Queue[int] = asyncio.Queue()
                f.conns.append(conn)
                f.pending.append(queue)
                readers.append(asyncio.ensure_future(self.answers(f, conn, queue)))
        return readers

    async def answers(self, feed: Feed, conn: HttpConnection, queue: asyncio.Queue[int]) -> None:
        while True:
            k = await queue.get()
            try:
                status, raw = await conn.receive()
            except HttpError as e:
                feed.error = f"{feed.match_id} update {k}: {e}"
                return
            feed.answer_ns.append(time.perf_counter_ns() - feed.send_ns[k - 1])
            if status != 200 and feed.error is None:
                feed.error = f"{feed.match_id} update {k}: HTTP {status} {raw[:200]!r}"
            queue.task_done()

    def send(self, feed: Feed) -> None:
        k = len(feed.send_ns) + 1
        body = (feed.body % k).encode()
        feed.send_ns.append(time.perf_counter_ns())
        if feed.rest:
            i = k % len(feed.conns)
            feed.conns[i].send("POST", f"/api/matches/{feed.match_id}/score", body)
            feed.pending[i].put_nowait(k)
        else:
            assert feed.game is not None and feed.game.transport is not None
            feed.game.transport.send(WSMsgType.TEXT, b'{"type":"update_score","id":"%d","data":' % k + body + b"}")

    async def updates(self) -> int:
        """`--rate` updates a second to each match for `--duration-s`, each at its slot (the
        matches' slots spread evenly); returns how many were sent in all."""
        feeds, rate = self.feeds, self.args.rate
        per_s = rate * len(feeds)
        total = int(self.args.duration_s * rate) * len(feeds)
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / per_s - time.perf_counter()
            if delay > 0.001:
                await asyncio.sleep(delay)
            self.send(feeds[i % len(feeds)])
        return total

    async def complete(self) -> None:
        """Every match decided by the organizer with its last scores."""
        conn = HttpConnection(self.host, self.port, {"Authorization": f"Bearer {self.args.token}"})
        for f in self.feeds:
            scores = {f.players[0]: len(f.send_ns), f.players[1]: 0}
            status, body = await conn.json("POST", f"/api/matches/{f.match_id}/result", {"scores": scores})
            if status != 200 or body.get("state") != "completed":
                self.errors.append(f"{f.match_id} result: HTTP {status} {str(body)[:200]}")
        conn.close()

    async def stored(self) -> dict[str, dict[str, Any]]:
        conn = HttpConnection(self.host, self.port, {"Authorization": f"Bearer {self.args.token}"})
        out = {}
        for f in self.feeds:
            status, body = await conn.json("GET", f"/api/matches/{f.match_id}")
            if status != 200:
                raise SystemExit(f"landaygen: GET {f.match_id}: {status}")
            out[f.match_id] = body
        conn.close()
        return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    gen = LanDayGen(args)
    pid = args.server_pid
    result: dict[str, Any] = {"tournament_sockets": args.tournament_sockets, "probes": args.probes,
                              "per_match": args.per_match, "matches": len(gen.feeds),
                              "rest_matches": sum(f.rest for f in gen.feeds), "rate": args.rate,
                              "duration_s": args.duration_s, "fd_limit": raise_fd_limit()}
    progress(f"connecting {len(gen.clients)} sockets ({args.tournament_sockets} on the tournament room, "
             f"{len(gen.feeds)} x {args.per_match} on match rooms, {sum(not f.rest for f in gen.feeds)} game servers)")
    result["connect_s"] = round(await gen.connect_all(), 2)
    readers = await gen.open_rest()
    await asyncio.sleep(args.settle_s)
    gc.collect()
    gc.freeze()
    result["rss_before_kb"] = rss_kb(pid) if pid else None
    samples: list[tuple[float, float, float, float]] = []
    rss_peak = [0]

    async def sample() -> None:
        while True:
            samples.append(_cpu(pid))
            if pid and len(samples) % 4 == 0:
                rss_peak[0] = max(rss_peak[0], rss_kb(pid))
            await asyncio.sleep(0.25)

    def counts() -> dict[str, tuple[int, int]]:
        out = {}
        for kind in (TOURNAMENT, PROBE, MATCH):
            cs = [c for c in gen.clients if c.kind is kind]
            out[kind] = (sum(c.frames for c in cs), sum(c.bytes for c in cs))
        return out

    sampler = asyncio.ensure_future(sample())
    warm_s = min(args.warm_s, args.duration_s / 4)
    progress(f"updating {len(gen.feeds)} matches at {args.rate:g}/s each for {args.duration_s:g}s "
             f"({sum(f.rest for f in gen.feeds)} over REST, the others over their game server's socket)")
    started_ns = time.perf_counter_ns()
    updater = asyncio.ensure_future(gen.updates())
    await asyncio.sleep(warm_s)
    steady0, counts0 = _cpu(pid), counts()
    profiler = None
    if args.profile_out and pid:
        profiler = await asyncio.create_subprocess_exec(
            args.py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "100", "--native",
            "--duration", str(int(args.profile_s)), "-o", args.profile_out,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    sent = await updater
    steady1, counts1 = _cpu(pid), counts()
    ended_ns = time.perf_counter_ns()
    progress(f"{sent} updates sent; waiting for their answers")
    deadline = time.monotonic() + args.drain_s
    for f in gen.feeds:
        for q in f.pending:
            try:
                await asyncio.wait_for(q.join(), max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                f.error = f.error or f"{f.match_id}: REST answers still missing after {args.drain_s:g}s"
    while time.monotonic() < deadline and any(not f.rest and len(f.answer_ns) < len(f.send_ns) for f in gen.feeds):
        await asyncio.sleep(0.1)
    gen.acks_missing = sum(len(f.send_ns) - len(f.answer_ns) for f in gen.feeds if not f.rest)
    for r in readers:
        r.cancel()
    await asyncio.sleep(max(0.0, 2 * args.batch_window_s))  # the last batches written
    result["rss_end_kb"] = rss_kb(pid) if pid else None
    progress("completing every match")
    await gen.complete()
    stored = await gen.stored()
    heads = {f.match_id: int(stored[f.match_id]["seq"]) for f in gen.feeds}
    tournament_head = await room_head(gen.room_url)
    progress(f"draining to the heads (tournament room at seq {tournament_head})")

    def behind() -> list[Client]:
        return [c for c in gen.clients if not c.disconnected and c.stream.last <
                (heads[c.feed.match_id] if c.feed is not None else tournament_head)]

    deadline = time.monotonic() + args.drain_s
    while behind() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    drained_ns = time.perf_counter_ns()
    sampler.cancel()
    if profiler is not None:
        try:
            await asyncio.wait_for(profiler.wait(), 30)
        except asyncio.TimeoutError:
            profiler.kill()

    # -- figures --
    ms = 1e6
    steady_s = max(1e-9, steady1[0] - steady0[0])
    result["updates_sent"] = sent
    result["send_lag_ms"] = round((ended_ns - started_ns) / ms - 1000 * args.duration_s, 1)
    result["drain_s"] = round((drained_ns - ended_ns) / NS, 2)
    result["room_head"] = tournament_head
    result["match_latency_ms"] = {**quantiles([v / ms for v in gen.match_lat]), "deliveries": len(gen.match_lat)}
    result["room_latency_ms"] = {**quantiles([v / ms for v in gen.room_lat]), "deliveries": len(gen.room_lat)}
    # where the tail is: each second's p99, by the updates' send time
    result["match_p99_by_s"] = p99_by_second(gen.match_sent, gen.match_lat, started_ns)
    result["room_p99_by_s"] = p99_by_second(gen.room_sent, gen.room_lat, started_ns)
    result["room_latency_socket_fed_ms"] = quantiles([v / ms for v in gen.room_lat_socket])
    result["room_latency_rest_fed_ms"] = quantiles([v / ms for v in gen.room_lat_rest])
    rest_answers = [a / ms for f in gen.feeds if f.rest for a in f.answer_ns]
    acks = [a / ms for f in gen.feeds if not f.rest for a in f.answer_ns]
    result["rest_answer_ms"] = {**quantiles(rest_answers), "answers": len(rest_answers)}
    result["ack_ms"] = {**quantiles(acks), "acks": len(acks)}
    result["cpu"] = _share(steady0, steady1)
    peak = 0.0
    for i, a in enumerate(samples):  # the busiest second of the server's core
        later = [b for b in samples[i:] if b[0] - a[0] >= 1.0]
        if later:
            peak = max(peak, (later[0][1] - a[1]) / (later[0][0] - a[0]))
    result["cpu"]["peak_1s_server_pct"] = round(100 * peak, 1)
    result["rss_peak_kb"] = rss_peak[0] or None
    traffic: dict[str, dict[str, Any]] = {}
    for kind in (TOURNAMENT, PROBE, MATCH):
        n = sum(1 for c in gen.clients if c.kind is kind)
        frames, size = (counts1[kind][0] - counts0[kind][0]), (counts1[kind][1] - counts0[kind][1])
        traffic[kind] = {"sockets": n, "frames_per_s": round(frames / steady_s, 1),
                         "bytes_per_s": round(size / steady_s), "bytes_per_frame": round(size / frames) if frames else None,
                         "frames_per_socket_s": round(frames / steady_s / n, 2) if n else None}
    t, p = traffic[TOURNAMENT], traffic[PROBE]
    room_frames = (t["frames_per_s"] or 0) + (p["frames_per_s"] or 0)
    traffic["tournament_room"] = {"sockets": t["sockets"] + p["sockets"], "frames_per_s": round(room_frames, 1),
                                  "bytes_per_s": t["bytes_per_s"] + p["bytes_per_s"],
                                  "bytes_per_frame": round((t["bytes_per_s"] + p["bytes_per_s"]) / room_frames)
                                  if room_frames else None}
    result["traffic"] = traffic

    # -- verdict --
    probes = [c for c in gen.clients if c.kind is PROBE and not c.disconnected]
    mismatched = 0
    for c in probes:
        for f in gen.feeds:
            m = stored[f.match_id]
            held = c.state.get(f.match_id)
            if held is None or held != (m["scores"], m["version"]):
                mismatched += 1
                if len(gen.probe_errors) < 3:
                    gen.probe_errors.append(f"{f.match_id}: probe holds {held}, stored {m['scores']} v{m['version']}")
    late = behind()
    order = {"gaps": sum(c.stream.gaps for c in gen.clients),
             "duplicates": sum(c.stream.duplicates for c in gen.clients),
             "scores_backwards": gen.backwards, "match_seq_backwards": gen.match_seq_back,
             "score_after_completion": gen.after_completion, "unparsable": gen.unparsable}
    verdict: dict[str, Any] = {
        **order, "rest_reordered": gen.rest_reordered,
        "final_state_mismatches": mismatched, "sockets_behind": len(late),
        "behind_by_kind": {k: sum(1 for c in late if c.kind is k) for k in (TOURNAMENT, PROBE, MATCH, GAME)},
        "lost": gen.lost, "closed_by_server": sum(1 for c in gen.clients if c.closed_by_server),
        "close_codes": sorted({c.closed_by_server for c in gen.clients if c.closed_by_server}),
        "dropped_by_kind": {k: sum(1 for c in gen.clients if c.kind is k and c.disconnected)
                            for k in (TOURNAMENT, PROBE, MATCH, GAME)},
        "foreign": gen.foreign, "acks_missing": gen.acks_missing,
        "errors": ([f.error for f in gen.feeds if f.error] + gen.errors + gen.probe_errors)[:5],
    }
    verdict["order_ok"] = not any(order.values())
    verdict["dropped"] = sum(1 for c in gen.clients if c.disconnected)
    verdict["ok"] = (verdict["order_ok"] and not mismatched and not late and not verdict["dropped"]
                     and not verdict["errors"] and not gen.foreign and not gen.acks_missing)
    result["verdict"] = verdict
    if not verdict["ok"]:
        progress(f"FAIL: {json.dumps(verdict)}")
    for c in gen.clients:
        if c.transport is not None and not c.disconnected:
            c.closing = True
            c.transport.send_close()
            c.transport.disconnect()
    for f in gen.feeds:
        for conn in f.conns:
            conn.close()
    await asyncio.sleep(0.3)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.landaygen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--http", required=True, help="host:port of the server (loopback)")
    parser.add_argument("--token", required=True, help="an organizer token")
    parser.add_argument("--tournament-id", required=True)
    parser.add_argument("--matches", required=True, help="the live matches, comma-separated ID:VERSION:SEQ:P1:P2")
    parser.add_argument("--rest-matches", type=int, default=-1, help="of those, fed over REST (default half)")
    parser.add_argument("--tournament-sockets", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=50, help="tournament sockets that parse every frame")
    parser.add_argument("--per-match", type=int, default=50, help="sockets on each match room")
    parser.add_argument("--rate", type=float, default=20.0, help="live score updates a second, per match")
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--rest-connections", type=int, default=4, help="keep-alive connections per REST match")
    parser.add_argument("--warm-s", type=float, default=5.0, help="updates before the steady part (CPU, traffic)")
    parser.add_argument("--batch-window-s", type=float, default=0.1, help="the server's, to wait out its last batch")
    parser.add_argument("--drain-s", type=float, default=30.0, help="longest wait for answers, and for the heads")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--settle-s", type=float, default=2.0)
    parser.add_argument("--server-pid", type=int, help="for CPU and RSS readings from /proc")
    parser.add_argument("--profile-out", help="py-spy the server in the steady part (raw stacks)")
    parser.add_argument("--profile-s", type=float, default=10.0)
    parser.add_argument("--py-spy", default="py-spy")
    args = parser.parse_args(argv)
    if args.probes > args.tournament_sockets:
        parser.error("--probes at most --tournament-sockets")
    result = uvloop.run(run(args))  # its read path costs the generator's core less than asyncio's
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
