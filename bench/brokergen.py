"""bench/loadgen.py's session spread over several livebracket nodes, with the server side's CPU by role.

    python -m bench.brokergen --node 'ws://127.0.0.1:P1/ws/match/M?token=T' --node ... \\
        --match-id M --token T --version 2 --base-seq 1 --subscribers 1000 \\
        --pids nodes=11,12 --pids redis=13 --pids store=14 [--pipeline 1]

The subscribers are dealt to the nodes in turn (subscriber i to node i mod the nodes), and event
k's guarded score (`POST /api/matches/<id>/score` with `If-Match`) goes to node k mod the nodes:
every node both writes and fans out, and each event reaches the other node's sockets only
through the broker. Everything else is bench/loadgen.py's `Session`: the same phases, the same
latency stamps, the same check that every subscriber got every event once and in order.

`--pipeline` is the publish requests in flight in the throughput phase (loadgen's is 2). Two
nodes need 1: request k+1 to one node is checked against the match's version before request k
committed on the other, and refused.

CPU is read from /proc for each role's processes (`--pids ROLE=PID,...`) over each phase, and
reported per event (µs of CPU per event published in the phase). Prints one JSON object on
stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import sys
import time
import urllib.parse
from typing import Any

import uvloop
from picows import WSUpgradeRequest, WSUpgradeResponse, ws_connect

from bench.httpclient import HttpError
from bench.loadgen import MAX_EVENTS, Phase, Session, Subscriber, progress
from bench.publishers import LivebracketPublisher, PublishError, Publisher
from bench.system import cpu_times, raise_fd_limit


class SpreadPublisher(Publisher):
    """One match's guarded scores, event k to node k mod the nodes, each over its own connection.

    The If-Match of event k is the match's version before event 1 plus k - 1 whichever node
    takes it (the guard is the store's, shared), and every answer is checked as loadgen's are."""

    def __init__(self, addresses: list[tuple[str, int]], match_id: str, token: str, version: int,
                 base_seq: int) -> None:
        self.nodes = [LivebracketPublisher(host, port, match_id, token, version, base_seq)
                      for host, port in addresses]
        self.base_seq = base_seq

    async def open(self) -> None:
        for node in self.nodes:
            await node.open()

    def send(self, k: int) -> None:
        self.nodes[k % len(self.nodes)].send(k)

    async def receive(self, k: int) -> None:
        await self.nodes[k % len(self.nodes)].receive(k)

    def close(self) -> None:
        for node in self.nodes:
            node.close()


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    return sum(sum(cpu_times(pid)) for pid in pids)


class SpreadSession(Session):
    """loadgen's session with its subscribers on several nodes and CPU counted per role."""

    def __init__(self, n: int, publisher: Publisher, window: int, roles: dict[str, list[int]],
                 pipeline: int) -> None:
        super().__init__(n, publisher, window, None)  # the server's CPU: per role, below
        self.roles = roles
        self.pipeline = pipeline
        self.role_cpu: dict[int, tuple[dict[str, float], dict[str, float]]] = {}
        self.placed = collections.Counter[str]()

    def _cpu(self) -> dict[str, float]:
        return {role: cpu_s(pids) for role, pids in self.roles.items()}

    async def connect_spread(self, urls: list[str], concurrency: int, timeout_s: float) -> float:
        """Open every subscriber (number i on urls[i mod len(urls)]), at most `concurrency`
        handshakes at a time, and wait for every welcome; seconds taken."""
        started = time.perf_counter()
        gate = asyncio.Semaphore(concurrency)
        failures: list[str] = []

        def subscriber(request: WSUpgradeRequest, response: WSUpgradeResponse) -> Subscriber:
            return Subscriber(self)

        async def one(url: str) -> None:
            async with gate:
                for attempt in range(4):
                    try:
                        _, sub = await ws_connect(subscriber, url, enable_auto_ping=False,
                                                  read_buffer_init_size=4096, websocket_handshake_timeout=20)
                        assert isinstance(sub, Subscriber)
                        self.subscribers.append(sub)
                        self.placed[urllib.parse.urlsplit(url).netloc] += 1
                        return
                    except Exception as e:  # refused, reset, timed out: retried, then reported
                        if attempt == 3:
                            failures.append(repr(e))
                        await asyncio.sleep(0.2 * (attempt + 1))

        tasks = [asyncio.ensure_future(one(urls[i % len(urls)])) for i in range(self.n)]
        done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        if failures or len(self.subscribers) < self.n:
            raise SystemExit(f"brokergen: only {len(self.subscribers)}/{self.n} sockets connected "
                             f"({len(failures)} failed, e.g. {failures[:1]})")
        try:
            await asyncio.wait_for(self.all_welcomed.wait(), max(1.0, started + timeout_s - time.perf_counter()))
        except asyncio.TimeoutError:
            raise SystemExit(f"brokergen: only {self.welcome_count}/{self.n} sockets were welcomed") from None
        return time.perf_counter() - started

    async def _throughput_publish(self, duration_s: float, max_lag_s: float, stall_s: float) -> None:
        """loadgen's throughput phase with `pipeline` requests in flight."""
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
                while len(answers) >= self.pipeline:
                    await self.publisher.receive(answers.popleft())
                k += 1
                self._send(k)
                answers.append(k)
        finally:
            while answers:
                await self.publisher.receive(answers.popleft())

    def _begin(self, index: int) -> Phase:
        phase = super()._begin(index)
        self.role_cpu[index] = (self._cpu(), {})
        return phase

    async def _end(self, phase: Phase, stall_s: float, cap_s: float) -> Phase:
        phase = await super()._end(phase, stall_s, cap_s)
        self.role_cpu[phase.index][1].update(self._cpu())
        return phase

    def summary(self, phase: Phase) -> dict[str, Any]:
        """loadgen's figures of the phase, with each role's CPU share of a core and µs per event,
        and other CPU: what the cores did besides the roles and this process."""
        figures = super().summary(phase)
        before, after = self.role_cpu[phase.index]
        wall_s = max(1e-9, (phase.cpu_end_ns - phase.t0_ns) / 1e9)
        events = max(1, figures["events"])
        used = {role: after[role] - before[role] for role in self.roles}
        figures["roles"] = {role: {"cpu_pct": round(100 * s / wall_s, 1), "us_per_event": round(1e6 * s / events, 1)}
                            for role, s in used.items()}
        own = phase.own1 - phase.own0
        figures["other_cpu_pct"] = round(max(0.0, 100 * ((phase.busy1 - phase.busy0) - sum(used.values()) - own)
                                             / wall_s), 1)
        figures.pop("server_cpu_pct", None)
        figures.pop("server_sys_pct", None)
        return figures


async def run(args: argparse.Namespace) -> dict[str, Any]:
    addresses = []
    for url in args.node:
        parts = urllib.parse.urlsplit(url)
        addresses.append((parts.hostname or "127.0.0.1", parts.port or 80))
    publisher = SpreadPublisher(addresses, args.match_id, args.token, args.version, args.base_seq)
    session = SpreadSession(args.subscribers, publisher, args.window, args.pids, args.pipeline)
    result: dict[str, Any] = {"subscribers": args.subscribers, "nodes": len(args.node), "pipeline": args.pipeline,
                              "window": args.window, "fd_limit": raise_fd_limit()}
    progress(f"connecting {args.subscribers} subscribers to {len(args.node)} node(s)")
    result["connect_s"] = round(await session.connect_spread(args.node, args.connect_concurrency,
                                                             args.connect_timeout_s), 2)
    result["subscribers_per_node"] = dict(session.placed)
    await asyncio.sleep(args.settle_s)  # joins announced (presence), rooms carried, buffers drained
    await publisher.open()  # after the connect phase, as loadgen does (the head timeout)
    gc.collect()
    gc.freeze()
    phases: dict[str, Phase] = {}
    try:
        progress(f"throughput: publishing as fast as every subscriber keeps up for {args.throughput_s}s "
                 f"({args.pipeline} in flight)")
        phases["throughput"] = await session.throughput(args.throughput_s, args.max_lag_s, args.stall_s,
                                                        args.drain_cap_s)
        capacity = session.summary(phases["throughput"])["deliveries_per_s"]
        progress(f"throughput: {capacity:.0f} deliveries/s")
        await asyncio.sleep(0.5)
        needed = args.rate * args.subscribers
        if capacity < needed:
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
    result["verdict"] = session.verdict()
    if not result["verdict"]["ok"]:
        progress(f"FAIL: deliveries incomplete: {json.dumps(result['verdict'])}")
    await session.close()
    return result


def role_pids(text: str) -> tuple[str, list[int]]:
    role, _, pids = text.partition("=")
    try:
        return role, [int(p) for p in pids.split(",") if p]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--pids ROLE=PID,PID, not {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.brokergen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--node", action="append", required=True,
                        help="a node's subscriber URL (ws://HOST:PORT/ws/match/M?token=T); once per node")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--match-id", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--version", type=int, required=True, help="the match's version before the first publish")
    parser.add_argument("--base-seq", type=int, required=True, help="the match's seq before the first publish")
    parser.add_argument("--pipeline", type=int, default=1, help="publish requests in flight (throughput phase)")
    parser.add_argument("--pids", type=role_pids, action="append", default=[],
                        help="ROLE=PID,PID: processes whose CPU is reported as ROLE (nodes, redis, store)")
    parser.add_argument("--throughput-s", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--max-lag-s", type=float, default=1.0)
    parser.add_argument("--give-up-lag-s", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--latency-s", type=float, default=10.0)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--connect-timeout-s", type=float, default=120.0)
    parser.add_argument("--settle-s", type=float, default=1.5)
    parser.add_argument("--stall-s", type=float, default=10.0)
    parser.add_argument("--drain-cap-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    if len(args.node) > 1 and args.pipeline > 1:
        parser.error("several nodes take one publish at a time (--pipeline 1): a guarded write sent to one "
                     "node before the one before it committed on another is refused")
    args.pids = dict(args.pids)
    result = uvloop.run(run(args))  # its read path costs the generator's core less than asyncio's
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
