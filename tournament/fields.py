"""Reading fields of a JSON object (a REST body, a socket frame's data), the same for both.

Wrong shapes raise SchemaError (400, invalid_schema), bad values InvalidValueError (422,
invalid_value). Every text is checked here, before anything is written: well-formed Unicode
(JSON may carry a lone surrogate such as `"\\ud800"`, which no database can store) and no
control characters (line breaks and tabs only where a text may have several lines).
"""

from __future__ import annotations

import re
from typing import Any

from tournament.errors import InvalidValueError, SchemaError

_MISSING = object()
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps \t \n \r


def bad_request(message: str, field: str | None = None) -> SchemaError:
    return SchemaError(message, **({"field": field} if field else {}))


def invalid(field: str, message: str) -> InvalidValueError:
    return InvalidValueError(f"{field}: {message}", field=field)


def check_text(value: str, field: str, *, multiline: bool = False) -> str:
    """`value` if it is well-formed Unicode without control characters (tabs and line breaks
    allowed when `multiline`). Raises InvalidValueError (422)."""
    if _SURROGATE.search(value):
        raise invalid(field, "must be well-formed Unicode (it has a lone surrogate)")
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value):
        raise invalid(field, "must not contain control characters")
    return value


def text(body: dict[str, Any], field: str, *, default: str | None = None, max_len: int = 200,
         allow_empty: bool = False, multiline: bool = False) -> str:
    """A string field, stripped and checked (`check_text`). Raises SchemaError (absent
    without default, not a string) or InvalidValueError (empty, too long, malformed)."""
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        if default is None:
            raise bad_request(f"{field} is required", field)
        return default
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string", field)
    value = check_text(value.strip(), field, multiline=multiline)
    if not value and not allow_empty:
        raise invalid(field, "must not be empty")
    if len(value) > max_len:
        raise invalid(field, f"must be at most {max_len} characters")
    return value


def flag(body: dict[str, Any], field: str, default: bool = False) -> bool:
    """An optional true/false field (null counts as absent). Raises SchemaError."""
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{field} must be true or false", field)
    return value


def integer(body: dict[str, Any], field: str, *, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
    """An optional whole-number field. Raises SchemaError (not an integer) or InvalidValueError (out of range)."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"{field} must be an integer", field)
    if not minimum <= value <= maximum:
        raise invalid(field, f"must be between {minimum} and {maximum}")
    return value


def identifier(body: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    """An id field (letters, digits, `_`, `-`; 1 to 64). Raises SchemaError or InvalidValueError."""
    value = body.get(field)
    if value is None:
        if required:
            raise bad_request(f"{field} is required", field)
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string", field)
    if not 1 <= len(value) <= 64 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in value):
        raise invalid(field, "must be 1 to 64 letters, digits, '_' or '-'")
    return value


def id_list(body: dict[str, Any], field: str) -> list[str]:
    """A required list of ids. Raises SchemaError or InvalidValueError."""
    value = body.get(field)
    if not isinstance(value, list):
        raise bad_request(f"{field} must be a list of ids", field)
    return [identifier({field: item}, field) or "" for item in value]


def scores(body: dict[str, Any], field: str = "scores", *, required: bool = True) -> dict[str, int] | None:
    """An object of participant id -> non-negative integer. Raises SchemaError (shape) or
    InvalidValueError (negative); which ids may appear is the rules' decision."""
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
            raise invalid(field, f"score of {pid} must not be negative")
        result[pid] = score
    return result


def score_list(body: dict[str, Any], field: str, most: int) -> list[dict[str, int]] | None:
    """An optional list of at most `most` score objects (a series' games, in order). Raises
    SchemaError or InvalidValueError."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise bad_request(f"{field} must be a list of objects of participant id to score, one per game", field)
    if len(value) > most:
        raise invalid(field, f"must have at most {most} games")
    return [scores({field: item}, field) or {} for item in value]


def whole_number(raw: str, field: str, low: int, high: int) -> int:
    """Decimal digits from a query or a header (no sign, no spaces), between `low` and
    `high`. Raises SchemaError (not digits) or InvalidValueError (out of range); a number
    of any length is refused without being parsed."""
    if not (raw.isascii() and raw.isdigit()):
        raise bad_request(f"{field} must be a whole number (digits only)", field)
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(high)) or not low <= int(digits) <= high:
        raise invalid(field, f"must be between {low} and {high}")
    return int(digits)


def names(body: dict[str, Any], field: str) -> tuple[str, ...] | None:
    """An optional list of short names (which names are allowed is the domain's decision).
    Raises SchemaError (not a list of strings) or InvalidValueError (more than 32)."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request(f"{field} must be a list of names", field)
    if len(value) > 32:
        raise invalid(field, "must name at most 32")
    return tuple(check_text(item, field)[:64] for item in value)


def numbers(body: dict[str, Any], field: str, count: int) -> tuple[float, ...] | None:
    """An optional list of exactly `count` numbers (not booleans). Raises SchemaError."""
    value = body.get(field)
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != count
            or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value)):
        raise bad_request(f"{field} must be a list of {count} numbers", field)
    return tuple(float(n) for n in value)
