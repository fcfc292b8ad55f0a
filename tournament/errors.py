"""Domain errors; the edge turns each into an HTTP status or an error frame."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """A request the rules refuse. `code` is stable for clients to switch on."""

    code = "domain_error"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class InvalidTransitionError(DomainError):
    """The move is not allowed from the match's current state (HTTP 409)."""

    code = "invalid_state"


class ForbiddenError(DomainError):
    """The user may not do this (HTTP 403)."""

    code = "forbidden"


class InvalidValueError(DomainError):
    """Well-formed input with a value the rules refuse (HTTP 422)."""

    code = "invalid_value"


@dataclasses.dataclass(frozen=True)
class RowProblem:
    """Why one row of a bulk request is refused: its 1-based number, the field, the reason."""

    row: int
    field: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class InvalidRowsError(InvalidValueError):
    """Rows of a bulk request the rules refuse; nothing of the request is applied (HTTP 422).
    The details carry every problem, in row order (`rows`)."""

    code = "invalid_rows"

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        count = len({p.row for p in problems})
        super().__init__(f"{count} {'row' if count == 1 else 'rows'} cannot be added; nothing was added",
                         rows=[p.to_json() for p in problems])
        self.problems = tuple(problems)


class StaleVersionError(DomainError):
    """The client acted on a version of the record that is no longer current (HTTP 409)."""

    code = "version_conflict"


class AlreadyExistsError(DomainError):
    """A record with that id or name exists already (HTTP 409)."""

    code = "already_exists"


class SchemaError(DomainError):
    """Input of the wrong shape: a field missing or of the wrong type (HTTP 400)."""

    code = "invalid_schema"


class ShuttingDownError(DomainError):
    """The server is stopping and takes no more moves; retry against it once it is back (HTTP 503)."""

    code = "shutting_down"
