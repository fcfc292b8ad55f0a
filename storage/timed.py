"""TimedStore: any Store, with the time and failures of each call counted for /metrics."""

from __future__ import annotations

import collections
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from tournament.models import Delivery, Dispute, Event, Match, Participant, Tournament, Webhook
from tournament.store import IdempotencyRecord, NotFoundError, StorageError, Store

T = TypeVar("T")


class StoreStats:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.seconds: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.errors: collections.Counter[str] = collections.Counter()


class TimedStore:
    """Wraps a store; every call adds to `stats` (NotFoundError is an answer, not a failure)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.stats = StoreStats()

    async def _timed(self, name: str, call: Awaitable[T]) -> T:
        stats = self.stats
        started = time.perf_counter()
        try:
            return await call
        except NotFoundError:
            raise
        except StorageError:
            stats.errors[name] += 1
            raise
        finally:
            stats.calls[name] += 1
            stats.seconds[name] += time.perf_counter() - started

    async def setup(self) -> None:
        await self.inner.setup()

    async def ping(self) -> None:
        await self._timed("ping", self.inner.ping())

    async def close(self) -> None:
        await self.inner.close()

    async def insert_tournament(self, tournament: Tournament) -> None:
        await self._timed("insert_tournament", self.inner.insert_tournament(tournament))

    async def get_tournament(self, tournament_id: str) -> Tournament:
        return await self._timed("get_tournament", self.inner.get_tournament(tournament_id))

    async def list_tournaments(self, limit: int = 100, before: tuple[float, str] | None = None,
                               archived: bool | None = None) -> list[Tournament]:
        return await self._timed("list_tournaments", self.inner.list_tournaments(limit, before, archived))

    async def delete_tournament(self, tournament_id: str) -> None:
        await self._timed("delete_tournament", self.inner.delete_tournament(tournament_id))

    async def save_tournament(self, tournament: Tournament) -> None:
        await self._timed("save_tournament", self.inner.save_tournament(tournament))

    async def insert_participant(self, participant: Participant) -> None:
        await self._timed("insert_participant", self.inner.insert_participant(participant))

    async def insert_participants(self, participants: Sequence[Participant]) -> None:
        await self._timed("insert_participants", self.inner.insert_participants(participants))

    async def save_participant(self, participant: Participant) -> None:
        await self._timed("save_participant", self.inner.save_participant(participant))

    async def delete_participant(self, tournament_id: str, participant_id: str) -> None:
        await self._timed("delete_participant", self.inner.delete_participant(tournament_id, participant_id))

    async def list_participants(self, tournament_id: str) -> list[Participant]:
        return await self._timed("list_participants", self.inner.list_participants(tournament_id))

    async def list_entries(self, tournament_id: str) -> list[Participant]:
        return await self._timed("list_entries", self.inner.list_entries(tournament_id))

    async def insert_match(self, match: Match) -> None:
        await self._timed("insert_match", self.inner.insert_match(match))

    async def get_match(self, match_id: str) -> Match:
        return await self._timed("get_match", self.inner.get_match(match_id))

    async def list_matches(self, tournament_id: str) -> list[Match]:
        return await self._timed("list_matches", self.inner.list_matches(tournament_id))

    async def delete_matches(self, tournament_id: str) -> int:
        return await self._timed("delete_matches", self.inner.delete_matches(tournament_id))

    async def save_match(self, match: Match, events: list[Event], dispute: Dispute | None,
                         keep_version: bool = False) -> None:
        await self._timed("save_match", self.inner.save_match(match, events, dispute, keep_version))

    async def get_dispute(self, dispute_id: str) -> Dispute:
        return await self._timed("get_dispute", self.inner.get_dispute(dispute_id))

    async def list_disputes(self, match_id: str) -> list[Dispute]:
        return await self._timed("list_disputes", self.inner.list_disputes(match_id))

    async def list_events(self, stream: str, since: int = 0, limit: int = 1000,
                          until: int | None = None) -> list[Event]:
        return await self._timed("list_events", self.inner.list_events(stream, since, limit, until))

    async def claim_idempotency_key(self, scope: str, fingerprint: str, now: float,
                                    abandoned_before: float) -> IdempotencyRecord | None:
        return await self._timed("claim_idempotency_key",
                                 self.inner.claim_idempotency_key(scope, fingerprint, now, abandoned_before))

    async def complete_idempotency_key(self, scope: str, status: int, body: dict[str, Any]) -> None:
        await self._timed("complete_idempotency_key", self.inner.complete_idempotency_key(scope, status, body))

    async def release_idempotency_key(self, scope: str) -> None:
        await self._timed("release_idempotency_key", self.inner.release_idempotency_key(scope))

    async def purge_idempotency_keys(self, older_than: float) -> int:
        return await self._timed("purge_idempotency_keys", self.inner.purge_idempotency_keys(older_than))

    async def insert_webhook(self, webhook: Webhook) -> None:
        await self._timed("insert_webhook", self.inner.insert_webhook(webhook))

    async def save_webhook(self, webhook: Webhook) -> None:
        await self._timed("save_webhook", self.inner.save_webhook(webhook))

    async def list_webhooks(self, tournament_id: str | None = None) -> list[Webhook]:
        return await self._timed("list_webhooks", self.inner.list_webhooks(tournament_id))

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._timed("delete_webhook", self.inner.delete_webhook(webhook_id))

    async def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        await self._timed("insert_deliveries", self.inner.insert_deliveries(deliveries))

    async def save_delivery(self, delivery: Delivery) -> None:
        await self._timed("save_delivery", self.inner.save_delivery(delivery))

    async def list_deliveries(self, webhook_id: str, after_seq: int = 0, limit: int = 100, *,
                              undelivered: bool = False) -> list[Delivery]:
        return await self._timed("list_deliveries", self.inner.list_deliveries(
            webhook_id, after_seq, limit, undelivered=undelivered))

    async def recent_deliveries(self, webhook_id: str, before_seq: int | None = None,
                                limit: int = 50) -> list[Delivery]:
        return await self._timed("recent_deliveries", self.inner.recent_deliveries(webhook_id, before_seq, limit))

    async def reset_deliveries(self, webhook_id: str, from_seq: int) -> int:
        return await self._timed("reset_deliveries", self.inner.reset_deliveries(webhook_id, from_seq))
