"""BrokerLink: what the broker's publisher and subscriber share (realtime/broker.py).

One Redis client with the scripts registered, this node's name, Redis's run id and whether the
subscription is on (both kept by the subscriber, read by the publisher), the counters, and the
two reads both sides make: a room's stream in Redis (`read`) and a match's committed log in the
store (`log`, `committed`). Apart so that neither side reaches into the other for them: the
publisher reads a stream's top before it fills a gap from the log, the subscriber reads the same
stream and log to catch a room up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import urllib.parse

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from realtime.brokerscripts import PUBLISH_LUA, READ_LUA, RENEW_LUA, meta_key, stream_key
from realtime.frames import Frame
from tournament.models import Event, match_stream
from tournament.store import NotFoundError, StorageUnavailableError, Store

TTL_S = 24 * 3600  # a room's stream and numbering outlive its last event by a tournament day
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 5.0


class BrokerUnavailableError(StorageUnavailableError):
    """Redis cannot be reached (at start-up, or while a socket waits for a room this node does
    not carry yet): a 503 or a 1011 `store_unavailable`, as the store's own outage."""


def safe_url(url: str) -> str:
    """The URL without its password, for log lines and errors."""
    parts = urllib.parse.urlsplit(url)
    host = f"{parts.hostname}:{parts.port or 6379}"
    return f"{parts.scheme}://{host}{parts.path}"


@dataclasses.dataclass
class BrokerStats:
    published: int = 0  # scripts that wrote
    refused_duplicates: int = 0
    refused_gaps: int = 0
    republished: int = 0  # events published again from a match's log
    delivered: int = 0  # frames handed to the hub
    duplicates_dropped: int = 0
    filled_from_stream: int = 0
    filled_from_log: int = 0
    renumbered: int = 0  # rooms whose members took a fresh snapshot
    reconnects: int = 0


class BrokerLink:
    """The Redis client (redis-py's asyncio client, hiredis) and the store, as the broker reads
    them. `store` is read for a match's committed log (the read MatchService.events makes, up to
    the match's committed seq: the broker is built before the match service)."""

    def __init__(self, url: str, store: Store, *, ttl_s: int = TTL_S, socket_timeout_s: float = 2.0) -> None:
        self.url = safe_url(url)
        self.redis = aioredis.Redis.from_url(  # retries are the broker's own: each call is idempotent
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0))
        self._store = store
        self.ttl_s = ttl_s
        self.node = secrets.token_hex(6)
        self.scripts = {name: self.redis.register_script(lua)
                        for name, lua in (("publish", PUBLISH_LUA), ("read", READ_LUA), ("renew", RENEW_LUA))}
        self.run_id = ""  # Redis's, read again on every connection (a new one: Redis restarted)
        self.connected = asyncio.Event()  # the subscription is on
        self.stats = BrokerStats()

    async def close(self) -> None:
        await self.redis.aclose()

    async def read(self, key: str, first: int, last: int, count: int) -> tuple[str, int, list[Frame]]:
        """(epoch, top, frames) of a room's stream: frames from seq `first` to `last` (0: on),
        at most `count`. A tournament room without a numbering gets one. Raises RedisError."""
        keys = [stream_key(key)] + ([meta_key(key)] if key.startswith("tournament:") else [])
        epoch, top, entries = await self.scripts["read"](
            keys=keys, args=[first, last, count, secrets.token_hex(4), self.run_id, self.ttl_s])
        frames = [Frame(fields[1].decode(), int(entry_id.split(b"-")[0])) for entry_id, fields in entries]
        return epoch.decode() if isinstance(epoch, bytes) else str(epoch), int(top), frames

    async def log(self, match_id: str, after: int, limit: int) -> list[Event]:
        """The match's committed events after `after` ([] once it is gone). Raises StorageError."""
        try:
            match = await self._store.get_match(match_id)
        except NotFoundError:
            return []
        return await self._store.list_events(match_stream(match_id), after, limit, until=match.seq)

    async def committed(self, match_id: str) -> int:
        """The match's committed seq (0 once it is gone). Raises StorageError."""
        try:
            return (await self._store.get_match(match_id)).seq
        except NotFoundError:
            return 0
