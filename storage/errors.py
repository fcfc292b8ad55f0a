"""Storage errors; handlers turn them into 404, 409 and 503."""

from __future__ import annotations


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
