"""The webhooks across real nodes: two server.py processes over one store (nx-27017) and one
redis-server, one webhook receiver. Writes of one tournament made on both nodes reach the webhook
once each, numbered 1..N with no gap, each match's events in its log's order, sent by one node;
a kill -9 of the sending node mid-burst loses nothing: the other node takes over and sends the
rest (a delivery cut off is sent again with its seq)."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from realtime.leases import lease_key
from tests.broker.test_nodes import NO_RATE_LIMITS, cluster
from tests.broker.test_score_lease_nodes import lease_node
from tests.redisserver import RedisServer
from tests.serverprocess import Client, ServerProcess
from tests.webhookreceiver import Receiver
from tournament.webhookqueue import webhook_lease

LIMITS = NO_RATE_LIMITS + ",lease_ttl_s=1,webhook_attempts=1000,webhook_retry_base_s=0.05,webhook_retry_cap_s=0.2"


def two_nodes(tmp_path: Path) -> contextlib.AbstractAsyncContextManager[tuple[RedisServer, list[ServerProcess]]]:
    return cluster(tmp_path, 2, LIMITS, ())


class Scores:
    """Guarded scores (written at once, on the node asked) of one match, alternating the nodes."""

    def __init__(self, match: dict[str, Any], player: str) -> None:
        self.id = str(match["id"])
        self.player = player
        self.version = int(match["version"])
        self.points = 0

    async def score(self, node: ServerProcess) -> None:
        self.points += 1
        status, body = await Client(node.port, node.token).call(
            "POST", f"/api/matches/{self.id}/score", {"scores": {self.player: self.points}},
            headers={"If-Match": str(self.version)})
        assert status == 200, body
        self.version = int(body["version"])


def distinct(receiver: Receiver) -> dict[int, dict[str, Any]]:
    """Every seq answered 2xx, once, with its body; a seq sent again must carry the same event."""
    seen: dict[int, dict[str, Any]] = {}
    for request in receiver.requests:
        if 200 <= request.status < 300:
            body = request.body
            earlier = seen.setdefault(body["seq"], body)
            assert (earlier["stream"], earlier["stream_seq"], earlier["type"], earlier["data"]) == \
                (body["stream"], body["stream_seq"], body["type"], body["data"]), (earlier, body)
    return seen


@pytest.mark.gen_test(timeout=120)
async def test_two_nodes_one_webhook_every_event_once_and_a_kill_9_loses_nothing(tmp_path: Path) -> None:
    """Participants and guarded scores of two matches, written on both nodes in turn; the
    sending node (the holder of the tournament's webhook lease) is killed -9 while the receiver
    refuses, mid-burst; the burst goes on through the other node. The receiver gets every event
    of both logs and every participant, seqs 1..N with no gap, each match's in log order, and a
    seq sent again is the same event."""
    receiver = Receiver()
    async with two_nodes(tmp_path) as (redis_server, nodes):
        a, b = nodes
        client = Client(a.port, a.token)
        tournament = (await client.ok("POST", "/api/tournaments", {"name": "Hook Cup"}, 201))["id"]
        await client.ok("POST", f"/api/tournaments/{tournament}/webhooks", {"url": receiver.url}, 201)
        players = [f"p{i}" for i in range(8)]
        for i, player in enumerate(players):  # a's first: a takes the lease
            await Client(nodes[i % 2].port, nodes[i % 2].token).ok(
                "POST", f"/api/tournaments/{tournament}/participants", {"name": player, "id": player}, 201)
        matches = [Scores(await client.live_match(tournament, ["p0", "p1"]), "p0"),
                   Scores(await Client(b.port, b.token).live_match(tournament, ["p2", "p3"]), "p2")]
        for round_ in range(10):
            for match in matches:
                await match.score(nodes[round_ % 2])
        receiver.failing = True  # from now on deliveries wait at the holder, retried: it keeps its lease
        for match in matches:
            await match.score(a)
            await match.score(b)
        await receiver.until(lambda: sum(r.status == 500 for r in receiver.requests) >= 3)
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            found = await redis.get(lease_key(webhook_lease(tournament)))
            holder_name = found.decode() if isinstance(found, bytes) else str(found)
        finally:
            await redis.aclose()
        assert holder_name in (lease_node(a), lease_node(b)), holder_name
        holder, other = (a, b) if holder_name == lease_node(a) else (b, a)
        for match in matches:  # mid-burst
            await match.score(holder)
            await match.score(other)
        assert await holder.signal(signal.SIGKILL) == -signal.SIGKILL
        receiver.failing = False
        for round_ in range(10):  # the burst goes on through the node left
            for match in matches:
                await match.score(other)

        survivor = Client(other.port, other.token)
        logs = {m.id: await survivor.events(m.id) for m in matches}
        wanted = {(f"match:{match_id}", e["seq"]) for match_id, log in logs.items() for e in log}

        def complete() -> bool:
            got = distinct(receiver).values()
            return wanted <= {(d["stream"], d["stream_seq"]) for d in got} and \
                {d["data"]["participant"]["id"] for d in got if d["type"] == "participant_added"} >= set(players)
        await receiver.until(complete)
        seen = distinct(receiver)
        assert sorted(seen) == list(range(1, max(seen) + 1))  # gap-free
        for match_id, log in logs.items():
            in_order = [seen[s]["stream_seq"] for s in sorted(seen) if seen[s]["stream"] == f"match:{match_id}"]
            assert in_order == [e["seq"] for e in log], (match_id, in_order)
        added = [seen[s]["data"]["participant"]["id"] for s in sorted(seen) if seen[s]["type"] == "participant_added"]
        assert sorted(added) == sorted(players)
        assert "Traceback" not in other.stderr(), other.stderr()
        assert await other.stop() == 0, other.stderr()
