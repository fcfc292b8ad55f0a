"""Reading fields of a JSON body: wrong types are 400 (invalid_schema), bad values 422."""

from __future__ import annotations

from typing import Any

from handlers.errors import ApiError, bad_request

_MISSING = object()


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_value", f"{field}: {message}", field=field)


def text(body: dict[str, Any], field: str, *, default: str | None = None, max_len: int = 200,
         allow_empty: bool = False) -> str:
    """A string field, stripped. Raises ApiError 400 (absent without default, not a string)
    or 422 (empty, too long)."""
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        if default is None:
            raise bad_request(f"{field} is required", field)
        return default
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string", field)
    value = value.strip()
    if not value and not allow_empty:
        raise _invalid(field, "must not be empty")
    if len(value) > max_len:
        raise _invalid(field, f"must be at most {max_len} characters")
    return value


def flag(body: dict[str, Any], field: str, default: bool = False) -> bool:
    """An optional true/false field (null counts as absent). Raises ApiError 400."""
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{field} must be true or false", field)
    return value


def integer(body: dict[str, Any], field: str, *, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
    """An optional whole-number field. Raises ApiError 400 (not an integer) or 422 (out of range)."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"{field} must be an integer", field)
    if not minimum <= value <= maximum:
        raise _invalid(field, f"must be between {minimum} and {maximum}")
    return value


def identifier(body: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    """An id field (letters, digits, `_`, `-`; 1 to 64). Raises ApiError 400 or 422."""
    value = body.get(field)
    if value is None:
        if required:
            raise bad_request(f"{field} is required", field)
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string", field)
    if not 1 <= len(value) <= 64 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in value):
        raise _invalid(field, "must be 1 to 64 letters, digits, '_' or '-'")
    return value


def id_list(body: dict[str, Any], field: str) -> list[str]:
    """A required list of ids. Raises ApiError 400 or 422."""
    value = body.get(field)
    if not isinstance(value, list):
        raise bad_request(f"{field} must be a list of ids", field)
    return [identifier({field: item}, field) or "" for item in value]


def scores(body: dict[str, Any], field: str = "scores", *, required: bool = True) -> dict[str, int] | None:
    """An object of participant id -> non-negative integer. Raises ApiError 400 (shape) or
    422 (negative); which ids may appear is the rules' decision."""
    value = body.get(field)
    if value is None:
        if required:
            raise bad_request(f"{field} is required: an object of participant id to score", field)
        return None
    if not isinstance(value, dict):
        raise bad_request(f"{field} must be an object of participant id to score", field)
    result: dict[str, int] = {}
    for pid, score in value.items():
        if not isinstance(score, int) or isinstance(score, bool):
            raise bad_request(f"{field}.{pid} must be an integer", field)
        if score < 0:
            raise _invalid(field, f"score of {pid} must not be negative")
        result[pid] = score
    return result
