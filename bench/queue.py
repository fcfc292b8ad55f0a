"""How long the call queue takes to decide, by bracket size: `callqueue.view` (what every
queue_updated carries) and `callqueue.plan` (auto-assign), on a started double elimination.

    python -m bench.queue [--sizes 64,256,1024] [--stations 16,64] [--repeat 5]

For each size: n participants registered in a MemoryStore, the bracket started through the
BracketService, then `view` and `plan` timed on its matches with each number of stations
(the best of the repeats). They run on the IOLoop after every move that changes a match's
state in a tournament with stations, so they must stay small against a frame's fan-out.
Prints a markdown table on stdout. The figures are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from storage.memory import MemoryStore
from tournament import callqueue
from tournament.bracket_service import BracketService, StartOptions
from tournament.events import NullPublisher
from tournament.models import CallPolicy, Match, Participant, Station, Tournament, TournamentState
from tournament.roles import Principal, Role
from tournament.writer import MatchWriter


async def started(n: int) -> list[Match]:
    store = MemoryStore()
    await store.insert_tournament(Tournament(id="t", name="Bench", game="", format="double_elimination",
                                             state=TournamentState.REGISTRATION, created_by="org", created_at=1.0))
    for i in range(1, n + 1):
        await store.insert_participant(Participant(id=f"p{i}", tournament_id="t", name=f"P{i}", seed=i,
                                                   created_at=1.0 + i))
    brackets = BracketService(store, MatchWriter(store, NullPublisher()), NullPublisher())
    await brackets.start("t", Principal("org", "Org", Role.ORGANIZER), StartOptions())
    return await store.list_matches("t")


def best_ms(repeat: int, work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        work()
        times.append(time.perf_counter() - begin)
    return min(times) * 1000


async def main(sizes: list[int], station_counts: list[int], repeat: int) -> None:
    print("| players | matches | stations | view ms | plan ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        matches = await started(n)
        for count in station_counts:
            stations = [Station(f"s{i}", f"Station {i}") for i in range(count)]
            view = best_ms(repeat, lambda: callqueue.view(matches, stations, CallPolicy(), 1e9))
            plan = best_ms(repeat, lambda: callqueue.plan(matches, stations, CallPolicy()))
            print(f"| {n} | {len(matches)} | {count} | {view:.1f} | {plan:.1f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="64,256,1024")
    parser.add_argument("--stations", default="16,64")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main([int(x) for x in args.sizes.split(",")], [int(x) for x in args.stations.split(",")],
                     args.repeat))
