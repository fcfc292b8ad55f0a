"""GET /api/tournaments/{id}/export/{participants,matches,placements}.{csv,json}: a tournament's
tables for a spreadsheet or another tool. CSV is UTF-8 with a byte-order mark (so a spreadsheet
reads names as UTF-8), one header row, and every cell a spreadsheet would run as a formula
quoted with a leading `'` (CSV injection); JSON carries the same rows under the table's name."""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from handlers.base import ID, BaseHandler
from tournament.models import Match, Participant, Tournament, iso

TABLES = ("participants", "matches", "placements")
Row = dict[str, Any]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def participant_rows(tournament: Tournament, participants: list[Participant], matches: list[Match]) -> list[Row]:
    seeds = {pid: seed for seed, pid in enumerate(tournament.seed_order, start=1)}
    return [{"id": p.id, "name": p.name, "seed": seeds.get(p.id, p.seed), "registered_at": iso(p.created_at)}
            for p in participants]


def match_rows(tournament: Tournament, participants: list[Participant], matches: list[Match]) -> list[Row]:
    names = {p.id: p.name for p in participants}
    rows = []
    for m in matches:
        if m.slot is not None and m.slot.walkover:
            continue  # a bye or a reset not needed: nothing was played
        a, b = m.participant_ids
        rows.append({
            "id": m.id, "key": m.slot.key if m.slot else m.label, "round": m.round, "state": m.state.value,
            "player1_id": a, "player1": names.get(a or ""), "player1_score": m.scores.get(a or ""),
            "player2_id": b, "player2": names.get(b or ""), "player2_score": m.scores.get(b or ""),
            "winner_id": m.winner_id, "winner": names.get(m.winner_id or ""),
            "best_of": m.format.best_of,
            "games": " ".join(f"{g.scores.get(a or '', 0)}-{g.scores.get(b or '', 0)}" for g in m.games),
            "station": m.call.station if m.call else None,
            "started_at": iso(m.started_at), "ended_at": iso(m.ended_at)})
    return rows


def placement_rows(tournament: Tournament, participants: list[Participant], matches: list[Match]) -> list[Row]:
    names = {p.id: p.name for p in participants}
    return [{"place": p["place"], "participant_id": p["participant_id"], "name": names.get(p["participant_id"])}
            for p in tournament.placements]


BUILDERS: dict[str, Callable[[Tournament, list[Participant], list[Match]], list[Row]]] = {
    "participants": participant_rows, "matches": match_rows, "placements": placement_rows}
COLUMNS = {
    "participants": ("id", "name", "seed", "registered_at"),
    "matches": ("id", "key", "round", "state", "player1_id", "player1", "player1_score", "player2_id", "player2",
                "player2_score", "winner_id", "winner", "best_of", "games", "station", "started_at", "ended_at"),
    "placements": ("place", "participant_id", "name"),
}


def csv_text(columns: tuple[str, ...], rows: list[Row]) -> str:
    """The rows as CSV with a header; None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return "\ufeff" + out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A name like "=HYPERLINK(...)" would run in a spreadsheet; numbers we wrote stay numbers.
    if text.startswith(_FORMULA_START) and not isinstance(value, (int, float)):
        return "'" + text
    return text


def _filename(tournament: Tournament, table: str, extension: str) -> str:
    """Content-Disposition for `<name>-<table>.<ext>`: an ASCII name and the UTF-8 one (RFC 6266)."""
    stem = f"{tournament.name}-{table}.{extension}"
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or f"{table}.{extension}"
    return f"attachment; filename=\"{ascii_stem}\"; filename*=UTF-8''{urllib.parse.quote(stem, safe='')}"


class ExportHandler(BaseHandler):
    async def get(self, tournament_id: str, table: str, extension: str) -> None:
        self.user()
        tournament = await self.services.tournaments.get(tournament_id)
        participants = await self.services.tournaments.list_participants(tournament_id)
        matches = await self.services.tournaments.list_matches(tournament_id) if table == "matches" else []
        rows = BUILDERS[table](tournament, participants, matches)
        self.set_header("Content-Disposition", _filename(tournament, table, extension))
        if extension == "json":
            self.reply(200, {"tournament_id": tournament.id, table: rows})
            return
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.finish(csv_text(COLUMNS[table], rows).encode())


routes = [(rf"/api/tournaments/({ID})/export/({'|'.join(TABLES)})\.(csv|json)", ExportHandler)]
