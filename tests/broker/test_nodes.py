"""Three livebracket processes over one store (nx-27017, started on its own) and one Redis.

Sockets are spread over the three nodes on one match room and one tournament room; REST writes
(scores, results, participants) go to the nodes in turn. Every socket must see every event
exactly once, in order, and the same seqs on every node; that holds through a node stopped
(SIGSTOP: it delays nobody else), a node killed mid-burst (its sockets recover on another node
with since/epoch), and a Redis restart mid-burst (match rooms go on gap-free; tournament rooms,
whose numbering the empty Redis lost, give every socket one fresh snapshot, recovered: false).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.embedded import EmbeddedMongo, free_port
from tests.redisserver import RedisServer
from tests.serverprocess import Client, ServerGone, ServerProcess, Socket

SECRET = "broker-test-secret-0123456789-abcdefghijklmnop"
NO_RATE_LIMITS = ",".join(f"{name}=1000000" for name in (
    "write_rate_per_user", "write_burst_per_user", "message_rate_per_user", "message_burst_per_user",
    "message_rate_per_ip", "message_burst_per_ip"))
UNSEEN = ("presence", "ping", "pong", "store_status")
WAIT_S = 20.0


class Watcher:
    """One socket's view of a room, reconnecting (with since/epoch) to the next live node when
    its node goes. Keeps every welcome and event it got, in order."""

    def __init__(self, path: str, token: str, ports: list[int], first: int) -> None:
        self.path = path
        self.token = token
        self.ports = ports
        self.port = ports[first]
        self.frames: list[dict[str, Any]] = []
        self.last_seq: int | None = None
        self.epoch: str | None = None
        self.welcomes: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.sock: Socket | None = None

    async def open(self) -> None:
        """Connect and read the welcome; then read in the background."""
        await self._connect()
        self.task = asyncio.ensure_future(self._read())

    async def _connect(self) -> None:
        query = f"?since={self.last_seq}&epoch={self.epoch}" if self.last_seq is not None else ""
        self.sock = await Socket.open(self.port, self.path + query, self.token)
        welcome = await self.sock.recv(skip=UNSEEN)
        assert welcome is not None and welcome["type"] == "connection_established", welcome
        self._take(welcome)

    def _take(self, frame: dict[str, Any]) -> None:
        if frame["type"] in ("connection_established", "subscribed"):
            data = frame["data"]
            self.welcomes.append(data)
            self.epoch = data["epoch"]
            if not data["recovered"]:
                self.last_seq = data["seq"]
        elif isinstance(frame.get("seq"), int):
            self.last_seq = frame["seq"]
        self.frames.append(frame)
        self.changed.set()

    async def _read(self) -> None:
        while True:
            assert self.sock is not None
            frame = await self.sock.recv(skip=UNSEEN, timeout_s=120)
            if frame is not None:
                self._take(frame)
                continue
            self.ports = [p for p in self.ports if p != self.port]  # its node is gone: the next one
            self.port = self.ports[0]
            await self._connect()

    async def until(self, done: Any, what: str) -> None:
        """Wait (with a deadline) until `done(self)` holds."""
        async def wait() -> None:
            while not done(self):
                self.changed.clear()
                await self.changed.wait()
        try:
            await asyncio.wait_for(wait(), WAIT_S)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.path} on {self.port}: {what}; got {self.summary()}") from None

    def events(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if isinstance(f.get("seq"), int)]

    def summary(self) -> list[Any]:
        return [(f["type"], f["data"].get("seq"), f["data"].get("recovered")) if "data" in f and f["type"] in (
            "connection_established", "subscribed") else f.get("seq") for f in self.frames]

    def check_order(self) -> None:
        """The protocol's client rule holds throughout: each event is the one after the last
        (no gap, no duplicate); only a welcome with recovered: false starts a new count."""
        last = None
        for frame in self.frames:
            if frame["type"] in ("connection_established", "subscribed"):
                if not frame["data"]["recovered"]:
                    last = frame["data"]["seq"]
            else:
                assert last is not None and frame["seq"] == last + 1, \
                    f"{self.path}: {frame['seq']} after {last}: {self.summary()}"
                last = frame["seq"]

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.sock is not None:
            self.sock.close()


@contextlib.asynccontextmanager
async def cluster(tmp_path: Path, count: int = 3, limits: str = NO_RATE_LIMITS,
                  extra: tuple[str, ...] = ("--batch-window-s", "0")
                  ) -> AsyncIterator[tuple[RedisServer, list[ServerProcess]]]:
    """One nx-27017, one redis-server, `count` nodes over both, with `--limits limits` and `extra`."""
    store = EmbeddedMongo(tmp_path / "store")
    redis_server = RedisServer(tmp_path / "redis").start()
    nodes: list[ServerProcess] = []
    try:
        url = await store.start()
        ports = [free_port() for _ in range(count)]
        nodes = [ServerProcess("--port", str(port), "--store", "mongo", "--mongo-url", url,
                               "--broker", redis_server.url, "--data-dir", str(tmp_path / f"node{i}"),
                               "--jwt-secret", SECRET, "--limits", limits, *extra,
                               log_path=tmp_path / f"node{i}.log") for i, port in enumerate(ports)]
        await asyncio.gather(*(node.start() for node in nodes))
        yield redis_server, nodes
    finally:
        for node in nodes:
            if node.process is not None and node.process.returncode is None:
                node.process.send_signal(signal.SIGCONT)
                await node.stop()
        redis_server.stop()
        await store.stop()


class Play:
    """A tournament with two live matches, and writes sent to the nodes in turn."""

    def __init__(self, nodes: list[ServerProcess]) -> None:
        self.token = nodes[0].token
        self.clients = {node.port: Client(node.port, self.token) for node in nodes}
        self.tournament = ""
        self.matches: list[str] = []
        self.added = 0
        self.turn = 0
        self.wrote = asyncio.Event()  # set after each write

    async def setup(self) -> None:
        client = next(iter(self.clients.values()))
        self.tournament = (await client.ok("POST", "/api/tournaments", {"name": "Broker Cup"}, 201))["id"]
        for player in ("p0", "p1", "p2", "p3"):
            await client.ok("POST", f"/api/tournaments/{self.tournament}/participants",
                            {"name": player, "id": player}, 201)
        for players in (["p0", "p1"], ["p2", "p3"]):
            self.matches.append((await client.live_match(self.tournament, players))["id"])

    async def burst(self, ports: list[int], writes: int, participants: bool = True) -> None:
        """`writes` writes, each to the next of `ports` that answers: mostly scores, now and then
        a participant (the tournament room's own event). A node that is gone is skipped."""
        ports = list(ports)
        for _ in range(writes):
            self.turn += 1
            match_id = self.matches[self.turn % 2]
            player = ("p0", "p2")[self.turn % 2]
            for _ in range(len(ports)):
                port = ports[self.turn % len(ports)]
                try:
                    if participants and self.turn % 7 == 0:
                        await self.clients[port].ok("POST", f"/api/tournaments/{self.tournament}/participants",
                                                    {"name": f"late{self.turn}"}, 201)
                        self.added += 1
                    else:
                        await self.clients[port].ok("POST", f"/api/matches/{match_id}/score",
                                                    {"scores": {player: self.turn}})
                    self.wrote.set()
                    break
                except ServerGone:
                    ports.remove(port)

    async def finish(self, port: int) -> dict[str, int]:
        """Both results, then the matches' committed seqs."""
        client = self.clients[port]
        for match_id, scores in zip(self.matches, ({"p0": 2, "p1": 1}, {"p2": 0, "p3": 2})):
            await client.ok("POST", f"/api/matches/{match_id}/result", {"scores": scores})
        return {m: (await client.ok("GET", f"/api/matches/{m}"))["seq"] for m in self.matches}


async def watchers(play: Play, nodes: list[ServerProcess]) -> tuple[list[Watcher], list[Watcher]]:
    """Two sockets on the first match's room and one on the tournament's room per node."""
    ports = [node.port for node in nodes]
    match = [Watcher(f"/ws/match/{play.matches[0]}", play.token, ports, i % len(ports)) for i in range(2 * len(ports))]
    tournament = [Watcher(f"/ws/tournament/{play.tournament}", play.token, ports, i) for i in range(len(ports))]
    for watcher in match + tournament:
        await watcher.open()
    return match, tournament


def match_done(final: int) -> Any:
    return lambda w: w.last_seq is not None and w.last_seq >= final


def tournament_done(finals: dict[str, int], participants: int) -> Any:
    """Since the last fresh snapshot, every match event's copy after the match's seq in it has
    come, and the snapshot's participants and those added since make `participants`."""
    def done(w: Watcher) -> bool:
        fresh = max(i for i, f in enumerate(w.frames)
                    if f["type"] in ("connection_established", "subscribed") and not f["data"]["recovered"])
        snapshot = w.frames[fresh]["data"]
        after = w.frames[fresh + 1:]
        seen = {(e["data"].get("match_id"), e.get("match_seq")) for e in after}
        known = {m["id"]: m["seq"] for m in snapshot["matches"]}
        added = sum(1 for e in after if e["type"] == "participant_added")
        return (all((m, s) in seen for m, final in finals.items() for s in range(known[m] + 1, final + 1))
                and len(snapshot["participants"]) + added >= participants)
    return done


async def check(match: list[Watcher], tournament: list[Watcher], finals: dict[str, int], added: int,
                context: str) -> None:
    """Everyone caught up; each socket's frames in order, none twice; the same frames per seq everywhere."""
    first_match = list(finals)[0]
    for w in match:
        await w.until(match_done(finals[first_match]), f"{context}: the match's seq {finals[first_match]}")
    for w in tournament:
        await w.until(tournament_done(finals, 4 + added), f"{context}: every event in the tournament room")
    for w in match + tournament:
        w.check_order()
    for group in (match, tournament):
        by_seq: dict[tuple[str, int], Any] = {}
        for w in group:
            epoch = None
            for frame in w.frames:
                if frame["type"] in ("connection_established", "subscribed"):
                    epoch = frame["data"]["epoch"]
                    continue
                key = (str(epoch), frame["seq"])
                assert by_seq.setdefault(key, frame) == frame, f"{context}: {key} differs between nodes"
    for w in tournament:
        check_copies(w, finals, context)


def check_copies(w: Watcher, finals: dict[str, int], context: str) -> None:
    """In a tournament room, every match event after a fresh snapshot's `match.seq` comes once
    under that snapshot's epoch (a copy of one the snapshot shows may come too, once)."""
    copies: dict[str, list[int]] = {}
    for frame in w.frames:
        if frame["type"] in ("connection_established", "subscribed") and not frame["data"]["recovered"]:
            if copies:
                assert_complete(copies, finals, context, w)
            copies = {m["id"]: [m["seq"]] for m in frame["data"]["matches"] if m["id"] in finals}
        elif "match_seq" in frame:
            copies[frame["data"]["match_id"]].append(frame["match_seq"])
    for match_id in finals:  # the last epoch runs to the end
        seen = copies[match_id][1:]
        assert len(seen) == len(set(seen)), f"{context}: a match event twice in {w.summary()}"
        assert set(range(copies[match_id][0] + 1, finals[match_id] + 1)) <= set(seen), \
            f"{context}: {match_id}'s events missing in the tournament room: {seen}"


def assert_complete(copies: dict[str, list[int]], finals: dict[str, int], context: str, w: Watcher) -> None:
    """An epoch that ended (its numbering was lost): what came under it came once."""
    for seen in copies.values():
        assert len(seen[1:]) == len(set(seen[1:])), f"{context}: a match event twice in {w.summary()}"


@pytest.mark.gen_test(timeout=90)
async def test_three_nodes_a_stopped_one_and_a_killed_one(tmp_path: Path) -> None:
    """Every event once and in order on every node; a stopped node delays nobody; a killed
    node's sockets recover on the others exactly (recovered: true)."""
    async with cluster(tmp_path) as (_, nodes):
        a, b, c = nodes
        play = Play(nodes)
        await play.setup()
        match, tournament = await watchers(play, nodes)
        try:
            await play.burst([a.port, b.port, c.port], 30)
            assert c.process is not None
            c.process.send_signal(signal.SIGSTOP)  # a node that does not read: the others go on
            await play.burst([a.port, b.port], 12)
            finals = {m: (await play.clients[a.port].ok("GET", f"/api/matches/{m}"))["seq"] for m in play.matches}
            moving = [w for w in match + tournament if w.port != c.port]
            await check([w for w in moving if w in match], [w for w in moving if w in tournament], finals,
                        play.added, "while c is stopped")
            c.process.send_signal(signal.SIGCONT)

            killed_watchers = [w for w in match + tournament if w.port == b.port]
            writes = asyncio.ensure_future(play.burst([a.port, b.port, c.port], 30, participants=False))
            await asyncio.wait_for(play_turns(play, play.turn + 10), WAIT_S)
            assert await b.signal(signal.SIGKILL) == -signal.SIGKILL
            await asyncio.wait_for(writes, WAIT_S)
            finals = await play.finish(a.port)
            await check(match, tournament, finals, play.added, "after b was killed")
            for w in killed_watchers:  # reconnected to another node, recovered exactly
                assert w.port != b.port and len(w.welcomes) == 2 and w.welcomes[1]["recovered"] is True, w.summary()
            for node in (a, c):
                assert "Traceback" not in node.stderr(), node.stderr()
        finally:
            for w in match + tournament:
                w.close()


async def play_turns(play: Play, turn: int) -> None:
    """Until the burst under way (in another task) has made `turn` writes."""
    while play.turn < turn:
        play.wrote.clear()
        await play.wrote.wait()


@pytest.mark.gen_test(timeout=90)
async def test_a_redis_restart_mid_burst(tmp_path: Path) -> None:
    """Redis stops and starts again (empty) during a burst: match rooms lose nothing and repeat
    nothing; each tournament socket gets exactly one fresh snapshot (recovered: false, a new
    epoch), since the numbering lived in the Redis that was lost, and is gap-free before and after."""
    async with cluster(tmp_path) as (redis_server, nodes):
        play = Play(nodes)
        await play.setup()
        match, tournament = await watchers(play, nodes)
        ports = [node.port for node in nodes]
        try:
            await play.burst(ports, 15)
            epoch = tournament[0].epoch
            redis_server.stop()
            await play.burst(ports, 15)  # committed in MongoDB, queued for Redis
            redis_server.start()
            await play.burst(ports, 15)
            finals = await play.finish(ports[0])
            await check(match, tournament, finals, play.added, "after the Redis restart")
            for w in tournament:
                await w.until(lambda w: len(w.welcomes) == 2, "a fresh snapshot after the restart")
                fresh = w.welcomes[1]
                assert fresh["recovered"] is False and fresh["epoch"] != epoch, w.summary()
                assert [f["type"] for f in w.frames].count("subscribed") == 1
            for w in match:
                assert len(w.welcomes) == 1, w.summary()  # no snapshot needed: the log is MongoDB's
            for node in nodes:
                assert "Traceback" not in node.stderr(), node.stderr()
                assert "unreachable" in node.stderr() and "reachable again" in node.stderr()
            for node in nodes:  # SIGTERM: the broker flushed and closed in the shutdown's order
                assert await node.stop() == 0, node.stderr()
                assert "Traceback" not in node.stderr() and " ERROR " not in node.stderr(), node.stderr()
        finally:
            for w in match + tournament:
                w.close()
