"""The Store interface every backend implements, proven by tests/storage/test_contract.py."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from tournament.models import Dispute, Event, Match, Participant, Tournament


@dataclasses.dataclass(frozen=True)
class IdempotencyRecord:
    """A claimed Idempotency-Key: pending until the first request's response is kept."""

    scope: str
    fingerprint: str
    created_at: float
    status: int | None = None
    body: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status is not None


class Store(Protocol):
    """Records by id. Reads raise NotFoundError; every call may raise StorageUnavailableError."""

    async def setup(self) -> None:
        """Create indexes; safe to call on every start."""

    async def ping(self) -> None:
        """Return when the database answers; raise StorageUnavailableError otherwise."""

    async def close(self) -> None: ...

    async def insert_tournament(self, tournament: Tournament) -> None:
        """Raises ConflictError when the id exists."""

    async def get_tournament(self, tournament_id: str) -> Tournament: ...

    async def list_tournaments(self) -> list[Tournament]:
        """Newest first."""

    async def save_tournament(self, tournament: Tournament) -> None:
        """Write `tournament` if the stored one has version `tournament.version - 1`.
        Raises ConflictError (stale version) or NotFoundError."""

    async def insert_participant(self, participant: Participant) -> None:
        """Raises ConflictError when the tournament already has a participant with that id."""

    async def list_participants(self, tournament_id: str) -> list[Participant]:
        """In registration order."""

    async def insert_match(self, match: Match) -> None: ...

    async def get_match(self, match_id: str) -> Match: ...

    async def list_matches(self, tournament_id: str) -> list[Match]:
        """In creation order."""

    async def delete_matches(self, tournament_id: str) -> int:
        """Delete the tournament's bracket matches and their event logs (a bracket reset);
        ad-hoc matches stay. Returns how many matches went."""

    async def save_match(self, match: Match, events: list[Event], dispute: Dispute | None) -> None:
        """Write `match` if the stored one has version `match.version - 1`, then its dispute
        and its events. Raises ConflictError (stale version) or NotFoundError."""

    async def get_dispute(self, dispute_id: str) -> Dispute: ...

    async def open_dispute(self, match_id: str) -> Dispute | None:
        """The match's open dispute, if any."""

    async def list_disputes(self, match_id: str) -> list[Dispute]:
        """The match's disputes, oldest first."""

    async def list_events(self, stream: str, since: int = 0, limit: int = 1000) -> list[Event]:
        """Events of `stream` with seq > since, in seq order."""

    async def claim_idempotency_key(self, scope: str, fingerprint: str,
                                    now: float) -> IdempotencyRecord | None:
        """Claim `scope` for a request: None when claimed now, else the earlier claim."""

    async def complete_idempotency_key(self, scope: str, status: int, body: dict[str, Any]) -> None: ...

    async def release_idempotency_key(self, scope: str) -> None:
        """Forget a claim whose request failed, so a retry runs again."""

    async def purge_idempotency_keys(self, older_than: float) -> int:
        """Forget claims made before `older_than` (epoch seconds); returns how many."""
