"""A participant's fields as a body or a row gives them, and the rows of a bulk registration,
read from a JSON list or a CSV text (pure: no store, no state).

A row keeps what could be read and a problem for each field that could not: every row is read
before anything is refused, so one answer lists them all. Whether a name, seed or id is taken
is the ParticipantService's question (it has the registered ones).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from typing import Any, TypeVar

from tournament import fields
from tournament.errors import DomainError, RowProblem

MAX_ROWS = 1024  # rows of one bulk registration
MAX_NAME_LEN = 100
MAX_SEED = 4096
COLUMNS = ("name", "seed", "id")  # a CSV's columns without a header, in this order

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Row:
    """One participant to add. A field that could not be read is None and has its problem."""

    number: int  # 1-based: the CSV line it starts on (a header line counted), or the list index + 1
    name: str | None
    seed: int | None
    id: str | None
    problems: tuple[RowProblem, ...] = ()


def name(body: dict[str, Any]) -> str:
    """The required `name`: stripped, 1 to MAX_NAME_LEN characters, one line (`fields.text`).
    Raises SchemaError, InvalidValueError."""
    return fields.text(body, "name", max_len=MAX_NAME_LEN)


def seed(body: dict[str, Any]) -> int | None:
    """The optional `seed`: an integer from 1 to MAX_SEED. Raises SchemaError, InvalidValueError."""
    return fields.integer(body, "seed", minimum=1, maximum=MAX_SEED)


def from_body(body: dict[str, Any]) -> list[Row]:
    """The rows of a bulk body: `participants` (a list of objects) or `csv` (a text), one of them.
    Raises SchemaError (neither, both, wrong types), InvalidValueError (no rows, too many, an
    unreadable CSV)."""
    given = [key for key in ("participants", "csv") if body.get(key) is not None]
    if len(given) != 1:
        raise fields.bad_request("send one of participants (a list of objects) and csv (a text)", "participants")
    if given == ["csv"]:
        if not isinstance(body["csv"], str):
            raise fields.bad_request("csv must be a string", "csv")
        return from_csv(body["csv"])
    return from_list(body["participants"])


def from_list(items: Any) -> list[Row]:
    """Rows from a JSON list of `{name, seed?, id?}`, numbered from 1. A value of the wrong type
    is a row's problem. Raises SchemaError (not a list of objects), InvalidValueError (empty,
    more than MAX_ROWS)."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise fields.bad_request("participants must be a list of objects with name, seed and id", "participants")
    _check_count(len(items), "participants")
    return [_row(i + 1, item, seed) for i, item in enumerate(items)]


def from_csv(text: str) -> list[Row]:
    """Rows from CSV (`csv` module, the excel dialect): columns name, seed, id, or as a header
    orders them. The first line that is not blank is a header when its first cell is `name`
    (any case), or when its cells are all column names and one is `name`. Blank lines are
    skipped, cells stripped, an empty seed or id cell is none; a leading BOM is ignored.
    Raises InvalidValueError (field csv): unreadable, a header with an unknown or repeated
    column, a line with more cells than columns, no rows, more than MAX_ROWS."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    columns: tuple[str, ...] = COLUMNS
    rows: list[Row] = []
    seen_first = False
    try:
        read_up_to = 0  # the last line the reader has taken
        for raw in reader:
            number, read_up_to = read_up_to + 1, reader.line_num  # a quoted cell may span lines
            cells = [cell.strip() for cell in raw]
            if not any(cells):
                continue
            if not seen_first:
                seen_first = True
                header = _header(cells)
                if header is not None:
                    columns = header
                    continue
            if any(cells[len(columns):]):
                raise fields.invalid("csv", f"line {number} has {len(cells)} cells, but the columns are "
                                            f"{', '.join(columns)}")
            if len(rows) == MAX_ROWS:
                _check_count(MAX_ROWS + 1, "csv")
            values = {column: cell or None for column, cell in zip(columns, cells)}
            rows.append(_row(number, values, _seed_cell))
    except csv.Error as e:
        raise fields.invalid("csv", f"line {reader.line_num} cannot be read: {e}") from None
    _check_count(len(rows), "csv")
    return rows


def _header(cells: list[str]) -> tuple[str, ...] | None:
    """The columns a first line names, or None when it is a participant. Raises InvalidValueError."""
    while cells and not cells[-1]:
        cells = cells[:-1]
    names = [cell.casefold() for cell in cells]
    if names[0] != "name" and not ("name" in names and set(names) <= set(COLUMNS)):
        return None
    unknown = [cell for cell, folded in zip(cells, names) if folded not in COLUMNS]
    if unknown:
        raise fields.invalid("csv", f"the header names unknown columns ({', '.join(map(repr, unknown))}): "
                                    f"the columns are {', '.join(COLUMNS)}")
    if len(set(names)) != len(names):
        raise fields.invalid("csv", "the header names a column twice")
    return tuple(names)


def _seed_cell(values: dict[str, Any]) -> int | None:
    """A CSV seed cell: digits from 1 to MAX_SEED, or none when empty."""
    cell = values.get("seed")
    return None if cell is None else fields.whole_number(cell, "seed", 1, MAX_SEED)


def _row(number: int, values: dict[str, Any], read_seed: Callable[[dict[str, Any]], int | None]) -> Row:
    problems: list[RowProblem] = []

    def read(field: str, reader: Callable[[dict[str, Any]], T]) -> T | None:
        try:
            return reader(values)
        except DomainError as e:  # SchemaError or InvalidValueError: this row's problem
            problems.append(RowProblem(number, field, e.message))
            return None

    return Row(number, read("name", name), read("seed", read_seed),
               read("id", lambda v: fields.identifier(v, "id", required=False)), tuple(problems))


def _check_count(count: int, field: str) -> None:
    if count == 0:
        raise fields.invalid(field, "has no participants to add")
    if count > MAX_ROWS:
        raise fields.invalid(field, f"at most {MAX_ROWS} participants can be added at once")
