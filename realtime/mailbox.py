"""NodeMailbox: this node's name and its own Redis channel, on which the other nodes reach it
(the leases' messages: updates waiting, a flush asked and answered, a batch's outcome).

A message is one JSON object with a `k` (its kind); `send` says whether the node addressed was
listening (PUBLISH's receiver count): a node that is gone, or whose subscription is being made
again, hears nothing, and the sender falls back on the lease's expiry. Pub/sub keeps nothing,
so nothing here may be the only copy of something acked: the leases' queues are Redis keys.
After a lost connection the subscription is made again with backoff, and the `reconnected`
callbacks run (a message may have been lost meanwhile).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from realtime.brokerlink import BrokerUnavailableError, safe_url
from tournament.store import StorageUnavailableError
from tournament.tasks import stop_tasks

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "lb:lease-node:"
START_TIMEOUT_S = 5.0
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 5.0
PING_INTERVAL_S = 5.0

Handler = Callable[[dict[str, Any]], None]


def channel_of(node: str) -> str:
    return CHANNEL_PREFIX + node


class NodeMailbox:
    """The Redis client of the leases, this node's name, and its channel. `start()` subscribes
    (raises BrokerUnavailableError when Redis does not answer); `close()` once."""

    def __init__(self, url: str, *, socket_timeout_s: float = 2.0, node: str | None = None) -> None:
        self.url = safe_url(url)
        self.redis = aioredis.Redis.from_url(  # no retries of its own: each caller knows what a retry means
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0))
        self.node = node or secrets.token_hex(6)
        self._handlers: dict[str, Handler] = {}
        self._on_reconnect: list[Callable[[], None]] = []
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def on(self, kind: str, handler: Handler, reconnected: Callable[[], None] | None = None) -> None:
        """Hand the messages of `kind` to `handler` (one per kind)."""
        self._handlers[kind] = handler
        if reconnected is not None:
            self._on_reconnect.append(reconnected)

    async def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        self._task = asyncio.ensure_future(self._listen())
        try:
            await asyncio.wait_for(asyncio.shield(self._listening.wait()), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise BrokerUnavailableError(f"the broker {self.url} did not take the leases' subscription") from None
        log.info("leases: node %s on %s", self.node, self.url)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            await stop_tasks([self._task])
        await self.redis.aclose()

    async def call(self, call: Awaitable[Any]) -> Any:
        """Await a Redis call of the leases (this client's, or a script registered on it),
        Redis's failures as StorageUnavailableError: what every user of the mailbox raises."""
        try:
            return await call
        except (RedisError, OSError) as e:
            raise StorageUnavailableError(f"the broker {self.url} is unreachable: {e}") from None

    async def send(self, node: str, message: dict[str, Any]) -> bool:
        """Publish `message` to `node`; whether it was listening. Raises StorageUnavailableError."""
        return int(await self.call(self.redis.publish(channel_of(node), json.dumps(message, separators=(",", ":"))))) > 0

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        delay, first = RETRY_FIRST_S, True
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(channel_of(self.node))
                heard = loop.time()
                while True:
                    message = await pubsub.get_message(timeout=PING_INTERVAL_S)
                    if message is None:
                        if loop.time() - heard > 3 * PING_INTERVAL_S:
                            raise RedisError("the subscription went silent")
                        await pubsub.ping()
                        continue
                    heard, delay = loop.time(), RETRY_FIRST_S
                    if message["type"] == "subscribe":
                        self._listening.set()
                        if not first:
                            log.info("leases: node %s listening again", self.node)
                            for callback in self._on_reconnect:
                                callback()
                        first = False
                    elif message["type"] == "message":
                        self._dispatch(message["data"])
            except (RedisError, OSError) as e:
                if self._listening.is_set() or first:
                    log.warning("leases: node %s lost its subscription (%s): reconnecting", self.node, e)
                self._listening.clear()
            finally:
                try:
                    await asyncio.wait_for(pubsub.aclose(), 1.0)  # type: ignore[no-untyped-call]
                except (RedisError, OSError, asyncio.TimeoutError):
                    pass
            await asyncio.sleep(delay)  # a reconnect's backoff: no event to wait for
            delay = min(2 * delay, RETRY_MAX_S)

    def _dispatch(self, data: bytes) -> None:
        try:
            message = json.loads(data)
            handler = self._handlers.get(message.get("k"))
        except (ValueError, AttributeError):
            log.warning("leases: a message that is not one: %r", data[:100])
            return
        if handler is None:
            return
        try:
            handler(message)
        except Exception:
            log.exception("leases: message %s failed", message.get("k"))
