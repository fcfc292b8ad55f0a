"""Webhook delivery: how fast one webhook's outbox drains to a receiver, and what queueing an
event for webhooks costs the write path.

    python -m bench.webhooks [--events 2000] [--store memory|embedded] [--hooks 1,10]

A tournament with `--hooks` webhooks (each to a loopback Tornado receiver answering 200 at
once), in one process with the services `server.build_services` makes. `--events` events
are handed to the outbox as the writer hands them (`WebhookOutbox.publish`); the time to queue
them all is the write path's cost, and the time until the receiver has every delivery (in
order, checked) is the delivery rate, per webhook and in all. Prints a markdown table on stdout.
The figures are in docs/performance.md, "Webhooks".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from bench.settle import fresh_embedded
from config import Config
from server import build_services
from storage.memory import MemoryStore
from tournament.models import Event, Tournament, TournamentState, match_stream
from tournament.roles import Principal, Role
from tournament.store import Store

ORGANIZER = Principal("bench", "Bench", Role.ORGANIZER)


class Receiver:
    """Answers 200 at once; keeps each webhook's seqs in arrival order."""

    def __init__(self) -> None:
        self.seqs: dict[str, list[int]] = {}
        self.count = 0
        self.done = asyncio.Event()
        self.expected = 0
        receiver = self

        class Hook(RequestHandler):
            def post(self) -> None:
                body = json.loads(self.request.body)
                receiver.seqs.setdefault(body["webhook_id"], []).append(body["seq"])
                receiver.count += 1
                if receiver.count >= receiver.expected:
                    receiver.done.set()

        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.server = HTTPServer(Application([(r"/hook", Hook)], log_function=lambda handler: None))
        self.server.add_sockets(sockets)


@contextlib.asynccontextmanager
async def open_store(kind: str) -> AsyncIterator[Store]:
    if kind == "memory":
        yield MemoryStore()
        return
    with tempfile.TemporaryDirectory(prefix="livebracket-webhooks-") as workdir:
        async with fresh_embedded(Path(workdir)) as store:
            yield store


async def run(kind: str, hooks: int, events: int) -> dict[str, float]:
    receiver = Receiver()
    async with open_store(kind) as store:
        config = Config(store="memory", jwt_secret="b" * 32, port=0)
        services = build_services(config, store)
        services.outbox.start()
        await services.outbox.loaded()
        await store.insert_tournament(Tournament(id="t1", name="Bench", game="", format="single_elimination",
                                                 state=TournamentState.LIVE, created_by="bench", created_at=1.0))
        for _ in range(hooks):
            await services.webhooks.create("t1", ORGANIZER, f"http://127.0.0.1:{receiver.port}/hook")
        receiver.expected = hooks * events
        started = time.perf_counter()
        for seq in range(1, events + 1):
            services.outbox.publish(Event(stream=match_stream("t1-W1-1"), seq=seq, type="score_updated",
                                          data={"tournament_id": "t1", "match_id": "t1-W1-1",
                                                "scores": {"a": seq, "b": 0}}, ts=time.time()))
        queued = time.perf_counter() - started
        await asyncio.wait_for(receiver.done.wait(), 600)
        drained = time.perf_counter() - started
        for seqs in receiver.seqs.values():
            assert seqs == list(range(1, events + 1)), "out of order or missing"
        await services.outbox.close()
        receiver.server.stop()
    return {"queue_us": queued / events * 1e6, "per_hook_s": events / drained, "all_s": hooks * events / drained}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--store", default="memory", choices=("memory", "embedded"))
    parser.add_argument("--hooks", default="1,10")
    args = parser.parse_args()
    print("| store | webhooks | queueing, µs per event | deliveries/s per webhook | deliveries/s in all |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for hooks in (int(n) for n in args.hooks.split(",")):
        figures = await run(args.store, hooks, args.events)
        print(f"| {args.store} | {hooks} | {figures['queue_us']:.1f} | {figures['per_hook_s']:,.0f} | "
              f"{figures['all_s']:,.0f} |", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
