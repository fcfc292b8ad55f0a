"""The benchmark's publishers: one HTTP request per event, livebracket's or a peer's; and
`ScoreWriter`, one match's guarded scores for the reconnect storm (bench/stormgen.py).

`send` writes the request at once; `receive` reads the answers in order, so a caller may keep
a few requests in flight (HTTP/1.1 pipelining).
"""

from __future__ import annotations

import asyncio
import json
import time

from bench.httpclient import HttpConnection, HttpError


def peer_event(seq: int, ts_ms: int, label: str = "") -> bytes:
    """An event with the shape of livebracket's `score_updated` frame, numbered `seq`.

    The peers broadcast it as is (after one parse and one serialization); `label` pads it to
    the size of the frame livebracket sent in the same run (`--frame-bytes`), so all three
    targets put the same JSON text on the wire.
    """
    scores = {"alice": seq, "bob": ts_ms % 1_000_000}
    stamp = "2026-11-23T15:12:04.615Z"
    match = {"id": "m_e73fd1f7415e", "tournament_id": "t_7909e77cf47e", "round": None, "label": label,
             "participant_ids": ["alice", "bob"], "state": "live", "scores": scores, "checked_in": [],
             "reports": {}, "result": None, "winner_id": None, "created_at": stamp, "updated_at": stamp,
             "started_at": stamp, "ended_at": None, "version": seq + 2, "seq": seq}
    event = {"type": "score_updated", "seq": seq, "ts": ts_ms,
             "data": {"match_id": match["id"], "tournament_id": match["tournament_id"], "scores": scores,
                      "match": match}}
    return json.dumps(event, separators=(",", ":")).encode()


class PublishError(Exception):
    """The target refused or broke a publish: the session cannot be measured."""


class Publisher:
    """Sends event `k` (k = 1, 2, ...) to the target; `base_seq + k` is the seq subscribers see.

    `send` writes the request at once (the caller stamps the time just before); `receive`
    reads the answers in order, so a caller may keep a few requests in flight (pipelining):
    the target then never waits for this process to get round to its next request.
    """

    base_seq = 0
    path = "/publish"

    def __init__(self, host: str, port: int) -> None:
        self.conn = HttpConnection(host, port)

    async def open(self) -> None:
        await self.conn.open()

    def send(self, k: int) -> None:
        raise NotImplementedError

    async def receive(self, k: int) -> None:
        """Read the answer to event k's request. Raises PublishError."""
        status, raw = await self.conn.receive()
        if status != 200:
            raise PublishError(f"publish {k}: HTTP {status} {raw[:300]!r}")
        self.check(k, raw)

    def check(self, k: int, raw: bytes) -> None:
        pass

    def close(self) -> None:
        self.conn.close()


class PeerPublisher(Publisher):
    """POST /publish with the event as body (bench/peers/*)."""

    def __init__(self, host: str, port: int, path: str, frame_bytes: int = 0) -> None:
        super().__init__(host, port)
        self.path = path
        self.label = "x" * max(0, frame_bytes - len(peer_event(1, time.time_ns() // 1_000_000)))

    def body(self, k: int) -> bytes:
        return peer_event(k, time.time_ns() // 1_000_000, self.label)

    def send(self, k: int) -> None:
        self.conn.send("POST", self.path, self.body(k), {"Content-Type": "application/json"})


class LivebracketPublisher(Publisher):
    """POST /api/matches/<id>/score with If-Match: one guarded write, one score_updated event.

    The scores carry the publish sequence number (alice) and the publisher's wall clock in
    ms modulo 1e6 (bob, informative only: latency is measured from the send-time table).
    Each guarded write moves the match's version up by one, so the If-Match of request k is
    known before the answer to k-1 arrives; every answer is checked against it.
    """

    def __init__(self, host: str, port: int, match_id: str, token: str, version: int, base_seq: int) -> None:
        super().__init__(host, port)
        self.path = f"/api/matches/{match_id}/score"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.version = version  # the match's version before event 1
        self.base_seq = base_seq

    def send(self, k: int) -> None:
        scores = {"alice": k, "bob": (time.time_ns() // 1_000_000) % 1_000_000}
        self.conn.send("POST", self.path, json.dumps({"scores": scores}).encode(),
                       {**self.headers, "If-Match": str(self.version + k - 1)})

    def check(self, k: int, raw: bytes) -> None:
        match = json.loads(raw)
        if (match["seq"], match["version"]) != (self.base_seq + k, self.version + k):
            raise PublishError(f"publish {k}: the match is at seq {match['seq']} version {match['version']}, "
                               f"expected {self.base_seq + k} and {self.version + k}")


class ScoreWriter:
    """One match's guarded scores over its own keep-alive connection, each sent at once (pipelined)
    and its answer checked in order by `answers`; bench/stormgen.py keeps one per live match."""

    def __init__(self, host: str, port: int, token: str, match_id: str, version: int, seq: int) -> None:
        self.conn = HttpConnection(host, port)
        self.match_id = match_id
        self.path = f"/api/matches/{match_id}/score"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.version = version  # before the first publish
        self.base_seq = seq
        self.send_ns: list[int] = []  # [j - 1]: when publish j's request was written
        self.answer_ns: list[int] = []  # [j - 1]: how long its answer took
        self.pending: asyncio.Queue[int] = asyncio.Queue()
        self.error: str | None = None

    def send(self, players: tuple[str, str]) -> None:
        j = len(self.send_ns) + 1
        self.send_ns.append(time.perf_counter_ns())
        body = json.dumps({"scores": {players[0]: j, players[1]: 0}}).encode()
        self.conn.send("POST", self.path, body, {**self.headers, "If-Match": str(self.version + j - 1)})
        self.pending.put_nowait(j)

    async def answers(self) -> None:
        """Read every answer in order and check it (the expected seq and version)."""
        while True:
            j = await self.pending.get()
            try:
                status, raw = await self.conn.receive()
            except HttpError as e:
                self.error = f"{self.match_id} publish {j}: {e}"
                return
            self.answer_ns.append(time.perf_counter_ns() - self.send_ns[j - 1])
            if status != 200:
                self.error = f"{self.match_id} publish {j}: HTTP {status} {raw[:200]!r}"
                return
            match = json.loads(raw)
            if (match["seq"], match["version"]) != (self.base_seq + j, self.version + j):
                self.error = (f"{self.match_id} publish {j}: at seq {match['seq']} version {match['version']}, "
                              f"expected {self.base_seq + j} and {self.version + j}")
                return
            self.pending.task_done()
