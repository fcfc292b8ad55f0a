"""API errors, and the one mapping from any exception to `{"error": {"code", "message"}}`."""

from __future__ import annotations

import http
from typing import Any

from tornado.web import HTTPError

from handlers.auth import AuthError
from storage.errors import ConflictError, NotFoundError, StorageError, StorageUnavailableError
from tournament.errors import (AlreadyExistsError, DomainError, ForbiddenError,
                               InvalidTransitionError, InvalidValueError, StaleVersionError)


class ApiError(Exception):
    """An error the edge answers with `status` and a stable `code`."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def bad_request(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, "invalid_schema", message, **({"field": field} if field else {}))


_DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (ForbiddenError, 403), (InvalidTransitionError, 409), (StaleVersionError, 409),
    (AlreadyExistsError, 409), (InvalidValueError, 422),
]


def describe(exc: BaseException | None, status: int) -> tuple[int, dict[str, Any]]:
    """The status and body that answer `exc` (None: a plain error with `status`).

    Unknown exceptions become a 500 whose message says nothing of the cause.
    """
    if isinstance(exc, ApiError):
        return exc.status, _body(exc.code, exc.message, exc.details)
    if isinstance(exc, AuthError):
        return 401, _body(exc.code, exc.message)
    if isinstance(exc, DomainError):
        code = next((s for kind, s in _DOMAIN_STATUS if isinstance(exc, kind)), 400)
        return code, _body(exc.code, exc.message, exc.details)
    if isinstance(exc, NotFoundError):
        return 404, _body("not_found", str(exc))
    if isinstance(exc, ConflictError):
        return 409, _body("conflict", str(exc))
    if isinstance(exc, StorageUnavailableError):
        return 503, _body("store_unavailable", "the database is unreachable; try again shortly")
    if isinstance(exc, StorageError):
        return 503, _body("store_error", "the database refused the request; try again shortly")
    if isinstance(exc, HTTPError):
        status = exc.status_code
    if status >= 500:
        return 500, _body("internal_error", "the server failed to handle the request")
    phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error"
    return status, _body(phrase.lower().replace(" ", "_").replace("-", "_"), phrase)


def is_expected(exc: BaseException | None) -> bool:
    """Whether `exc` is a refusal we answer on purpose (no stack trace in the log)."""
    return isinstance(exc, (ApiError, AuthError, DomainError, StorageError, HTTPError))


def _body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **(details or {})}}
