"""Reconnect storm: a tournament room's sockets drop at once and recover (issue 18).

    python -m bench.storm [--runs 3] [--storm 2000] [--jitter-s 0,1] [--drop reset|silent]
                          [--profile DIR] [--tree DIR] [--json-out FILE]

Each run starts livebracket (`server.py --store memory`, pinned to one core as bench/run.py
does), makes a started single elimination of `--players` players and starts `--live-matches`
of its first-round matches, then runs bench/stormgen.py on the other core: `--storm` sockets
on the tournament room (the ones that drop), a few that stay, and `--live-per-room` sockets on
each of `--live-rooms` match rooms (the live rooms), with `--rate` guarded scores a second
across the live matches for the whole run. After `--before-s` every storm socket's TCP
connection is reset at once, and each reconnects after a delay drawn uniformly in `--jitter-s`
with `since` and `epoch`. The method and the figures: docs/performance.md#reconnect-storm.

Prints a markdown report on stdout (progress on stderr); exits 1 when any socket missed,
repeated or reordered an event, or a reconnect was not recovered. The goals (every socket
recovered within 3 s of reconnecting; the live rooms' p99 under 250 ms during the storm) are
reported as met or missed.

`--tree DIR` runs the server of another checkout (the same bench): an A/B of a server change.
`--profile DIR` records the server with py-spy from just before the drop (`--profile-s`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.profiles import summarize
from bench.run import machine, on_a_quiet_machine, progress, split_cpus
from bench.system import add_disturbance_arguments, raise_fd_limit
from bench.targets import HOST, LIVEBRACKET_LIMITS, ROOT, Livebracket, TargetError, pinned

RECOVER_GOAL_S = 3.0
LIVE_P99_GOAL_MS = 250.0
STORMGEN_TIMEOUT_S = 300


class StormServer(Livebracket):
    """livebracket as bench/run.py starts it, from `tree` (this checkout by default), with
    `extra_limits` after the benchmark's (a later `name=value` wins)."""

    def __init__(self, tree: Path, extra_limits: str, ping_interval_s: float) -> None:
        super().__init__()
        self.tree = tree
        self.extra_limits = extra_limits
        self.ping_interval_s = ping_interval_s

    def command(self) -> list[str]:
        limits = LIVEBRACKET_LIMITS + (f",{self.extra_limits}" if self.extra_limits else "")
        return [sys.executable, str(self.tree / "server.py"), "--store", "memory", "--port", str(self.port),
                "--data-dir", str(self.workdir / "data"), "--ping-interval-s", str(self.ping_interval_s),
                "--limits", limits]

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.tree)}

    def tournament(self, players: int, live: int) -> tuple[str, list[dict[str, Any]]]:
        """A started single elimination of `players` and `live` of its first-round matches
        started: (its id, those matches)."""
        tid = self.call("POST", "/api/tournaments", {"name": "Storm Cup", "game": "bench"})["id"]
        rows = [{"name": f"Player {i}", "id": f"p{i}"} for i in range(1, players + 1)]
        self.call("POST", f"/api/tournaments/{tid}/participants/bulk", {"participants": rows})
        self.call("POST", f"/api/tournaments/{tid}/start")
        matches = self.call("GET", f"/api/tournaments/{tid}/matches")["matches"]
        ready = [m for m in matches if m.get("round") == 1 and len([p for p in m["participant_ids"] if p]) == 2]
        if len(ready) < live:
            raise TargetError(f"only {len(ready)} first-round matches to start, {live} asked")
        return tid, [self.call("POST", f"/api/matches/{m['id']}/start") for m in ready[:live]]


def run_generator(target: StormServer, command: list[str], timeout_s: float, cpus: set[int] | None) -> dict[str, Any]:
    """Run a load generator (`command`, on `cpus`) against `target`: the JSON of its last line
    on stdout, with an `error` when the server exited meanwhile. Raises TargetError,
    subprocess.TimeoutExpired, json.JSONDecodeError."""
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True, timeout=timeout_s,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=pinned(cpus))
    if done.returncode != 0 or not done.stdout.strip():
        raise TargetError(f"{command[2]} exited with {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if target.process is not None and target.process.poll() is not None:
        result["error"] = f"the server exited with {target.process.returncode} during the run"
    return result


def run_once(args: argparse.Namespace, round_: int) -> dict[str, Any]:
    """One storm on a fresh server."""
    target = StormServer(args.tree, args.limits, args.ping_interval_s)
    started = time.monotonic()
    try:
        target.start(cpus=args.server_cpus)
        tid, matches = target.tournament(args.players, args.live_matches)
        spec = ",".join(f"{m['id']}:{m['version']}:{m['seq']}:{m['participant_ids'][0]}:{m['participant_ids'][1]}"
                        for m in matches)
        command = [sys.executable, "-m", "bench.stormgen", "--http", f"{HOST}:{target.port}", "--token", target.token,
                   "--tournament-id", tid, "--matches", spec, "--storm", str(args.storm),
                   "--control", str(args.control), "--live-rooms", str(args.live_rooms),
                   "--live-per-room", str(args.live_per_room), "--rate", str(args.rate),
                   "--before-s", str(args.before_s), "--after-s", str(args.after_s),
                   "--jitter-s", ",".join(str(x) for x in args.jitter_s), "--drop", args.drop,
                   "--recover-cap-s", str(args.recover_cap_s),
                   "--server-pid", str(target.pid)]
        if args.seed is not None:
            command += ["--seed", str(args.seed + round_)]
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            command += ["--profile-out", str(args.profile / f"storm-r{round_}.txt"), "--profile-s", str(args.profile_s),
                        "--py-spy", str(Path(sys.executable).with_name("py-spy"))]
        result = run_generator(target, command, STORMGEN_TIMEOUT_S, args.loadgen_cpus)
    except (TargetError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
        result = {"error": f"{type(e).__name__}: {e}"}
        progress(f"storm run {round_}: {result['error']} (its logs: {target.workdir})\n{target.log_tail(10)}")
    finally:
        target.stop()
    if "error" not in result:
        target.cleanup()
    result.update(round=round_, session_s=round(time.monotonic() - started, 1))
    return result


# -- the report ------------------------------------------------------------------------------


def _q(d: dict[str, Any] | None, keys: tuple[str, ...] = ("p50", "p99", "max"), scale: float = 1.0,
       fmt: str = "{:,.0f}") -> str:
    if not d or d.get(keys[0]) is None:
        return "-"
    return " / ".join(fmt.format(d[k] / scale) for k in keys)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value}%"


def goals(r: dict[str, Any]) -> dict[str, bool]:
    v = r.get("verdict", {})
    recover = r.get("recover_ms", {}).get("max")
    during = r.get("live_latency_ms", {}).get("during", {}).get("p99")
    return {"recovered": bool(v.get("ok")),
            "within_3s": recover is not None and recover <= 1000 * RECOVER_GOAL_S and bool(v.get("ok")),
            "live_p99": during is not None and during < LIVE_P99_GOAL_MS}


def report(info: dict[str, Any], runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    ok_runs = [r for r in runs if "error" not in r]
    out = [f"Machine: {info['cpu']}, {info['cores']} cores ({info['pinning']}); Python {info['python']}, "
           f"tornado {info['versions']['tornado']}, picows {info['versions']['picows']}, "
           f"uvloop {info['versions']['uvloop']}; livebracket "
           f"{info['commit']}{f' (server from {args.tree})' if args.tree != ROOT else ''}.",
           f"{args.storm} sockets on one tournament room ({args.players} players) dropped at once ({args.drop}) "
           f"after {args.before_s:g} s, each reconnecting after U[{args.jitter_s[0]:g}, {args.jitter_s[1]:g}] s with "
           f"since/epoch; {args.control} sockets stay in that room; live rooms: {args.live_rooms} match rooms x "
           f"{args.live_per_room} sockets; {args.rate:g} guarded scores/s over {args.live_matches} matches throughout. "
           f"Times from each socket's reconnect; latency from the publish request written.", "",
           "| run | reconnect -> welcome ms p50 / p99 / max | reconnect -> recovered ms p50 / p99 / max "
           "| all recovered after the drop s | over 3 s | failed attempts | checked |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in runs:
        if "error" in r:
            out.append(f"| {r['round']} | error: {r['error']} | | | | | |")
            continue
        v = r["verdict"]
        checked = ("ok" if v["ok"] else
                   f"FAIL: {v['gaps']} gaps, {v['duplicates']} twice, {v['unrecovered']} not recovered, "
                   f"{v['sockets_behind']} behind, {v['lost']} lost {v['server_close_codes']}")
        out.append(f"| {r['round']} | {_q(r['welcome_ms'])} | {_q(r['recover_ms'])} "
                   f"| {r['all_recovered_after_drop_s'] if r['all_recovered_after_drop_s'] is not None else '-'} "
                   f"| {r['over_3s']} | {r['retries']['failed']} | {checked} |")
    out += ["", "Per-socket replay (frames after `since` sent after the welcome; bytes of their JSON) and welcome:", "",
            "| run | replay frames min / p50 / p99 / max | replay KB min / p50 / p99 / max | welcome KB "
            "| replay time ms p50 / p99 / max |",
            "| ---: | ---: | ---: | ---: | ---: |"]
    four = ("min", "p50", "p99", "max")
    for r in ok_runs:
        out.append(f"| {r['round']} | {_q(r['replay_frames'], four)} | {_q(r['replay_bytes'], four, 1024, '{:,.1f}')} "
                   f"| {_q(r['welcome_bytes'], ('p50',), 1024, '{:,.1f}')} | {_q(r['replay_ms'])} |")
    out += ["", "Live traffic: the live rooms' delivery latency (ms, p50 / p99), by the publish's time: before the "
                "drop, during (the drop until every socket recovered), after; the stormed room's own sockets that "
                "stayed; the publishes' REST answers; CPU (share of a core).", "",
            "| run | live rooms before | during | after | stormed room during | REST answer during "
            "| server CPU before / during / after | server peak 1 s | loadgen CPU during | other CPU during |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    two = ("p50", "p99")
    for r in ok_runs:
        live, room, rest, cpu = r["live_latency_ms"], r["room_latency_ms"], r["rest_answer_ms"], r["cpu"]
        out.append(f"| {r['round']} | {_q(live['before'], two, fmt='{:,.1f}')} "
                   f"| {_q(live['during'], two, fmt='{:,.1f}')} "
                   f"| {_q(live['after'], two, fmt='{:,.1f}')} | {_q(room['during'], two, fmt='{:,.1f}')} "
                   f"| {_q(rest['during'], two, fmt='{:,.1f}')} "
                   f"| {cpu['before']['server_cpu_pct']}% / {cpu['during']['server_cpu_pct']}% / "
                   f"{cpu['after']['server_cpu_pct']}% | {_pct(cpu['peak_1s_server_pct'])} "
                   f"| {_pct(cpu['during']['loadgen_cpu_pct'])} | {_pct(cpu['during']['other_cpu_pct'])} |")
    if ok_runs:
        def spread(values: list[float], unit: str, fmt: str = "{:,.0f}") -> str:
            values = [v for v in values if v is not None]
            if not values:
                return "-"
            return (f"{fmt.format(min(values))}-{fmt.format(max(values))} {unit} "
                    f"(median {fmt.format(statistics.median(values))})")

        met = [goals(r) for r in ok_runs]
        out += ["", f"Over {len(ok_runs)} runs: slowest socket's recovery "
                    f"{spread([r['recover_ms']['max'] for r in ok_runs], 'ms')}; all recovered "
                    f"{spread([r['all_recovered_after_drop_s'] for r in ok_runs], 's after the drop', '{:.2f}')}; "
                    f"live rooms' p99 during the storm "
                    f"{spread([r['live_latency_ms']['during']['p99'] for r in ok_runs], 'ms', '{:,.1f}')}, "
                    f"before {spread([r['live_latency_ms']['before']['p99'] for r in ok_runs], 'ms', '{:,.1f}')}.",
                "",
                f"- Every socket recovered (recovered: true, nothing missed, nothing twice): "
                f"{'met' if all(g['recovered'] for g in met) else 'MISSED'} "
                f"({sum(g['recovered'] for g in met)}/{len(met)} runs).",
                f"- Each within {RECOVER_GOAL_S:g} s of reconnecting: "
                f"{'met' if all(g['within_3s'] for g in met) else 'MISSED'} "
                f"({sum(g['within_3s'] for g in met)}/{len(met)} runs).",
                f"- Live rooms' p99 under {LIVE_P99_GOAL_MS:g} ms during the storm: "
                f"{'met' if all(g['live_p99'] for g in met) else 'MISSED'} "
                f"({sum(g['live_p99'] for g in met)}/{len(met)} runs)."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="storms, each on a fresh server (default 3)")
    parser.add_argument("--storm", type=int, default=2000, help="tournament-room sockets that drop")
    parser.add_argument("--control", type=int, default=20, help="tournament-room sockets that stay")
    parser.add_argument("--players", type=int, default=64, help="players of the tournament (its welcome's size)")
    parser.add_argument("--live-matches", type=int, default=8, help="matches the scores go to")
    parser.add_argument("--live-rooms", type=int, default=4, help="of those, match rooms with sockets that stay")
    parser.add_argument("--live-per-room", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="scores per second, in all")
    parser.add_argument("--before-s", type=float, default=5.0)
    parser.add_argument("--after-s", type=float, default=5.0)
    parser.add_argument("--jitter-s", type=lambda s: tuple(float(x) for x in s.split(",")), default=(0.0, 1.0),
                        help="reconnect delays, uniform in LOW,HIGH seconds (default 0,1; the pages' first "
                             "retry is 0.5,1)")
    parser.add_argument("--drop", choices=("reset", "silent"), default="reset",
                        help="reset: TCP RST, no close frame; silent: left open and unread")
    parser.add_argument("--recover-cap-s", type=float, default=60.0,
                        help="longest wait for every socket to recover (then the run goes on and fails)")
    parser.add_argument("--limits", default="", help="limits after the benchmark's, e.g. tournament_room_max=2000")
    parser.add_argument("--ping-interval-s", type=float, default=300.0,
                        help="the server's heartbeat (default: none inside a run)")
    parser.add_argument("--seed", type=int, help="seed of the reconnect delays (run r uses SEED + r)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="run the server of this checkout")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy the server from the drop on")
    parser.add_argument("--profile-s", type=float, default=8.0)
    parser.add_argument("--json-out", type=Path, help="also write every raw result here")
    parser.add_argument("--no-pin", action="store_true")
    add_disturbance_arguments(parser, 60.0, "run")
    args = parser.parse_args(argv)
    if len(args.jitter_s) != 2 or args.runs < 1 or args.live_rooms > args.live_matches:
        parser.error("--jitter-s needs LOW,HIGH; --runs 1 or more; --live-rooms at most --live-matches")
    args.tree = args.tree.resolve()
    limit = raise_fd_limit()  # the server inherits it
    sockets = args.storm * 2 + args.control + args.live_rooms * args.live_per_room + 100
    if sockets > limit:
        parser.error(f"{sockets} descriptors needed, the open-file limit is {limit}")
    args.server_cpus, args.loadgen_cpus = split_cpus(args.no_pin)
    info = machine()
    info["pinning"] = (f"server on CPU {sorted(args.server_cpus)}, load generator on CPU {sorted(args.loadgen_cpus)}"
                       if args.server_cpus else "none")
    runs = []
    for round_ in range(1, args.runs + 1):
        result = on_a_quiet_machine(args, f"storm run {round_}: {args.storm} sockets", lambda: run_once(args, round_),
                                    lambda r: r.get("cpu", {}).get("during", {}).get("other_cpu_pct"))
        runs.append(result)
        if "error" not in result:
            progress(f"storm run {round_}: slowest recovery {result['recover_ms']['max']} ms, live p99 during "
                     f"{result['live_latency_ms']['during']['p99']} ms, "
                     f"{'ok' if result['verdict']['ok'] else 'FAIL'} ({result['session_s']} s)")
    print(report(info, runs, args), flush=True)
    if args.profile:
        for r in runs:
            path = args.profile / f"storm-r{r['round']}.txt"
            if path.exists():
                print("\n```\n" + summarize(path) + "\n```")
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                                             "runs": runs}, indent=1))
    failed = [r for r in runs if r.get("error") or not r.get("verdict", {}).get("ok")]
    if failed:
        progress("FAIL: " + ", ".join(f"run {r['round']}" for r in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
