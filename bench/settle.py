"""`make bench-settle`: how long starting and settling an elimination bracket takes, by size.

    python -m bench.settle [--sizes 64,65,128,...] [--formats single_elimination,double_elimination]
                           [--store memory|embedded] [--repeat 3] [--profile]

For each format and size, `--repeat` times: a fresh store (a MemoryStore, or a MongoStore on
an nx-27017 server of its own), n participants registered straight in it, then, through
the services `server.build_services` makes, `BracketService.start` timed (seed, insert every
match, announce, `settle`: decide every bye and seat every player it moves on), then one more
`settle` timed on the settled bracket, which must write nothing. The best of the repeats is
shown; store calls are counted by the services' TimedStore. A power of two fills its
bracket (no byes: `settle` has nothing to decide); one past a power of two is the worst case
(2^k - 1 byes, chained in the losers bracket), so the default sizes take both. Prints a
markdown table on stdout (progress on stderr) and exits 1 if settling again wrote anything.
The method and the figures are in docs/performance.md, "Settling a bracket".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import dataclasses
import gc
import io
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench.run import children, machine, progress, wait_for_quiet
from bench.system import add_disturbance_arguments, cpu_times, machine_busy_s
from config import Config
from server import build_services
from storage.embedded import EmbeddedMongo
from storage.memory import MemoryStore
from storage.mongo import MongoStore
from tournament.brackets import MAX_PARTICIPANTS, MIN_PARTICIPANTS
from tournament.bracket_service import ELIMINATION, StartOptions
from tournament.models import Participant, Tournament, TournamentState
from tournament.roles import Principal, Role
from tournament.store import Store

# The embedded store makes a round trip per store call: up to 512 (with 513) keeps its run short.
DEFAULT_SIZES = {"memory": "64,65,128,129,256,257,512,513,1024",
                 "embedded": "64,65,128,129,256,257,512,513"}
ORGANIZER = Principal("bench", "Bench", Role.ORGANIZER)
TOURNAMENT_ID = "bench"
WRITES = ("save_match", "insert_match", "save_tournament", "insert_tournament", "delete_matches")

FreshStore = Callable[[str], contextlib.AbstractAsyncContextManager[Store]]


@dataclasses.dataclass(frozen=True)
class Run:
    """One start of a bracket and one settle of it afterwards, on a fresh store."""

    matches: int
    start_s: float
    start_settle_s: float  # of start_s, the settle that start ends with
    start_store_s: float  # of start_s, the time spent awaiting the store
    start_calls: collections.Counter[str]
    again_s: float
    again_calls: collections.Counter[str]


@dataclasses.dataclass(frozen=True)
class Row:
    """The best of the runs of one format and size."""

    fmt: str
    n: int
    runs: list[Run]
    other_cpu_pct: float  # what other processes took of a core while these runs ran

    @property
    def byes(self) -> int:
        return (1 << (self.n - 1).bit_length()) - self.n

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda r: r.start_s)

    @property
    def again_s(self) -> float:
        return min(r.again_s for r in self.runs)

    @property
    def again_writes(self) -> int:
        """Writes of the settles again, over every run: a settled bracket takes none."""
        return sum(r.again_calls[op] for r in self.runs for op in WRITES)

    def start_us_per_match(self) -> float:
        return 1e6 * self.best.start_s / self.best.matches

    def settle_us_per_match(self) -> float:
        return 1e6 * self.best.start_settle_s / self.best.matches

    def again_us_per_match(self) -> float:
        return 1e6 * self.again_s / self.best.matches


def cpu_s_of_ours() -> float:
    """CPU seconds of this process (all its threads) and of its children (embedded stores),
    running or ended."""
    ended = os.times()
    return (time.process_time() + ended.children_user + ended.children_system
            + sum(sum(cpu_times(pid)) for pid in children(os.getpid())))


def reads(calls: collections.Counter[str]) -> int:
    return sum(count for op, count in calls.items() if op.startswith(("get_", "list_")))


@contextlib.asynccontextmanager
async def fresh_memory(name: str) -> AsyncIterator[Store]:
    """A MemoryStore (the name matters to embedded stores only: their files)."""
    yield MemoryStore()


@contextlib.asynccontextmanager
async def fresh_embedded(data_dir: Path) -> AsyncIterator[Store]:
    """A MongoStore on an nx-27017 server of its own in `data_dir`, stopped on the way out.

    A server each, not a database each: nx-27017 keeps every database name in one namespace
    (a second database of one server sees the first one's documents)."""
    server = EmbeddedMongo(data_dir)
    store = MongoStore(await server.start(), "livebracket")
    try:
        await store.setup()
        yield store
    finally:
        await store.close()
        await server.stop()


@contextlib.asynccontextmanager
async def stores(kind: str) -> AsyncIterator[FreshStore]:
    """A maker of fresh stores, by name: dictionaries, or embedded servers whose files go in
    one temporary directory (removed on the way out)."""
    if kind == "memory":
        yield fresh_memory
        return
    with tempfile.TemporaryDirectory(prefix="livebracket-settle-") as workdir:
        yield lambda name: fresh_embedded(Path(workdir) / name)


async def register(store: Store, fmt: str, n: int) -> None:
    """A tournament in registration with `n` participants, seeded 1..n, written straight in."""
    await store.insert_tournament(Tournament(id=TOURNAMENT_ID, name="Bench", game="", format=fmt,
                                             state=TournamentState.REGISTRATION, created_by=ORGANIZER.user_id,
                                             created_at=1.0))
    for i in range(1, n + 1):
        await store.insert_participant(Participant(id=f"p{i}", tournament_id=TOURNAMENT_ID, name=f"P{i}",
                                                   seed=i, created_at=1.0 + i))


async def measure(fresh: FreshStore, config: Config, fmt: str, n: int, name: str,
                  profile: cProfile.Profile | None = None) -> Run:
    """Start a bracket of `n` on a fresh store and settle it once more; wall seconds of each
    (a `profile`, when given, records the start)."""
    async with fresh(name) as store:
        await register(store, fmt, n)
        services = build_services(config, store)
        settle, settle_s = services.brackets.settle, []

        async def timed_settle(tournament_id: str) -> None:
            started = time.perf_counter()
            await settle(tournament_id)
            settle_s.append(time.perf_counter() - started)

        # Only to time the settle that start ends with; this instance is thrown away after.
        services.brackets.settle = timed_settle  # type: ignore[method-assign]
        stats = services.store_stats
        stats.calls.clear()
        stats.seconds.clear()
        gc.collect()  # the garbage of the previous run is not this one's to collect
        if profile:
            profile.enable()
        started = time.perf_counter()
        await services.brackets.start(TOURNAMENT_ID, ORGANIZER, StartOptions())
        start_s = time.perf_counter() - started
        if profile:
            profile.disable()
        start_calls, start_store_s = collections.Counter(stats.calls), sum(stats.seconds.values())
        stats.calls.clear()
        gc.collect()
        started = time.perf_counter()
        await settle(TOURNAMENT_ID)
        again_s = time.perf_counter() - started
        again_calls = collections.Counter(stats.calls)
        matches = len(await store.list_matches(TOURNAMENT_ID))
    return Run(matches=matches, start_s=start_s, start_settle_s=settle_s[0], start_store_s=start_store_s,
               start_calls=start_calls, again_s=again_s, again_calls=again_calls)


def profile_summary(profile: cProfile.Profile, top: int = 12) -> str:
    """The functions that took most of a profiled start, by their own time."""
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    first = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return "\n".join(line for line in lines[first:] if line.strip())


def disturbance(other_cpu_pct: float, limit: float) -> str:
    """Other work's share of a core, in bold past `limit` (that row's figures are disturbed)."""
    return f"**{other_cpu_pct:.0f}%**" if other_cpu_pct > limit else f"{other_cpu_pct:.0f}%"


def report(rows: list[Row], args: argparse.Namespace, info: dict[str, Any]) -> str:
    store = "memory store" if args.store == "memory" else "embedded store (nx-27017 over loopback TCP)"
    out = [f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}; {store}; "
           f"livebracket {info['commit']}. Wall time, the fastest of {args.repeat} starts (settle-again: "
           f"the fastest of {args.repeat}); writes = save_match calls, reads = get_*/list_* calls, both "
           f"of `start`; of which settle = the `settle` that `start` ends with; in store = share of "
           f"`start` spent awaiting the store; other CPU = share of a core other processes took "
           f"meanwhile (in bold past {args.max_other_cpu:g}%: that row is disturbed).", "",
           "| format | n | byes | matches | writes | reads | start s | of which settle s | settle-again s "
           "| start µs/match | settle µs/match | settle-again µs/match | settle-again reads / writes "
           "| in store | other CPU |",
           "| --- " + "| ---: " * 14 + "|"]
    for row in rows:
        best = row.best
        again = f"{reads(best.again_calls)} / {row.again_writes}" + ("" if row.again_writes == 0 else " FAIL")
        out.append(f"| {row.fmt.replace('_elimination', '')} | {row.n} | {row.byes} | {best.matches} "
                   f"| {best.start_calls['save_match']} | {reads(best.start_calls)} | {best.start_s:.3f} "
                   f"| {best.start_settle_s:.3f} | {row.again_s:.4f} | {row.start_us_per_match():.0f} "
                   f"| {row.settle_us_per_match():.0f} | {row.again_us_per_match():.0f} "
                   f"| {again} | {100 * best.start_store_s / best.start_s:.0f}% "
                   f"| {disturbance(row.other_cpu_pct, args.max_other_cpu)} |")
    out += ["", "Growth of the time per match, largest n / smallest n of each kind "
                "(linear growth keeps it near 1):"]
    for fmt in args.formats:
        cells = []
        for kind, full in (("full brackets", True), ("with byes", False)):
            same = sorted((r for r in rows if r.fmt == fmt and (r.byes == 0) == full), key=lambda r: r.n)
            if len(same) >= 2:
                low, high = same[0], same[-1]
                cells.append(f"{kind} {high.n} vs {low.n}: start "
                             f"{high.start_us_per_match() / low.start_us_per_match():.2f}x, its settle "
                             f"{high.settle_us_per_match() / low.settle_us_per_match():.2f}x, settle again "
                             f"{high.again_us_per_match() / low.again_us_per_match():.2f}x")
        out.append(f"- {fmt}: " + ("; ".join(cells) if cells else "needs two sizes of a kind"))
    return "\n".join(out)


def row_json(row: Row) -> dict[str, Any]:
    """Every run of a row, as `--json-out` writes them."""
    runs = [{"matches": r.matches, "start_s": r.start_s, "start_settle_s": r.start_settle_s,
             "start_store_s": r.start_store_s, "start_calls": dict(r.start_calls), "again_s": r.again_s,
             "again_calls": dict(r.again_calls)} for r in row.runs]
    return {"format": row.fmt, "n": row.n, "byes": row.byes, "other_cpu_pct": row.other_cpu_pct, "runs": runs}


def parse_sizes(text: str) -> list[int]:
    """Comma-separated participant counts. Raises ValueError."""
    return [int(part) for part in text.split(",") if part.strip()]


async def bench(args: argparse.Namespace) -> list[Row]:
    config = Config(store=args.store, jwt_secret=secrets.token_urlsafe(32))
    rows = []
    async with stores(args.store) as fresh:
        for fmt in args.formats:  # untimed: first calls and lazy imports are no size's to pay
            await measure(fresh, config, fmt, 65, f"settle_{fmt[0]}_warmup")
        for fmt in args.formats:
            for n in args.sizes:
                for attempt in range(1 + args.retries):
                    busy = wait_for_quiet(args.quiet_wait_s)
                    busy0, ours0, started = machine_busy_s(), cpu_s_of_ours(), time.monotonic()
                    runs = [await measure(fresh, config, fmt, n, f"settle_{fmt[0]}{n}_{attempt}_{i}")
                            for i in range(args.repeat)]
                    elapsed = time.monotonic() - started
                    other = max(0.0, machine_busy_s() - busy0 - (cpu_s_of_ours() - ours0)) / elapsed
                    row = Row(fmt, n, runs, other_cpu_pct=round(100 * other, 1))
                    progress(f"{fmt} n={n}: {row.best.matches} matches, start {row.best.start_s:.3f} s "
                             f"({row.start_us_per_match():.0f} µs/match; its settle "
                             f"{row.best.start_settle_s:.3f} s), settle again {row.again_s:.4f} s (machine "
                             f"{100 * busy:.0f}% busy before, other work {row.other_cpu_pct:.0f}% of a core during)")
                    if row.other_cpu_pct <= args.max_other_cpu or attempt == args.retries:
                        break
                    progress(f"other work took more than {args.max_other_cpu:g}% of a core: again")
                rows.append(row)
            if args.profile:
                slowest = max((r for r in rows if r.fmt == fmt), key=lambda r: r.best.start_s).n
                profile = cProfile.Profile()
                await measure(fresh, config, fmt, slowest, f"settle_{fmt[0]}_profile", profile)
                print(f"\ncProfile of one start, {fmt}, n={slowest} (its slowest; slower than unprofiled):"
                      f"\n\n```\n{profile_summary(profile)}\n```", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.settle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help=f"comma-separated participant counts, {MIN_PARTICIPANTS} to "
                                        f"{MAX_PARTICIPANTS} (default: {DEFAULT_SIZES['memory']}; with "
                                        f"--store embedded {DEFAULT_SIZES['embedded']})")
    parser.add_argument("--formats", default=",".join(ELIMINATION), help=f"any of {', '.join(ELIMINATION)}")
    parser.add_argument("--store", choices=sorted(DEFAULT_SIZES), default="memory")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format and size; the best is shown")
    add_disturbance_arguments(parser, 30.0, "size")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one start of each format at its slowest size (on stderr)")
    parser.add_argument("--json-out", type=Path, help="also write every run's figures here")
    args = parser.parse_args(argv)
    try:
        args.sizes = parse_sizes(args.sizes or DEFAULT_SIZES[args.store])
    except ValueError:
        parser.error("--sizes takes comma-separated whole numbers")
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in args.formats if f not in ELIMINATION]
    if unknown or not args.formats:
        parser.error(f"unknown formats {unknown}; choose from {', '.join(ELIMINATION)}")
    if not args.sizes or args.repeat < 1 or not all(MIN_PARTICIPANTS <= n <= MAX_PARTICIPANTS for n in args.sizes):
        parser.error(f"--sizes takes counts from {MIN_PARTICIPANTS} to {MAX_PARTICIPANTS}, --repeat at least 1")
    info = machine()
    progress(f"{info['cpu']}, {info['cores']} cores; {args.store} store; formats {', '.join(args.formats)}; "
             f"n {args.sizes}; best of {args.repeat}")
    rows = asyncio.run(bench(args))
    print(report(rows, args, info), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": info, "store": args.store,
                                             "rows": [row_json(row) for row in rows]}, indent=1))
    wrote = [f"{r.fmt} n={r.n}" for r in rows if r.again_writes]
    if wrote:
        progress(f"FAIL: settling a settled bracket wrote: {', '.join(wrote)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
