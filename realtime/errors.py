"""Every failure as a client is told of it: one describer for REST bodies and socket error frames.

`describe(exc)` gives the HTTP status, the stable `code`, the message and any details. REST
writes `{"error": {"code", "message", ...details}}` with the status; a socket writes an
error frame with the same code, message and details. Domain and storage errors become
statuses here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from realtime.protocol import ProtocolError
from tournament.errors import (AlreadyExistsError, DomainError, ForbiddenError, InvalidTransitionError,
                               InvalidValueError, SchemaError, ShuttingDownError, StaleVersionError)
from tournament.store import ConflictError, NotFoundError, StorageError, StorageUnavailableError
from tournament.tokens import AuthError


class ApiError(Exception):
    """A refusal the edge makes itself, with its `status` and stable `code` (413, 429, ...)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


@dataclasses.dataclass(frozen=True)
class Problem:
    """What a client is told of a failure."""

    status: int
    code: str
    message: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


INTERNAL = Problem(500, "internal_error", "the server failed to handle the request")

_DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (ForbiddenError, 403), (InvalidTransitionError, 409), (StaleVersionError, 409),
    (AlreadyExistsError, 409), (InvalidValueError, 422), (SchemaError, 400), (ShuttingDownError, 503),
]


def describe(exc: BaseException) -> Problem:
    """The problem that answers `exc`. An exception nobody foresaw is INTERNAL, whose
    message says nothing of the cause (the log has it: see `is_expected`)."""
    if isinstance(exc, ApiError):
        return Problem(exc.status, exc.code, exc.message, exc.details)
    if isinstance(exc, ProtocolError):
        return Problem(400, exc.code, exc.message)
    if isinstance(exc, AuthError):
        return Problem(401, exc.code, exc.message)
    if isinstance(exc, DomainError):
        status = next((s for kind, s in _DOMAIN_STATUS if isinstance(exc, kind)), 400)
        return Problem(status, exc.code, exc.message, exc.details)
    if isinstance(exc, NotFoundError):
        return Problem(404, "not_found", str(exc))
    if isinstance(exc, ConflictError):
        return Problem(409, "conflict", str(exc))
    if isinstance(exc, StorageUnavailableError):
        return Problem(503, "store_unavailable", "the database is unreachable; try again shortly")
    if isinstance(exc, StorageError):
        return Problem(503, "store_error", "the database refused the request; try again shortly")
    return INTERNAL


def is_expected(exc: BaseException | None) -> bool:
    """Whether `exc` is a refusal answered on purpose (no stack trace in the log)."""
    return isinstance(exc, (ApiError, ProtocolError, AuthError, DomainError, StorageError))
