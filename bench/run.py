"""`make bench`: livebracket's WebSocket fan-out beside a bare Tornado and a Django Channels peer.

    python -m bench.run [--subscribers 1000,5000] [--targets livebracket,bare-tornado,channels]
                        [--compression none,once,tornado] [--rounds 2]

For each N and each target: start the server on a free loopback port, run bench/loadgen.py
in its own process (N subscribers on one room, a throughput phase then a latency phase,
every delivery verified), stop the server. Then the REST score ingest of server.py on its
embedded store. Prints a markdown report on stdout (progress on stderr) and exits 1 if any
subscriber missed, repeated or reordered an event. The method is docs/performance.md.

`--compression` runs each target once per mode it has: `none` (every target, subscribers
offer nothing), `once` (livebracket, subscribers offer permessage-deflate: each frame deflated
once for all), `tornado` (the bare Tornado peer with Tornado's own permessage-deflate, per
socket); with a mode other than none the report starts with bench/wire.py's bytes per frame.
`--rounds R` runs the whole sequence R times, interleaved (A/B/A/B), each round's ratios apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.ingest import ingest
from bench.system import add_disturbance_arguments, cpu_times, machine_busy_s, raise_fd_limit
from bench.profiles import summarize
from bench import targets, wire
from bench.targets import DEFAULT_TARGETS, HOST, ROOT, TARGETS, Livebracket, Target, TargetError, pinned

LOADGEN_TIMEOUT_S = 300
DEFAULT_FRAME_BYTES = 580  # a livebracket score_updated frame, when livebracket is not run first


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("tornado", "picows", "uvloop", "django", "channels", "daphne"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "-"
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "kernel": platform.release(), "versions": versions, "commit": commit()}


def commit() -> str:
    """The checkout measured: HEAD's short hash, `+changes` when the tree has uncommitted ones."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (head or "unknown") + (" +changes" if dirty else "")


def on_a_quiet_machine(args: argparse.Namespace, label: str, run: Callable[[], dict[str, Any]],
                       other_cpu: Callable[[dict[str, Any]], float | None]) -> dict[str, Any]:
    """`run()` once the machine is quiet (`--quiet-wait-s`), run again (up to `--retries` times)
    while other work took more than `--max-other-cpu` % of a core during it (`other_cpu` reads
    that from a result). The result gets `busy_before_pct` and `attempts`."""
    for attempt in range(1 + args.retries):
        busy = wait_for_quiet(args.quiet_wait_s)
        progress(f"{label} (machine {100 * busy:.0f}% busy before)")
        result = run()
        result.update(busy_before_pct=round(100 * busy, 1), attempts=attempt + 1)
        other = other_cpu(result) or 0.0
        if other <= args.max_other_cpu or attempt == args.retries:
            break
        progress(f"other work took {other:.0f}% of a core during {label}: again")
    return result


def wait_for_quiet(max_wait_s: float, busy_limit: float = 0.15) -> float:
    """Wait (at most `max_wait_s`) until the machine's cores are less than `busy_limit` busy
    over one second; returns the busy fraction last seen. Other work on the cores (tests,
    browsers) distorts every figure here."""
    deadline = time.monotonic() + max_wait_s
    while True:
        before, started = machine_busy_s(), time.monotonic()
        time.sleep(1.0)
        busy = (machine_busy_s() - before) / ((time.monotonic() - started) * (os.cpu_count() or 1))
        if busy < busy_limit or time.monotonic() >= deadline:
            return busy
        progress(f"waiting for a quiet machine: its cores are {100 * busy:.0f}% busy with other work")


def split_cpus(no_pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """The CPUs for the server and for the load generator: half each, when there are two or more.

    Pinned, neither can be put on the other's core by the scheduler's wake-up affinity while
    a core sits idle, and each one's CPU share reads as a share of its own core."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if no_pin or len(available) < 2:
        return None, None
    half = len(available) // 2
    return set(available[:half]), set(available[half:])


def profile_name(target: str, compression: str, n: int, round_: int) -> str:
    """The py-spy file of one session: `livebracket-5000.txt`, `livebracket-once-5000-r2.txt`."""
    mode = "" if compression == "none" else f"-{compression}"
    return f"{target}{mode}-{n}{f'-r{round_}' if round_ > 1 else ''}.txt"


def run_session(target: Target, n: int, args: argparse.Namespace, frame_bytes: int,
                round_: int = 1) -> dict[str, Any]:
    """Start `target`, run one loadgen session of `n` subscribers against it, stop it.

    Peers publish events padded to `frame_bytes`, the size of livebracket's frame."""
    started = time.monotonic()
    try:
        target.start(cpus=args.server_cpus)
        target.prepare()
        command = [sys.executable, "-m", "bench.loadgen", *target.loadgen_args(), "--subscribers", str(n),
                   "--server-pid", str(target.pid), "--throughput-s", str(args.throughput_s),
                   "--latency-s", str(args.latency_s), "--rate", str(args.rate),
                   "--frame-bytes", str(frame_bytes)]
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            command += ["--profile-out", str(args.profile / profile_name(target.name, target.compression, n, round_)),
                        "--py-spy", str(Path(sys.executable).with_name("py-spy"))]
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True,
                              timeout=LOADGEN_TIMEOUT_S, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              preexec_fn=pinned(args.loadgen_cpus))
        if done.returncode != 0 or not done.stdout.strip():
            raise TargetError(f"loadgen exited with {done.returncode}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        if target.process is not None and target.process.poll() is not None:
            result["error"] = f"the server exited with {target.process.returncode} during the session"
    except (TargetError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
        result = {"error": f"{type(e).__name__}: {e}"}
        progress(f"{target.name} N={n}: {result['error']} (its logs: {target.workdir})\n{target.log_tail(10)}")
    finally:
        target.stop()
    if "error" not in result:
        target.cleanup()
    result.update(target=target.name, label=target.label, n=n, session_s=round(time.monotonic() - started, 1))
    return result


async def run_ingest(args: argparse.Namespace) -> dict[str, Any]:
    """server.py on its embedded store, `--ingest-clients` clients posting guarded scores.

    Not pinned: the server, its nx-27017 child and the clients (this process) share both cores."""
    target = Livebracket(embedded=True)  # plain sockets: ingest has none
    try:
        target.start()
        matches = [target.new_match() for _ in range(args.ingest_clients)]
        pids = [target.pid, *children(target.pid)]
        cpu0, own0, busy0, t0 = [sum(cpu_times(p)) for p in pids], time.process_time(), machine_busy_s(), time.monotonic()
        result = await ingest(HOST, target.port, target.token, matches, args.ingest_s)
        elapsed = time.monotonic() - t0
        cpu = [(sum(cpu_times(p)) - c) / elapsed for p, c in zip(pids, cpu0)]
        own = (time.process_time() - own0) / elapsed
        result.update(server_cpu_pct=round(100 * cpu[0], 1), store_cpu_pct=round(100 * sum(cpu[1:]), 1),
                      clients_cpu_pct=round(100 * own, 1),
                      other_cpu_pct=round(max(0.0, 100 * ((machine_busy_s() - busy0) / elapsed - sum(cpu) - own)), 1))
    except TargetError as e:
        result = {"error": f"{e} (its logs: {target.workdir})"}
    finally:
        target.stop()
    if "error" not in result:
        target.cleanup()
    return result


def children(pid: int) -> list[int]:
    """The child processes of `pid` (the embedded store of server.py)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


# -- the report ------------------------------------------------------------------------------


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def _rate(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


def report(info: dict[str, Any], sessions: list[dict[str, Any]], ingest_result: dict[str, Any] | None,
           args: argparse.Namespace, wire_result: dict[str, Any] | None = None) -> str:
    v = info["versions"]
    out = [f"Machine: {info['cpu']}, {info['cores']} cores ({info['pinning']}); "
           f"Python {info['python']}, Linux {info['kernel']}; tornado {v['tornado']}, picows {v['picows']}, "
           f"Django {v['django']}, channels {v['channels']}, daphne {v['daphne']}; livebracket {info['commit']}.",
           f"Throughput phase {args.throughput_s:g} s; latency phase {args.rate:g} events/s for "
           f"{args.latency_s:g} s. Latency = subscriber receipt - publish request sent. CPU columns: "
           f"share of one core during the throughput phase; other CPU in bold: other work disturbed "
           f"that row.", "",
           "| N | target | deliveries/s | p50 ms | p99 ms | max ms | missing | server CPU | loadgen CPU "
           "| other CPU | frame B | RSS/socket KB |",
           "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    if wire_result is not None:
        out[2:2] = [wire.table(wire_result), ""]
    for s in sessions:
        label = s["label"] + (f" (round {s['round']})" if args.rounds > 1 else "")
        if "error" in s and "throughput" not in s:
            out.append(f"| {s['n']} | {label} | error: {s['error']} | | | | | | | | | |")
            continue
        tp, lat, verdict = s.get("throughput", {}), s.get("latency", {}), s.get("verdict", {})
        if lat.get("skipped"):
            p50 = p99 = mx = "saturated"
        else:
            mark = " (sat.)" if lat.get("saturated") else ""
            p50, p99, mx = (_ms(lat.get("p50_ms")) + mark, _ms(lat.get("p99_ms")) + mark,
                            _ms(lat.get("max_ms")) + mark)
        missing = verdict.get("missing", "?")
        if not verdict.get("ok") or s.get("error"):
            missing = f"{missing} FAIL"
        size = s.get("frame_bytes", "-")
        if s.get("compression", "none") != "none":
            size = f"{s.get('wire_bytes', '-')} of {size}"  # deflated, as sent, of the text's bytes
        out.append(f"| {s['n']} | {label} | {_rate(tp.get('deliveries_per_s'))} | {p50} | {p99} | {mx} "
                   f"| {missing} | {tp.get('server_cpu_pct', '-')}% | {tp.get('loadgen_cpu_pct', '-')}% "
                   f"| {_other(tp.get('other_cpu_pct'), args.max_other_cpu)} | {size} "
                   f"| {s.get('rss_per_socket_kb', '-')} |")
    rounds = range(1, args.rounds + 1)
    ran = {s["target"] for s in sessions}
    peers = [name for name in TARGETS if name != "livebracket" and (name in ran or name in DEFAULT_TARGETS)]
    out += ["", "Ratios, livebracket / peer, same run (deliveries/s: above 1 is better; p99: below 1 is better):", "",
            "| N | " + " | ".join(f"vs {TARGETS[peer].label}: deliveries/s | p99" for peer in peers) + " |",
            "| ---: |" + " ---: | ---: |" * len(peers)]
    for n in args.subscribers:
        for round_ in rounds:
            by = {(s["target"], s.get("compression", "none")): s for s in sessions
                  if s["n"] == n and s["round"] == round_}
            lb = by.get(("livebracket", "none"))
            cells = []
            for peer in peers:
                other = by.get((peer, "none"))
                cells += [_ratio(lb, other, "throughput", "deliveries_per_s"), _ratio(lb, other, "latency", "p99_ms")]
            out.append(f"| {n}{f' (round {round_})' if args.rounds > 1 else ''} | " + " | ".join(cells) + " |")
    if set(args.compression) - {"none"}:
        out += ["", "Compression, deliveries/s ratios within one round (above 1: the first is faster); RSS per idle "
                    "socket, deflating / plain:", "",
                "| N | livebracket: deflate once / plain | bare Tornado: deflate per socket / plain "
                "| deflate once (livebracket) / per socket (bare Tornado) | RSS/socket: livebracket | bare Tornado |",
                "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for n in args.subscribers:
            for round_ in rounds:
                by = {(s["target"], s.get("compression", "none")): s for s in sessions
                      if s["n"] == n and s["round"] == round_}
                once, plain = by.get(("livebracket", "once")), by.get(("livebracket", "none"))
                per_socket, bare = by.get(("bare-tornado", "tornado")), by.get(("bare-tornado", "none"))
                cells = [_ratio(once, plain, "throughput", "deliveries_per_s"),
                         _ratio(per_socket, bare, "throughput", "deliveries_per_s"),
                         _ratio(once, per_socket, "throughput", "deliveries_per_s"),
                         _rss_ratio(once, plain), _rss_ratio(per_socket, bare)]
                out.append(f"| {n}{f' (round {round_})' if args.rounds > 1 else ''} | " + " | ".join(cells) + " |")
    lbs = [s for s in sessions if s["target"] == "livebracket" and "rss_per_socket_kb" in s]
    if lbs:
        out += ["", "livebracket memory per idle connection (server RSS after N welcomed sockets minus before, / N): "
                + ", ".join(f"{s['rss_per_socket_kb']} KB at N={s['n']}" for s in lbs) + "."]
    if ingest_result is not None:
        if "error" in ingest_result:
            out += ["", f"REST score ingest: error: {ingest_result['error']}"]
        else:
            r = ingest_result
            out += ["", f"REST score ingest (embedded store, {r['clients']} clients, guarded `POST /score` with "
                        f"If-Match, {r['seconds']} s): **{r['requests_per_s']:,.0f} requests/s**, "
                        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['failures']} failures; CPU: server "
                        f"{r['server_cpu_pct']}%, its embedded store {r['store_cpu_pct']}%, the clients "
                        f"{r['clients_cpu_pct']}%, other {_other(r['other_cpu_pct'], args.max_other_cpu)}."]
    return "\n".join(out)


def _other(value: Any, limit: float) -> str:
    """Other work's share of a core, in bold past `limit` (that row's figures are disturbed)."""
    if value is None:
        return "-"
    return f"**{value}%**" if value > limit else f"{value}%"


def _rss_ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    try:
        return f"{a['rss_per_socket_kb'] / b['rss_per_socket_kb']:.2f}x"  # type: ignore[index]
    except (KeyError, TypeError, ZeroDivisionError):
        return "-"


def _ratio(lb: dict[str, Any] | None, other: dict[str, Any] | None, phase: str, key: str) -> str:
    try:
        a, b = lb[phase][key], other[phase][key]  # type: ignore[index]
        return f"{a / b:.2f}x" if a is not None and b else "-"
    except (KeyError, TypeError):
        return "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="1000,5000",
                        help="comma-separated subscriber counts (default 1000,5000)")
    parser.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                        help=f"any of {', '.join(TARGETS)} (default {','.join(DEFAULT_TARGETS)})")
    parser.add_argument("--compression", default="none",
                        help="comma-separated modes: none, once (livebracket), tornado (bare Tornado); default none")
    parser.add_argument("--rounds", type=int, default=1, help="run every session this many times, interleaved")
    parser.add_argument("--wire-players", type=int, default=64,
                        help="players of the tournament whose frames bench/wire.py measures (with --compression)")
    parser.add_argument("--throughput-s", type=float, default=5.0)
    parser.add_argument("--latency-s", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0, help="events per second in the latency phase")
    parser.add_argument("--ingest-s", type=float, default=5.0)
    parser.add_argument("--ingest-clients", type=int, default=8)
    parser.add_argument("--no-ingest", action="store_true")
    parser.add_argument("--json-out", type=Path, help="also write every raw result here")
    add_disturbance_arguments(parser, 60.0, "session")
    parser.add_argument("--no-pin", action="store_true",
                        help="let the scheduler place server and load generator (default: one core each)")
    parser.add_argument("--ping-interval-s", type=float, default=targets.PING_INTERVAL_S,
                        help="heartbeat/ping interval of every server (default: none inside a session); "
                             "e.g. 2 to hold the sockets with heartbeats while measuring")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy each server during its throughput phase (slows it: figures of a "
                             "profiled run are not comparable)")
    args = parser.parse_args(argv)
    targets.PING_INTERVAL_S = args.ping_interval_s
    args.subscribers = [int(n) for n in str(args.subscribers).split(",") if n.strip()]
    names = sorted((t.strip() for t in args.targets.split(",") if t.strip()), key=lambda t: t != "livebracket")
    unknown = [t for t in names if t not in TARGETS]
    if unknown or not args.subscribers or min(args.subscribers) < 1:
        parser.error(f"unknown targets {unknown}" if unknown else "--subscribers needs positive counts")
    args.compression = [m.strip() for m in str(args.compression).split(",") if m.strip()]
    plan = [(name, mode) for name in names for mode in args.compression if mode in TARGETS[name].compressions]
    unserved = [m for m in args.compression if all(mode != m for _, mode in plan)]
    if unserved or args.rounds < 1:
        parser.error(f"no target in --targets runs compression {unserved}" if unserved else "--rounds needs 1 or more")
    limit = raise_fd_limit()  # the servers started from here inherit it
    if max(args.subscribers) + 100 > limit:
        parser.error(f"{max(args.subscribers)} sockets need more than the open-file limit {limit}")

    args.server_cpus, args.loadgen_cpus = split_cpus(args.no_pin)
    info = machine()
    info["pinning"] = (f"server on CPU {sorted(args.server_cpus)}, load generator on CPU {sorted(args.loadgen_cpus)}"
                       if args.server_cpus else "none")
    progress(f"{info['cpu']}, {info['cores']} cores; targets {', '.join(names)}; N {args.subscribers}")
    wire_result = None
    if set(args.compression) - {"none"}:
        progress(f"bytes per frame: a {args.wire_players}-player tournament (bench/wire.py)")
        wire_result = wire.run(args.wire_players, 20)
    sessions = []
    frame_bytes = DEFAULT_FRAME_BYTES
    for n in args.subscribers:
        for round_ in range(1, args.rounds + 1):
            for name, mode in plan:  # livebracket first: the peers' events take the size of its frame
                result = on_a_quiet_machine(
                    args, f"{name} ({mode}), {n} subscribers, round {round_}",
                    lambda: run_session(TARGETS[name](mode), n, args, frame_bytes, round_),
                    lambda r: r.get("throughput", {}).get("other_cpu_pct"))
                result.update(compression=mode, round=round_)
                sessions.append(result)
                if name == "livebracket" and result.get("frame_bytes"):
                    frame_bytes = result["frame_bytes"]
                tp = result.get("throughput", {})
                progress(f"{name} ({mode}), {n} subscribers: {_rate(tp.get('deliveries_per_s'))} deliveries/s, "
                         f"verdict {'ok' if result.get('verdict', {}).get('ok') else 'FAIL'} "
                         f"({result['session_s']} s)")
    ingest_result: dict[str, Any] | None = None
    for attempt in range(0 if args.no_ingest else 1 + args.retries):
        busy = wait_for_quiet(args.quiet_wait_s)
        progress(f"REST ingest: {args.ingest_clients} clients for {args.ingest_s:g} s on the embedded store "
                 f"(machine {100 * busy:.0f}% busy before)")
        ingest_result = asyncio.run(run_ingest(args))
        progress(f"REST ingest: {ingest_result.get('requests_per_s', ingest_result.get('error'))} requests/s")
        if (ingest_result.get("other_cpu_pct") or 0.0) <= args.max_other_cpu:
            break
    print(report(info, sessions, ingest_result, args, wire_result), flush=True)
    if args.profile:
        for s in sessions:
            path = args.profile / profile_name(s["target"], s["compression"], s["n"], s["round"])
            if path.exists():
                print("\n```\n" + summarize(path) + "\n```")
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": info, "sessions": sessions, "ingest": ingest_result},
                                            indent=1))
    failed = [s for s in sessions if s.get("error") or not s.get("verdict", {}).get("ok")]
    if failed or (ingest_result is not None and (ingest_result.get("error") or ingest_result.get("failures"))):
        progress("FAIL: " + ", ".join(f"{s['target']} N={s['n']}" for s in failed) if failed
                 else "FAIL: REST ingest")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
