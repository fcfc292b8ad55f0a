"""The Store port: what the services need of a database, and the errors it raises.

The domain owns this interface; `storage/` implements it (MongoDB, the embedded server,
memory) and tests/storage/test_contract.py proves every backend against it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from tournament.models import Delivery, Dispute, Event, Match, Participant, Tournament, Webhook


class StorageError(Exception):
    """Base of every error the store raises."""


class NotFoundError(StorageError):
    """No record has that id."""

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"{kind} {record_id} not found")
        self.kind = kind
        self.record_id = record_id


class ConflictError(StorageError):
    """The write lost a race (stale version) or would duplicate a unique key."""


class StorageUnavailableError(StorageError):
    """The database cannot be reached; the request may be retried later."""


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

    async def list_tournaments(self, limit: int = 100, before: tuple[float, str] | None = None,
                               archived: bool | None = None) -> list[Tournament]:
        """Newest first, at most `limit`; with `before` (created_at, id) only older ones; with
        `archived` only the archived (True) or the others (False)."""

    async def delete_tournament(self, tournament_id: str) -> None:
        """Delete the tournament's matches with their event logs and disputes, its
        participants, its webhooks with their outboxes, then the tournament itself (last: a delete cut off is done again by
        calling this again). Deleting what is gone already is no error."""

    async def save_tournament(self, tournament: Tournament) -> None:
        """Write `tournament` if the stored one has version `tournament.version - 1`.
        Raises ConflictError (stale version) or NotFoundError."""

    async def insert_participant(self, participant: Participant) -> None:
        """Raises ConflictError when the tournament already has a participant with that id."""

    async def insert_participants(self, participants: Sequence[Participant]) -> None:
        """Insert several, in order. Raises ConflictError when one's id is taken in its
        tournament (or twice in `participants`); then none of them is kept."""

    async def save_participant(self, participant: Participant) -> None:
        """Replace the participant with its tournament and id. Raises NotFoundError."""

    async def delete_participant(self, tournament_id: str, participant_id: str) -> None:
        """Raises NotFoundError when the tournament has no participant with that id."""

    async def list_participants(self, tournament_id: str) -> list[Participant]:
        """The registered (status `registered`: those who play), in registration order."""

    async def list_entries(self, tournament_id: str) -> list[Participant]:
        """Every participant whatever its status (pending, waitlisted, dropped too), in
        registration order. Ids are unique across statuses: one record each."""

    async def insert_match(self, match: Match) -> None: ...

    async def get_match(self, match_id: str) -> Match: ...

    async def list_matches(self, tournament_id: str) -> list[Match]:
        """In creation order."""

    async def delete_matches(self, tournament_id: str) -> int:
        """Delete the tournament's bracket matches and their event logs (a bracket reset);
        ad-hoc matches stay. Returns how many matches went."""

    async def save_match(self, match: Match, events: list[Event], dispute: Dispute | None,
                         keep_version: bool = False) -> None:
        """Commit a change of `match`, crash-safe without transactions.

        First the events, each upserted by its id (a leftover of a write that never
        committed is overwritten), then the dispute's lookup copy (upserted), then the
        match itself, only if the stored one is still as it was read: at version
        `match.version - 1` (`match.version` with `keep_version`, for a chat message, which
        does not change what `If-Match` guards) and seq `match.seq - len(events)`. That write is
        the commit. Until it lands, readers ignore the events above the stored match's seq,
        and the match's own `dispute` is the truth about its dispute.
        Raises ConflictError (stale version) or NotFoundError.
        """

    async def get_dispute(self, dispute_id: str) -> Dispute:
        """The dispute's lookup copy (the match holds the truth of its current one)."""

    async def list_disputes(self, match_id: str) -> list[Dispute]:
        """The lookup copies of the match's disputes, oldest first."""

    async def list_events(self, stream: str, since: int = 0, limit: int = 1000,
                          until: int | None = None) -> list[Event]:
        """Events of `stream` with since < seq (<= until, when given), in seq order."""

    async def claim_idempotency_key(self, scope: str, fingerprint: str, now: float,
                                    abandoned_before: float) -> IdempotencyRecord | None:
        """Claim `scope` for a request: None when claimed now, else the earlier claim.

        A claim still pending that was made before `abandoned_before` belongs to a request
        that was cut off (a crash, a shutdown): it is taken over, so the retry runs once.
        """

    async def complete_idempotency_key(self, scope: str, status: int, body: dict[str, Any]) -> None: ...

    async def release_idempotency_key(self, scope: str) -> None:
        """Forget a claim whose request failed, so a retry runs again."""

    async def purge_idempotency_keys(self, older_than: float) -> int:
        """Forget claims made before `older_than` (epoch seconds); returns how many."""

    async def insert_webhook(self, webhook: Webhook) -> None:
        """Raises ConflictError when the id exists."""

    async def save_webhook(self, webhook: Webhook) -> None:
        """Replace the stored webhook. Raises NotFoundError."""

    async def list_webhooks(self, tournament_id: str | None = None) -> list[Webhook]:
        """The tournament's webhooks (every tournament's when None), oldest first."""

    async def delete_webhook(self, webhook_id: str) -> None:
        """Delete its outbox, then the webhook (last: a delete cut off is done again by calling
        this again). Deleting what is gone already is no error."""

    async def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        """Add rows to outboxes, in order, each upserted by its webhook and seq (a write
        retried after an unknown outcome writes the same rows again)."""

    async def save_delivery(self, delivery: Delivery) -> None:
        """Replace the row with its webhook and seq (an attempt's outcome)."""

    async def list_deliveries(self, webhook_id: str, after_seq: int = 0, limit: int = 100, *,
                              undelivered: bool = False) -> list[Delivery]:
        """The outbox's rows with seq > `after_seq`, in seq order, at most `limit`; with
        `undelivered` only those pending or failed."""

    async def recent_deliveries(self, webhook_id: str, before_seq: int | None = None,
                                limit: int = 50) -> list[Delivery]:
        """The outbox's newest rows (seq < `before_seq` when given), newest first."""

    async def reset_deliveries(self, webhook_id: str, from_seq: int) -> int:
        """Make every row with seq >= `from_seq` pending again with no attempts (a replay);
        returns how many."""
