"""RedisBroker: the rooms of many livebracket nodes carried through one Redis, in one order.

MongoDB stays the sequencer: a match's events are numbered by its commit (tournament/writer.py);
Redis orders their delivery: one Lua script appends a match event to its room's stream only as
the stream's next seq and numbers its tournament copy in the same call. A tournament room's seq
and epoch live in a Redis hash, so a node's restart changes neither; they are made again (a new
epoch) when Redis lost them or restarted (its run id). Every node subscribes to the rooms it has
members in, delivers their frames in seq order and fills a gap from the stream, else the log.

This module is the hub's Broker (realtime/hub.py) and the life of the parts, which live apart:
- realtime/brokerscripts.py: the keys, the Lua scripts, an event as the publish script takes it;
- realtime/brokerlink.py: what both sides share: the Redis client, the run id, the reads of a
  room's stream and of a match's log, the counters, `BrokerUnavailableError`, `safe_url`;
- realtime/brokerpublisher.py: the queue while Redis is away, the script calls, in order;
- realtime/brokersubscriber.py: the subscription, gap fill, renumbering, reconnect and catch-up.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from realtime.brokerlink import TTL_S, BrokerLink, BrokerStats, BrokerUnavailableError, safe_url
from realtime.brokerpublisher import QUEUE_MAX, BrokerPublisher
from realtime.brokerscripts import Job, channel_of, event_frame, meta_key, stream_key
from realtime.brokersubscriber import (ATTACH_TIMEOUT_S, BACKLOG_MAX, CATCH_UP_S, PING_INTERVAL_S, REPLAY_LIMIT,
                                       BrokerSubscriber)
from realtime.frames import Frame
from realtime.hub import Hub
from tournament.models import Event
from tournament.store import Store
from tournament.tasks import stop_tasks

# what was importable from here before the split stays so
__all__ = ["BrokerStats", "BrokerUnavailableError", "Job", "RedisBroker", "channel_of", "event_frame", "meta_key",
           "safe_url", "stream_key"]

log = logging.getLogger(__name__)

START_TIMEOUT_S = 5.0


class RedisBroker:
    """The Broker of realtime/hub.py over Redis (redis-py's asyncio client, hiredis).

    `store` is read for a match's committed log (the read MatchService.events makes, up to the
    match's committed seq: the broker is built before the match service). `start()` connects and
    raises BrokerUnavailableError when Redis does not answer; `flush()` publishes what waits.
    """

    def __init__(self, url: str, store: Store, *, history_frames: int = 512, ttl_s: int = TTL_S,
                 queue_max: int = QUEUE_MAX, backlog_max: int = BACKLOG_MAX, replay_limit: int = REPLAY_LIMIT,
                 catch_up_s: float = CATCH_UP_S, ping_interval_s: float = PING_INTERVAL_S,
                 attach_timeout_s: float = ATTACH_TIMEOUT_S, socket_timeout_s: float = 2.0) -> None:
        self._link = BrokerLink(url, store, ttl_s=ttl_s, socket_timeout_s=socket_timeout_s)
        self._publisher = BrokerPublisher(self._link, history_frames=history_frames, queue_max=queue_max)
        self._subscriber = BrokerSubscriber(
            self._link, self._publisher, backlog_max=backlog_max, replay_limit=replay_limit, catch_up_s=catch_up_s,
            ping_interval_s=ping_interval_s, attach_timeout_s=attach_timeout_s)
        self.url = self._link.url
        self.node = self._link.node
        self.stats = self._link.stats
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    # -- life ----------------------------------------------------------------------------------

    async def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Connect and subscribe. Raises BrokerUnavailableError when Redis does not answer."""
        try:
            await asyncio.wait_for(self._link.redis.ping(), timeout_s)
        except (RedisError, OSError, asyncio.TimeoutError) as e:
            await self.close()
            raise BrokerUnavailableError(f"the broker {self.url} is unreachable ({e or type(e).__name__}): "
                                         "start Redis there or fix --broker") from None
        self._tasks = [asyncio.create_task(self._subscriber.listen()), asyncio.create_task(self._publisher.send())]
        try:
            await asyncio.wait_for(self._link.connected.wait(), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise BrokerUnavailableError(f"the broker {self.url} did not take a subscription") from None
        log.info("broker %s (node %s)", self.url, self.node)

    async def flush(self, drain_s: float = 2.0) -> None:
        """Publish what waits, for up to `drain_s` while Redis answers (at shutdown)."""
        if self._tasks:
            await self._publisher.flush(drain_s)

    async def close(self) -> None:
        """Stop subscribing and publishing, and disconnect (once)."""
        if self._closed:
            return
        self._closed = True
        tasks, self._tasks = [*self._tasks, *self._subscriber.spawned], []
        await stop_tasks(tasks)
        await self._link.close()

    # -- the hub's Broker ----------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Queue a committed event for Redis, in order. Never blocks or raises."""
        self._publisher.publish(event)

    async def attach(self, key: str, sink: Hub) -> None:
        """Carry room `key` for `sink` (the hub): subscribed, its numbering known. Returns at once
        for a room already carried. Raises BrokerUnavailableError when Redis does not answer
        within `attach_timeout_s`."""
        await self._subscriber.attach(key, sink)

    def detach(self, key: str) -> None:
        """Stop carrying room `key` (its last member left)."""
        self._subscriber.detach(key)

    async def history(self, key: str, since: int, latest: int, epoch: str) -> list[Frame] | None:
        """The frames after `since` up to `latest` from the room's stream, or None when it does
        not hold them all (or holds another epoch's numbering)."""
        return await self._subscriber.history(key, since, latest, epoch)

    def expect(self, key: str, seq: int) -> None:
        """A snapshot showed `seq` committed in match room `key`: if it has not come in
        `catch_up_s` (its node died between the commit and the publish), publish it from the log."""
        self._subscriber.expect(key, seq)
