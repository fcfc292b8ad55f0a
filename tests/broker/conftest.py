"""Fixtures of the broker's tests: a real redis-server, a node (hub + broker) on it, a fake log."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from realtime.broker import RedisBroker
from realtime.hub import Hub
from tests.realtime.fakes import FakeConnection, FakeScheduler
from tests.redisserver import RedisServer
from tournament.models import Event
from tournament.store import NotFoundError, Store


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the tests that do not restart it."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared Redis, emptied for this test."""
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it may stop and start again."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@dataclasses.dataclass
class FakeMatch:
    seq: int


class FakeLog:
    """The two reads the broker makes of a store: a match (its committed seq) and its log."""

    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = {}
        self.reads = 0

    def commit(self, event: Event) -> Event:
        self.events.setdefault(event.stream.partition(":")[2], []).append(event)
        return event

    async def get_match(self, match_id: str) -> FakeMatch:
        if match_id not in self.events:
            raise NotFoundError("match", match_id)
        return FakeMatch(len(self.events[match_id]))

    async def list_events(self, stream: str, since: int = 0, limit: int = 1000,
                          until: int | None = None) -> list[Event]:
        self.reads += 1
        log = self.events.get(stream.partition(":")[2], [])
        return [e for e in log if since < e.seq <= (until if until is not None else e.seq)][:limit]


def match_event(seq: int, match_id: str = "m1", tournament_id: str | None = "t1",
                kind: str = "score_updated") -> Event:
    data: dict[str, Any] = {"match_id": match_id, "scores": {"a": seq}}
    if tournament_id is not None:
        data["tournament_id"] = tournament_id
    return Event(stream=f"match:{match_id}", seq=seq, type=kind, data=data, ts=100.0 + seq)


def tournament_event(tournament_id: str = "t1", kind: str = "participant_added", n: int = 0) -> Event:
    return Event(stream=f"tournament:{tournament_id}", seq=0, type=kind,
                 data={"tournament_id": tournament_id, "participant": {"id": f"p{n}"}}, ts=200.0 + n)


class Watched(FakeConnection):
    """A fake socket whose frames can be awaited."""

    def __init__(self, name: str = "conn") -> None:
        super().__init__(name)
        self.changed = asyncio.Event()

    def send(self, frame: Any) -> None:
        super().send(frame)
        self.changed.set()

    def close(self, code: int, reason: str) -> None:
        super().close(code, reason)
        self.changed.set()

    async def received(self, count: int, timeout_s: float = 5.0) -> list[int | None]:
        """The seqs of the first `count` frames, once that many came. Raises TimeoutError."""
        async def enough() -> None:
            while len(self.frames) < count:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(enough(), timeout_s)
        return self.seqs[:count]


class Node:
    """One livebracket node as the broker sees it: a hub with its broker, and fake sockets."""

    def __init__(self, url: str, log: FakeLog, **options: Any) -> None:
        self.log = log
        self.broker = RedisBroker(url, cast(Store, log), **options)
        self.hub = Hub(FakeScheduler(), broker=self.broker)
        self.resyncs: list[str] = []
        self.resynced = asyncio.Event()

    def _resync(self, name: str) -> None:
        self.resyncs.append(name)
        self.resynced.set()

    async def member(self, key: str, name: str = "conn") -> Watched:
        """A socket that joined `key` and resumed from the room's numbering, as a session does."""
        conn = Watched(name)
        member = self.hub.join(key, conn, resync=lambda: self._resync(name))
        await self.hub.ready(key)
        self.hub.resume(member, None, None, self.hub.room(key).seq)
        return conn

    async def close(self) -> None:
        await self.broker.close()
