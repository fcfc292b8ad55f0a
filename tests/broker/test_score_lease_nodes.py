"""The score batch lease across real nodes: two server.py processes over one store (nx-27017)
and one redis-server. Live scores sent over sockets to both nodes for one match are batched at
the lease holder; a kill -9 of the holder loses none of the scores it acked."""

from __future__ import annotations

import contextlib
import re
import signal
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from realtime.leases import lease_key
from tests.broker.test_nodes import NO_RATE_LIMITS, UNSEEN, cluster
from tests.redisserver import RedisServer
from tests.serverprocess import Client, ServerProcess, Socket
from tournament.sharedscores import score_lease

WINDOW_S = "10"  # no window ends during a test: a move (or a takeover) writes the batch


def two_nodes(tmp_path: Path) -> contextlib.AbstractAsyncContextManager[tuple[RedisServer, list[ServerProcess]]]:
    """Two nodes whose score leases last 1 s, with a window no test waits out."""
    return cluster(tmp_path, 2, NO_RATE_LIMITS + ",lease_ttl_s=1", ("--batch-window-s", WINDOW_S))


def lease_node(node: ServerProcess) -> str:
    """The name a node's leases carry (its start-up log line)."""
    found = re.search(r"leases: node (\w+)", node.stderr())
    assert found, node.stderr()
    return found.group(1)


async def live_match(client: Client) -> str:
    tournament = (await client.ok("POST", "/api/tournaments", {"name": "Lease Cup"}, 201))["id"]
    for player in ("p0", "p1"):
        await client.ok("POST", f"/api/tournaments/{tournament}/participants", {"name": player, "id": player}, 201)
    return str((await client.live_match(tournament, ["p0", "p1"]))["id"])


class Scorer:
    """An organizer's socket in the match room of one node, sending acked live scores."""

    def __init__(self, sock: Socket) -> None:
        self.sock = sock
        self.sent = 0

    @classmethod
    async def open(cls, node: ServerProcess, match_id: str) -> Scorer:
        sock = await Socket.open(node.port, f"/ws/match/{match_id}", node.token)
        welcome = await sock.recv(skip=UNSEEN)
        assert welcome is not None and welcome["type"] == "connection_established", welcome
        return cls(sock)

    async def score(self, scores: dict[str, int]) -> None:
        """Send an update and wait for its ack (events in between are skipped)."""
        self.sent += 1
        ref = f"u{self.sent}"
        assert await self.sock.send({"type": "update_score", "id": ref, "data": {"scores": scores}})
        while True:
            frame = await self.sock.recv(skip=UNSEEN)
            assert frame is not None, "the socket closed"
            if frame.get("id") == ref:
                assert frame["type"] == "ack" and frame["data"]["accepted"] is True, frame
                return


async def events_until_completed(sock: Socket) -> list[dict[str, Any]]:
    """The match events a watcher got, up to match_completed."""
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] != "match_completed":
        frame = await sock.recv(skip=UNSEEN)
        assert frame is not None, f"the watcher's socket closed after {events}"
        if isinstance(frame.get("seq"), int):
            events.append(frame)
    return events


async def flushes(node: ServerProcess) -> int:
    text = (await Client(node.port, node.token).response("GET", "/metrics")).body.decode()
    found = re.search(r"^livebracket_batch_flushes_total (\S+)$", text, re.M)
    assert found, text
    return int(float(found.group(1)))


@pytest.mark.gen_test(timeout=60)
async def test_two_nodes_scores_are_one_batch_at_the_holder(tmp_path: Path) -> None:
    """Updates of one match sent to both nodes make one batch, written by the lease holder (the
    node of the first update) when the result arrives at the other node: latest wins, and the
    final score comes before match_completed on every node."""
    async with two_nodes(tmp_path) as (redis_server, (a, b)):
        match_id = await live_match(Client(a.port, a.token))
        watchers = [await Socket.open(node.port, f"/ws/match/{match_id}", node.token) for node in (a, b)]
        scorers = [await Scorer.open(a, match_id), await Scorer.open(b, match_id)]
        try:
            for w in watchers:
                assert (await w.recv(skip=UNSEEN) or {}).get("type") == "connection_established"
            for i in range(1, 11):
                await scorers[i % 2 == 0].score({"p0": i} if i % 2 else {"p1": i})
            client = aioredis.Redis.from_url(redis_server.url)
            assert await client.get(lease_key(score_lease(match_id))) == lease_node(a).encode()
            await client.aclose()
            await Client(b.port, b.token).ok("POST", f"/api/matches/{match_id}/result", {"scores": {"p0": 2, "p1": 1}})
            for w in watchers:
                events = await events_until_completed(w)
                scores = [e for e in events if e["type"] == "score_updated"]
                assert [e["data"]["scores"] for e in scores] == [{"p0": 9, "p1": 10}], events
                assert [e["type"] for e in events][-3:] == ["score_updated", "match_state_changed", "match_completed"] \
                    or [e["type"] for e in events][-2:] == ["score_updated", "match_completed"], events
            assert (await flushes(a), await flushes(b)) == (1, 0)
            for node in (a, b):  # SIGTERM: leases released and the mailbox closed in the shutdown's order
                assert await node.stop() == 0, node.stderr()
                assert "Traceback" not in node.stderr() and " ERROR " not in node.stderr(), node.stderr()
        finally:
            for s in (*watchers, *(s.sock for s in scorers)):
                s.close()


@pytest.mark.gen_test(timeout=60)
async def test_kill_9_of_the_holder_loses_no_acked_score(tmp_path: Path) -> None:
    """The holder is killed with acked scores of both nodes waiting in its window; updates go
    on through the other node, which takes the lease once it expired: every acked score is
    written (latest wins), the final score before match_completed."""
    async with two_nodes(tmp_path) as (_, (a, b)):
        match_id = await live_match(Client(b.port, b.token))
        watcher = await Socket.open(b.port, f"/ws/match/{match_id}", b.token)
        on_a, on_b = await Scorer.open(a, match_id), await Scorer.open(b, match_id)
        try:
            assert (await watcher.recv(skip=UNSEEN) or {}).get("type") == "connection_established"
            for i in range(1, 6):
                await on_a.score({"p0": i})  # a's first: a holds the lease
                await on_b.score({"p1": i})
            assert await a.signal(signal.SIGKILL) == -signal.SIGKILL
            for i in range(6, 11):
                await on_b.score({"p1": i})
            await Client(b.port, b.token).ok("POST", f"/api/matches/{match_id}/result", {"scores": {"p0": 2, "p1": 1}})
            events = await events_until_completed(watcher)
            scores = [e["data"]["scores"] for e in events if e["type"] == "score_updated"]
            assert scores and scores[-1] == {"p0": 5, "p1": 10}, events  # a's acked p0: 5 survived it
            for earlier, later in zip(scores, scores[1:]):  # latest wins: nothing goes back
                assert all(later[p] >= earlier[p] for p in later), scores
            kinds = [e["type"] for e in events]
            assert kinds.index("match_completed") > max(i for i, k in enumerate(kinds) if k == "score_updated")
            assert "Traceback" not in b.stderr(), b.stderr()
        finally:
            for s in (watcher, on_a.sock, on_b.sock):
                s.close()
