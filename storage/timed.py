"""TimedStore: any Store, with the time and failures of each call counted for /metrics."""

from __future__ import annotations

import collections
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from storage.errors import NotFoundError, StorageError

_COUNTED = ("insert_tournament", "get_tournament", "list_tournaments", "insert_participant",
            "list_participants", "insert_match", "get_match", "list_matches", "save_match",
            "save_tournament", "delete_matches",
            "get_dispute", "open_dispute", "list_disputes", "list_events",
            "claim_idempotency_key", "complete_idempotency_key", "release_idempotency_key", "ping")


class StoreStats:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.seconds: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.errors: collections.Counter[str] = collections.Counter()


class TimedStore:
    """Wraps a store; every counted call adds to `stats` (NotFoundError is an answer, not a failure)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.stats = StoreStats()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in _COUNTED:
            return attr
        timed = self._timed(name, attr)
        setattr(self, name, timed)  # build each wrapper once
        return timed

    def _timed(self, name: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        stats = self.stats

        @functools.wraps(call)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            except NotFoundError:
                raise
            except StorageError:
                stats.errors[name] += 1
                raise
            finally:
                stats.calls[name] += 1
                stats.seconds[name] += time.perf_counter() - started

        return timed
