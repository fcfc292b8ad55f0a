"""The fan-out through Redis (issue 16): one room's events in-process, through Redis on one node, and on two.

    python -m bench.broker [--subscribers 100,1000,5000] [--rounds 2] [--json-out FILE]
    python -m bench.broker --quick        # 200 subscribers, short phases: under a minute

The one-room fan-out bench/run.py measures (N subscribers on a match room, guarded scores
published over REST, every delivery timed and checked), run in each configuration on a fresh
store, Redis and nodes:

- (a) in-process: one `server.py` without `--broker`;
- (b) Redis, 1 node: the same with `--broker`: each event goes to Redis and back before the
  node's fan-out;
- (c) Redis, 2 nodes: two `server.py --broker` over the same store and Redis, the subscribers
  dealt to both, event k's publish sent to node k mod 2.

Every configuration uses the same store (`--store mongo` on an nx-27017 of its own, the
embedded store's server, since two nodes need a shared one) and one publish in flight (two
nodes cannot pipeline guarded writes), so only the broker differs. Unless `--quick` or
`--no-reference`, each N also runs bench/run.py's own session (`--store memory`, two publishes
in flight) as a reference to docs/performance.md's figures.

Two cores: every server-side process (the node or nodes, redis-server, the store) on one, the
load generator (bench/brokergen.py: bench/loadgen.py's session spread over the nodes) on the
other. Prints a markdown report on stdout (progress on stderr): the figures, then ratios to
(a): deliveries/s, p50/p99 latency, the latency added, and the server side's CPU per event.
Exits 1 if any subscriber missed, repeated or reordered an event. Method: docs/performance.md
(Through Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import targets
from bench.redisserver import RedisError, RedisServer
from bench.run import machine, on_a_quiet_machine, progress, split_cpus
from bench.system import add_disturbance_arguments, raise_fd_limit
from bench.targets import HOST, LIVEBRACKET_LIMITS, ROOT, Livebracket, TargetError, pinned
from storage.embedded import EmbeddedMongo
from tournament.store import StorageUnavailableError

BROKERGEN_TIMEOUT_S = 300
SECRET = "bench-broker-secret-0123456789-abcdefghijklmnop"  # every node signs and checks with it


@dataclasses.dataclass(frozen=True)
class Layout:
    """One configuration: how many nodes, through Redis or not, on which store."""

    name: str
    label: str
    nodes: int
    broker: bool
    store: str  # "mongo" (an nx-27017 of the session's own) or "memory"
    pipeline: int  # publish requests in flight in the throughput phase


LAYOUTS = {
    "a": Layout("a", "(a) in-process", 1, False, "mongo", 1),
    "b": Layout("b", "(b) Redis, 1 node", 1, True, "mongo", 1),
    "c": Layout("c", "(c) Redis, 2 nodes", 2, True, "mongo", 1),
    "ref": Layout("ref", "ref: in-process, memory store, 2 in flight", 1, False, "memory", 2),
}


class Node(Livebracket):
    """`server.py` on a shared store (`store_url`) and, when given, a broker; one JWT secret for all."""

    def __init__(self, store_url: str | None, broker_url: str | None) -> None:
        super().__init__()
        self.store_url = store_url
        self.broker_url = broker_url

    def command(self) -> list[str]:
        store = ["--store", "mongo", "--mongo-url", self.store_url] if self.store_url else ["--store", "memory"]
        broker = ["--broker", self.broker_url] if self.broker_url else []
        return [sys.executable, str(ROOT / "server.py"), *store, *broker, "--port", str(self.port),
                "--data-dir", str(self.workdir / "data"), "--jwt-secret", SECRET,
                "--ping-interval-s", str(targets.PING_INTERVAL_S), "--limits", LIVEBRACKET_LIMITS]

    def subscriber_url(self, match_id: str, token: str) -> str:
        return f"ws://{HOST}:{self.port}/ws/match/{match_id}?token={token}"


@contextlib.contextmanager
def on_cpus(cpus: set[int] | None) -> Iterator[None]:
    """This process on `cpus` meanwhile: what it starts (the store's process) inherits them."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def store_pid(store: EmbeddedMongo) -> int:
    """The nx-27017 process's pid, from the pid file it writes once it serves (no fork: the
    launcher EmbeddedMongo starts is that process). Raises TargetError when there is none."""
    try:
        return int(store.pid_path.read_text().strip())
    except (OSError, ValueError) as e:
        raise TargetError(f"the store's pid file {store.pid_path}: {e}") from None


def run_session(layout: Layout, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Start the layout's store, Redis and nodes (server side on `args.server_cpus`), run one
    brokergen session of `n` subscribers on the load generator's CPUs, stop everything."""
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-broker-{layout.name}-"))
    store: EmbeddedMongo | None = None
    redis: RedisServer | None = None
    nodes: list[Node] = []
    result: dict[str, Any]
    try:
        pids: dict[str, list[int]] = {}
        store_url = None
        if layout.store == "mongo":
            store = EmbeddedMongo(workdir / "store")
            with on_cpus(args.server_cpus):
                store_url = asyncio.run(store.start())
            pids["store"] = [store_pid(store)]
        if layout.broker:
            redis = RedisServer(workdir / "redis", args.server_cpus).start()
            pids["redis"] = [redis.pid]
        nodes = [Node(store_url, redis.url if redis else None) for _ in range(layout.nodes)]
        for node in nodes:
            node.start(cpus=args.server_cpus)
        pids["nodes"] = [node.pid for node in nodes]
        first = nodes[0]
        first.prepare()  # a tournament, alice and bob, a live match: on the shared store
        command = [sys.executable, "-m", "bench.brokergen", "--subscribers", str(n),
                   "--match-id", first.match_id, "--token", first.token, "--version", str(first.version),
                   "--base-seq", str(first.seq), "--pipeline", str(layout.pipeline),
                   "--throughput-s", str(args.throughput_s), "--latency-s", str(args.latency_s),
                   "--rate", str(args.rate), "--settle-s", str(args.settle_s)]
        for node in nodes:
            command += ["--node", node.subscriber_url(first.match_id, first.token)]
        for role, role_pids in pids.items():
            command += ["--pids", f"{role}={','.join(map(str, role_pids))}"]
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True,
                              timeout=BROKERGEN_TIMEOUT_S, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              preexec_fn=pinned(args.loadgen_cpus))
        if done.returncode != 0 or not done.stdout.strip():
            raise TargetError(f"brokergen exited with {done.returncode}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        gone = [node for node in nodes if node.process is not None and node.process.poll() is not None]
        if gone:
            result["error"] = f"{len(gone)} node(s) exited during the session"
    except (TargetError, RedisError, StorageUnavailableError, subprocess.TimeoutExpired,
            json.JSONDecodeError) as e:
        result = {"error": f"{type(e).__name__}: {e}"}
        tails = "\n".join(node.log_tail(10) for node in nodes)
        progress(f"{layout.label} N={n}: {result['error']} (logs: {workdir}, nodes' {[str(x.workdir) for x in nodes]})"
                 f"\n{tails}")
    finally:
        for node in nodes:
            node.stop()
        if redis is not None:
            redis.stop()
        if store is not None:
            asyncio.run(store.stop())
    if "error" not in result:
        for node in nodes:
            node.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    result.update(layout=layout.name, label=layout.label, n=n, session_s=round(time.monotonic() - started, 1))
    return result


# -- the report ------------------------------------------------------------------------------


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def _us(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _other(value: Any, limit: float) -> str:
    if value is None:
        return "-"
    return f"**{value}%**" if value > limit else f"{value}%"


def _role(s: dict[str, Any], role: str, key: str) -> float | None:
    value = s.get("throughput", {}).get("roles", {}).get(role, {}).get(key)
    return float(value) if value is not None else None


def cost_per_event(s: dict[str, Any]) -> float | None:
    """µs of CPU per event of the nodes and Redis in the throughput phase (the store apart:
    the same write in every layout)."""
    nodes = _role(s, "nodes", "us_per_event")
    if nodes is None:
        return None
    return nodes + (_role(s, "redis", "us_per_event") or 0.0)


def server_core(s: dict[str, Any]) -> str:
    """The server side's share of its core in the throughput phase: nodes + Redis + store."""
    shares = [_role(s, role, "cpu_pct") for role in ("nodes", "redis", "store")]
    return f"{sum(x for x in shares if x is not None):.1f}%" if shares[0] is not None else "-"


def latency(s: dict[str, Any], key: str) -> float | None:
    lat = s.get("latency", {})
    return None if lat.get("skipped") else lat.get(key)


def checked(s: dict[str, Any]) -> str:
    v = s.get("verdict", {})
    if s.get("error") or not v.get("ok"):
        return (f"**FAIL** {s.get('error', '')} missing {v.get('missing', '?')}, gaps {v.get('gaps', '?')}, "
                f"duplicate or late {v.get('duplicate_or_late', '?')}, closed {v.get('disconnected', '?')}").strip()
    return f"ok: {v['events_published']:,} x {s['n']:,}, once, in order"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def added(a: float | None, b: float | None) -> str:
    return f"{a - b:+.2f}" if a is not None and b is not None else "-"


def report(info: dict[str, Any], sessions: list[dict[str, Any]], args: argparse.Namespace) -> str:
    rounds = args.rounds > 1
    out = [f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, Linux {info['kernel']}; "
           f"tornado {info['versions']['tornado']}, picows {info['versions']['picows']}; livebracket "
           f"{info['commit']}; {info['redis']}.",
           f"Cores: {info['pinning']}.",
           f"Throughput phase {args.throughput_s:g} s; latency phase {args.rate:g} events/s for {args.latency_s:g} s; "
           "latency = subscriber receipt - publish request sent. CPU: each role's CPU seconds in the throughput "
           "phase (until it drained) per event published in it; server core: the nodes', Redis's and the store's "
           "share of the one core they share; other CPU: what the cores did besides those "
           "processes and the load generator (in bold past the limit: that row is disturbed).", "",
           "| N | configuration | deliveries/s | p50 ms | p99 ms | max ms | nodes µs/event | Redis µs/event "
           "| store µs/event | server core | loadgen CPU | other CPU | checked |",
           "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for s in sessions:
        label = s["label"] + (f" (round {s['round']})" if rounds else "")
        tp = s.get("throughput", {})
        if not tp:
            out.append(f"| {s['n']} | {label} | error: {s.get('error')} | | | | | | | | | | |")
            continue
        skipped = bool(s.get("latency", {}).get("skipped"))
        mark = " (sat.)" if s.get("latency", {}).get("saturated") and not skipped else ""
        p50, p99, mx = (("saturated",) * 3 if skipped else
                        (_ms(latency(s, "p50_ms")) + mark, _ms(latency(s, "p99_ms")) + mark,
                         _ms(latency(s, "max_ms")) + mark))
        out.append(f"| {s['n']} | {label} | {tp.get('deliveries_per_s', 0):,.0f} | {p50} | {p99} | {mx} "
                   f"| {_us(_role(s, 'nodes', 'us_per_event'))} | {_us(_role(s, 'redis', 'us_per_event'))} "
                   f"| {_us(_role(s, 'store', 'us_per_event'))} | {server_core(s)} "
                   f"| {tp.get('loadgen_cpu_pct', '-')}% | {_other(tp.get('other_cpu_pct'), args.max_other_cpu)} "
                   f"| {checked(s)} |")
    out += ["", "Ratios to (a), same N and round (deliveries/s: above 1 is faster; latency and cost: above 1 "
                "is slower or dearer); added latency in ms; cost per event = the nodes' and Redis's CPU per "
                "event:", "",
            "| N | configuration | deliveries/s | p50 | p99 | added p50 / p99 ms | cost per event | µs/event |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in sessions:
        base = next((b for b in sessions if b["layout"] == "a" and b["n"] == s["n"]
                     and b["round"] == s["round"]), None)
        if base is None or "throughput" not in s:
            continue
        label = s["label"] + (f" (round {s['round']})" if rounds else "")
        out.append(f"| {s['n']} | {label} "
                   f"| {ratio(s['throughput'].get('deliveries_per_s'), base.get('throughput', {}).get('deliveries_per_s'))} "
                   f"| {ratio(latency(s, 'p50_ms'), latency(base, 'p50_ms'))} "
                   f"| {ratio(latency(s, 'p99_ms'), latency(base, 'p99_ms'))} "
                   f"| {added(latency(s, 'p50_ms'), latency(base, 'p50_ms'))} / "
                   f"{added(latency(s, 'p99_ms'), latency(base, 'p99_ms'))} "
                   f"| {ratio(cost_per_event(s), cost_per_event(base))} | {_us(cost_per_event(s))} |")
    spread = [s for s in sessions if s.get("subscribers_per_node") and len(s["subscribers_per_node"]) > 1]
    if spread:
        s = spread[0]
        out += ["", f"Two nodes: subscribers per node {sorted(s['subscribers_per_node'].values())}; event k published "
                    "to node k mod 2, one at a time."]
    return "\n".join(out)


def redis_version() -> str:
    try:
        text = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "redis-server: none"
    version = next((part for part in text.split() if part.startswith("v=")), "v=?")
    return f"redis-server {version[2:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="100,1000,5000", help="comma-separated subscriber counts")
    parser.add_argument("--layouts", default="a,b,c", help="any of a, b, c (ref is added unless --no-reference)")
    parser.add_argument("--no-reference", action="store_true",
                        help="without bench/run.py's own session (memory store, two publishes in flight)")
    parser.add_argument("--rounds", type=int, default=1, help="run every layout this many times, interleaved")
    parser.add_argument("--throughput-s", type=float, default=5.0)
    parser.add_argument("--latency-s", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0, help="events per second in the latency phase")
    parser.add_argument("--settle-s", type=float, default=1.5, help="quiet after the last welcome")
    parser.add_argument("--quick", action="store_true",
                        help="200 subscribers, a 2 s throughput and 3 s latency phase, (a), (b), (c) once: "
                             "under a minute")
    parser.add_argument("--json-out", type=Path, help="also write every raw result here")
    parser.add_argument("--no-pin", action="store_true",
                        help="let the scheduler place the processes (default: server side on one core, "
                             "the load generator on the other)")
    add_disturbance_arguments(parser, 60.0, "session")
    args = parser.parse_args(argv)
    if args.quick:
        args.subscribers, args.throughput_s, args.latency_s, args.settle_s = "200", 2.0, 3.0, 0.5
        args.no_reference, args.rounds = True, 1
        args.quiet_wait_s, args.retries = min(args.quiet_wait_s, 5.0), 0
    args.subscribers = [int(n) for n in str(args.subscribers).split(",") if n.strip()]
    names = [name.strip() for name in args.layouts.split(",") if name.strip()]
    if not args.no_reference and "ref" not in names:
        names.append("ref")
    unknown = [name for name in names if name not in LAYOUTS]
    if unknown or not args.subscribers or min(args.subscribers) < 2 or args.rounds < 1:
        parser.error(f"unknown layouts {unknown}" if unknown else "--subscribers needs counts of 2 or more, "
                     "--rounds 1 or more")
    limit = raise_fd_limit()
    if max(args.subscribers) + 200 > limit:
        parser.error(f"{max(args.subscribers)} sockets need more than the open-file limit {limit}")
    args.server_cpus, args.loadgen_cpus = split_cpus(args.no_pin)
    info = machine()
    info["redis"] = redis_version()
    info["pinning"] = (f"CPU {sorted(args.server_cpus)}: the server side (every livebracket node, redis-server, the "
                       f"store's nx-27017); CPU {sorted(args.loadgen_cpus)}: the load generator (every subscriber "
                       "and the publisher, one process)" if args.server_cpus else "not pinned")
    progress(f"{info['cpu']}, {info['cores']} cores; layouts {', '.join(names)}; N {args.subscribers}")
    sessions: list[dict[str, Any]] = []
    for n in args.subscribers:
        for round_ in range(1, args.rounds + 1):
            for name in names:
                layout = LAYOUTS[name]
                result = on_a_quiet_machine(args, f"{layout.label}, {n} subscribers, round {round_}",
                                            lambda: run_session(layout, n, args),
                                            lambda r: r.get("throughput", {}).get("other_cpu_pct"))
                result.update(round=round_)
                sessions.append(result)
                tp = result.get("throughput", {})
                progress(f"{layout.label}, {n} subscribers: {tp.get('deliveries_per_s', 0):,.0f} deliveries/s, "
                         f"{cost_per_event(result) or 0:,.0f} µs/event, "
                         f"verdict {'ok' if result.get('verdict', {}).get('ok') else 'FAIL'} ({result['session_s']} s)")
    print(report(info, sessions, args), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": info, "sessions": sessions}, indent=1))
    failed = [s for s in sessions if s.get("error") or not s.get("verdict", {}).get("ok")]
    if failed:
        progress("FAIL: " + ", ".join(f"{s['label']} N={s['n']}" for s in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
