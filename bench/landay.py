"""LAN day: 32 live matches, 2,000 sockets on their tournament room, 50 on each match room (issue 18, part 1).

    python -m bench.landay [--modes coalesced,each] [--runs 1] [--duration-s 60] [--quick]
                           [--profile DIR] [--json-out FILE]

Each run starts livebracket (`server.py --store memory`, pinned to one core as bench/run.py
does; mode `each` adds `--tournament-window-s 0`: one tournament-room frame per score instead of
one `scores_updated` per window), makes a started single elimination of `--players` players and
starts `--matches` of its first-round matches (bench/storm.py's StormServer), then runs
bench/landaygen.py on the other core: `--tournament-sockets` on the tournament room (`--probes`
of them parse every frame), `--per-match` on each match room, and `--rate` live scores a second
to each match for `--duration-s`, half over REST (`POST .../score` without If-Match), half over
a game server's socket (`update_score`); then every match is completed. The method and the
figures: docs/performance.md#lan-day.

Prints a markdown report on stdout (progress on stderr). The goals (p99 delivery under 150 ms on
both kinds of room, the server's core under 70% busy, no socket dropped) are reported as met or
MISSED per mode. Exits 1 when a run of the coalesced mode fails a check (a gap, a duplicate, a
score out of order or after its match's completion, a final state unlike the store's, a socket
dropped or behind, an answer missing or refused) or a run errs (the server exits, the generator
fails); a run of mode `each` fails it only by its order checks (gaps, duplicates, scores out of
order or after completion) or by erring: that mode is the baseline, expected to miss the goals,
and what overload does to it (sockets dropped as slow consumers or still behind, answers
missing after `--drain-s`) is reported as missed, not as a broken promise.

`--profile DIR` records the server with py-spy in the steady part of each run (`--profile-s`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.profiles import summarize
from bench.run import machine, on_a_quiet_machine, progress, split_cpus
from bench.storm import StormServer, run_generator
from bench.system import add_disturbance_arguments, raise_fd_limit
from bench.targets import HOST, ROOT, TargetError

P99_GOAL_MS = 150.0
CPU_GOAL_PCT = 70.0
MODES = ("coalesced", "each")


class LanDayServer(StormServer):
    """The storm bench's server, with `extra_args` after its options (`--tournament-window-s 0`)."""

    def __init__(self, extra_args: list[str], extra_limits: str = "") -> None:
        super().__init__(ROOT, extra_limits, 300.0)
        self.extra_args = extra_args

    def command(self) -> list[str]:
        return [*super().command(), *self.extra_args]


def run_once(args: argparse.Namespace, mode: str, round_: int) -> dict[str, Any]:
    """One LAN day on a fresh server."""
    window = "0" if mode == "each" else args.tournament_window_s
    target = LanDayServer(["--tournament-window-s", window] if window else [], args.limits)
    started = time.monotonic()
    try:
        target.start(cpus=args.server_cpus)
        tid, matches = target.tournament(args.players, args.matches)
        spec = ",".join(f"{m['id']}:{m['version']}:{m['seq']}:{m['participant_ids'][0]}:{m['participant_ids'][1]}"
                        for m in matches)
        command = [sys.executable, "-m", "bench.landaygen", "--http", f"{HOST}:{target.port}",
                   "--token", target.token, "--tournament-id", tid, "--matches", spec,
                   "--tournament-sockets", str(args.tournament_sockets), "--probes", str(args.probes),
                   "--per-match", str(args.per_match), "--rate", str(args.rate),
                   "--duration-s", str(args.duration_s), "--rest-connections", str(args.rest_connections),
                   "--warm-s", str(args.warm_s), "--drain-s", str(args.drain_s), "--server-pid", str(target.pid)]
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            command += ["--profile-out", str(args.profile / f"landay-{mode}-r{round_}.txt"),
                        "--profile-s", str(args.profile_s), "--py-spy", str(Path(sys.executable).with_name("py-spy"))]
        timeout = args.duration_s + 4 * args.drain_s + 180
        result = run_generator(target, command, timeout, args.loadgen_cpus)
    except (TargetError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
        result = {"error": f"{type(e).__name__}: {e}"}
        progress(f"landay {mode} run {round_}: {result['error']} (its logs: {target.workdir})\n{target.log_tail(10)}")
    finally:
        target.stop()
    if "error" not in result:
        target.cleanup()
    result.update(mode=mode, round=round_, session_s=round(time.monotonic() - started, 1))
    return result


# -- the report ------------------------------------------------------------------------------


def goals(r: dict[str, Any]) -> dict[str, bool]:
    match_p99 = r.get("match_latency_ms", {}).get("p99")
    room_p99 = r.get("room_latency_ms", {}).get("p99")
    cpu = r.get("cpu", {}).get("server_cpu_pct")
    return {"p99": (match_p99 is not None and room_p99 is not None
                    and match_p99 < P99_GOAL_MS and room_p99 < P99_GOAL_MS),
            "cpu": cpu is not None and cpu < CPU_GOAL_PCT,
            "dropped": r.get("verdict", {}).get("dropped", 1) == 0}


def failed(r: dict[str, Any]) -> bool:
    """The run broke a check its mode is held to (see the module's docstring)."""
    if "error" in r:
        return True
    return not r["verdict"]["ok"] if r["mode"] == "coalesced" else not r["verdict"]["order_ok"]


def _q(d: dict[str, Any] | None, keys: tuple[str, ...] = ("p50", "p99", "max"), fmt: str = "{:,.1f}") -> str:
    if not d or d.get(keys[0]) is None:
        return "-"
    return " / ".join(fmt.format(d[k]) for k in keys)


def _checked(r: dict[str, Any]) -> str:
    v = r["verdict"]
    if v["ok"]:
        return "ok"
    parts = [f"{v[k]} {k.replace('_', ' ')}" for k in ("gaps", "duplicates", "scores_backwards", "match_seq_backwards",
                                                      "score_after_completion", "final_state_mismatches",
                                                      "sockets_behind", "dropped", "foreign", "acks_missing") if v[k]]
    if v["errors"]:
        parts.append(f"errors: {v['errors'][0][:80]}")
    if v["close_codes"]:
        parts.append(f"closed {', '.join(v['close_codes'])}")
    return ("order ok; " if v["order_ok"] else "**ORDER**: ") + ", ".join(parts)


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e6:,.1f}"


def median(runs: list[dict[str, Any]], *path: str) -> float | None:
    values = []
    for r in runs:
        d: Any = r
        for key in path:
            d = d.get(key) if isinstance(d, dict) else None
        if isinstance(d, (int, float)):
            values.append(float(d))
    return statistics.median(values) if values else None


def report(info: dict[str, Any], runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    out = [f"Machine: {info['cpu']}, {info['cores']} cores ({info['pinning']}); Python {info['python']}, "
           f"tornado {info['versions']['tornado']}, picows {info['versions']['picows']}, "
           f"uvloop {info['versions']['uvloop']}; livebracket {info['commit']}.",
           f"{args.matches} live first-round matches of a {args.players}-player single elimination, {args.rate:g} "
           f"live scores a second each for {args.duration_s:g} s ({args.matches // 2} over REST without If-Match, "
           f"{args.rest_connections} connections each; {args.matches - args.matches // 2} over a game server's socket); "
           f"{args.tournament_sockets} sockets on the tournament room ({args.probes} probes parse every frame), "
           f"{args.per_match} on each match room. Latency: a frame's arrival minus the send time of the newest update "
           f"it carries (tournament room: per match update, on the probes). CPU and traffic: the steady part "
           f"(after {min(args.warm_s, args.duration_s / 4):g} s). Coalesced window: "
           f"{args.tournament_window_s or 'the server default'}{' s' if args.tournament_window_s else ''}.", "",
           "| mode | run | match rooms ms p50 / p99 / max | tournament room ms p50 / p99 / max "
           "| REST answer ms p50 / p99 | socket ack ms p50 / p99 | checked |",
           "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in runs:
        if "error" in r:
            out.append(f"| {r['mode']} | {r['round']} | error: {r['error']} | | | | |")
            continue
        out.append(f"| {r['mode']} | {r['round']} | {_q(r['match_latency_ms'])} | {_q(r['room_latency_ms'])} "
                   f"| {_q(r['rest_answer_ms'], ('p50', 'p99'))} | {_q(r['ack_ms'], ('p50', 'p99'))} "
                   f"| {_checked(r)} |")
    ok_runs = [r for r in runs if "error" not in r]
    out += ["", "| mode | run | server CPU steady / busiest 1 s | generator CPU | other CPU "
                "| tournament room frames/s, MB/s, KB/frame | match rooms frames/s, MB/s | server RSS MB before / end "
                "| dropped |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in ok_runs:
        cpu, room, match = r["cpu"], r["traffic"]["tournament_room"], r["traffic"]["match"]
        rss = " / ".join("-" if r.get(k) is None else f"{r[k] / 1024:,.0f}" for k in ("rss_before_kb", "rss_end_kb"))
        per_frame = "-" if room["bytes_per_frame"] is None else f"{room['bytes_per_frame'] / 1024:,.1f}"
        out.append(f"| {r['mode']} | {r['round']} | {cpu['server_cpu_pct']}% / {cpu['peak_1s_server_pct']}% "
                   f"| {cpu['loadgen_cpu_pct']}% | {cpu['other_cpu_pct']}% "
                   f"| {room['frames_per_s']:,.0f}, {_mb(room['bytes_per_s'])}, {per_frame} "
                   f"| {match['frames_per_s']:,.0f}, {_mb(match['bytes_per_s'])} | {rss} "
                   f"| {r['verdict']['dropped']} |")
    out += ["", "Tournament room latency by how the match is fed (ms p50 / p99 / max): "
            + "; ".join(f"{r['mode']} run {r['round']}: socket-fed {_q(r.get('room_latency_socket_fed_ms'))}, "
                        f"REST-fed {_q(r.get('room_latency_rest_fed_ms'))}" for r in ok_runs) + ".", ""]
    for mode in args.modes:
        mine = [r for r in ok_runs if r["mode"] == mode]
        if not mine:
            out.append(f"- **{mode}**: no measured run.")
            continue
        met = [goals(r) for r in mine]

        def verdict(key: str) -> str:
            n = sum(g[key] for g in met)
            return f"{'met' if n == len(met) else 'MISSED'} ({n}/{len(met)} runs)"

        out.append(f"- **{mode}**: p99 under {P99_GOAL_MS:g} ms on both kinds of room {verdict('p99')}; "
                   f"server core under {CPU_GOAL_PCT:g}% busy {verdict('cpu')}; no socket dropped {verdict('dropped')}.")
    coalesced = [r for r in ok_runs if r["mode"] == "coalesced"]
    each = [r for r in ok_runs if r["mode"] == "each"]
    if coalesced and each:
        def ratio(*path: str) -> str:
            a, b = median(each, *path), median(coalesced, *path)
            return "-" if a is None or not b else f"{a / b:,.2f}x"

        out.append(f"- each / coalesced (medians): tournament room p99 {ratio('room_latency_ms', 'p99')}, "
                   f"match rooms p99 {ratio('match_latency_ms', 'p99')}, server CPU {ratio('cpu', 'server_cpu_pct')}, "
                   f"tournament room frames/s {ratio('traffic', 'tournament_room', 'frames_per_s')}, "
                   f"its bytes/s {ratio('traffic', 'tournament_room', 'bytes_per_s')}.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.landay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", type=lambda s: tuple(s.split(",")), default=MODES,
                        help="coalesced (the server's default), each (--tournament-window-s 0), in that order")
    parser.add_argument("--runs", type=int, default=1, help="runs per mode, each on a fresh server")
    parser.add_argument("--players", type=int, default=64)
    parser.add_argument("--matches", type=int, default=32, help="live first-round matches (half over REST)")
    parser.add_argument("--tournament-sockets", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--per-match", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="live scores a second, per match")
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--rest-connections", type=int, default=4)
    parser.add_argument("--warm-s", type=float, default=5.0)
    parser.add_argument("--drain-s", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 8 matches, 200 tournament sockets (10 probes), 10 per match room, 10 s")
    parser.add_argument("--tournament-window-s", default="",
                        help="the coalesced mode's window (default: the server's, its batch window)")
    parser.add_argument("--limits", default="", help="limits after the benchmark's")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy the server in each run's steady part")
    parser.add_argument("--profile-s", type=float, default=10.0)
    parser.add_argument("--json-out", type=Path, help="also write every raw result here")
    parser.add_argument("--no-pin", action="store_true")
    add_disturbance_arguments(parser, 60.0, "run")
    args = parser.parse_args(argv)
    if args.quick:
        args.matches, args.tournament_sockets, args.probes, args.per_match = 8, 200, 10, 10
        args.duration_s, args.warm_s, args.drain_s = 10.0, 2.0, 15.0
    if args.runs < 1 or not set(args.modes) <= set(MODES) or args.matches > args.players // 2:
        parser.error("--runs 1 or more; --modes of coalesced,each; --matches at most half the players")
    limit = raise_fd_limit()  # the server inherits it
    sockets = args.tournament_sockets + args.matches * (args.per_match + 1 + args.rest_connections) + 100
    if sockets > limit:
        parser.error(f"{sockets} descriptors needed, the open-file limit is {limit}")
    args.server_cpus, args.loadgen_cpus = split_cpus(args.no_pin)
    info = machine()
    info["pinning"] = (f"server on CPU {sorted(args.server_cpus)}, load generator on CPU {sorted(args.loadgen_cpus)}"
                       if args.server_cpus else "none")
    runs = []
    for mode in args.modes:
        for round_ in range(1, args.runs + 1):
            result = on_a_quiet_machine(args, f"landay {mode} run {round_}", lambda: run_once(args, mode, round_),
                                        lambda r: r.get("cpu", {}).get("other_cpu_pct"))
            runs.append(result)
            if "error" not in result:
                progress(f"landay {mode} run {round_}: p99 match {result['match_latency_ms']['p99']} ms, "
                         f"tournament {result['room_latency_ms']['p99']} ms, server {result['cpu']['server_cpu_pct']}%, "
                         f"{'FAIL' if failed(result) else 'ok'} ({result['session_s']} s)")
    print(report(info, runs, args), flush=True)
    if args.profile:
        for r in runs:
            path = args.profile / f"landay-{r['mode']}-r{r['round']}.txt"
            if path.exists():
                print(f"\n{r['mode']} run {r['round']}:\n```\n" + summarize(path) + "\n```")
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                                             "runs": runs}, indent=1))
    bad = [r for r in runs if failed(r)]
    if bad:
        progress("FAIL: " + ", ".join(f"{r['mode']} run {r['round']}" for r in bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
