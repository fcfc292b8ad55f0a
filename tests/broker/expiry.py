"""Awaiting a Redis key's expiry in the broker's tests: keyspace notifications, an event, not a sleep."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis


@contextlib.asynccontextmanager
async def expired(url: str, key: str) -> AsyncIterator[asyncio.Future[None]]:
    """A future done when Redis expires `key` (keyspace notifications: an event, not a sleep)."""
    client = aioredis.Redis.from_url(url)
    await client.config_set("notify-keyspace-events", "Ex")
    pubsub = client.pubsub()
    await pubsub.subscribe("__keyevent@0__:expired")
    await pubsub.get_message(timeout=1.0)  # the subscribe confirmation
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message" and message["data"] == key.encode():
                done.set_result(None)
                return
    task = asyncio.ensure_future(watch())
    try:
        yield done
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pubsub.aclose()
        await client.aclose()
