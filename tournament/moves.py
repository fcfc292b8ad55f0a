"""What every match move is made of: the Outcome it returns, the score check, disputes opened
and closed. Shared by the single-game moves (`rules`) and the series moves (`series`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from tournament import events as ev
from tournament.errors import InvalidTransitionError, InvalidValueError
from tournament.models import Dispute, DisputeStatus, Match, MatchState, Report, iso, new_id
from tournament.roles import Principal

MAX_SCORE = 1_000_000

EventSpec = tuple[str, dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a move does: the next match, the events it announces, and any dispute change."""

    match: Match
    events: list[EventSpec]
    dispute: Dispute | None = None  # a dispute created or closed by this move


def check_scores(match: Match, scores: Mapping[str, int], *, complete: bool, field: str = "scores") -> dict[str, int]:
    """Validated scores by participant id. Raises InvalidValueError (422).

    `complete` demands a score for both players and a winner (no ties).
    """
    unknown = sorted(set(scores) - set(match.players))
    if unknown:
        raise InvalidValueError(f"not a player of this match: {', '.join(unknown)}", field=field)
    for pid, value in scores.items():
        if not 0 <= value <= MAX_SCORE:
            raise InvalidValueError(f"score of {pid} must be between 0 and {MAX_SCORE}", field=field)
    if not scores:
        raise InvalidValueError("scores must name at least one player", field=field)
    if complete:
        if set(scores) != set(match.players):
            raise InvalidValueError("a result needs the score of both players", field=field)
        if len(set(scores.values())) == 1:
            raise InvalidValueError("a result cannot be a tie", field=field)
    return dict(scores)


def winner_of(scores: Mapping[str, int]) -> str:
    return max(scores, key=lambda pid: scores[pid])


def report_of(scores: dict[str, int]) -> Report:
    return Report(scores=scores, winner_id=winner_of(scores))


def require_players(match: Match) -> None:
    if len(match.players) != 2:
        raise InvalidTransitionError("the match does not have both players yet",
                                     code="players_missing", state=match.state.value)


def moved(match: Match, now: float, **changes: Any) -> Match:
    return dataclasses.replace(match, updated_at=now, **changes)


def state_changed(before: Match, after: Match, **extra: Any) -> EventSpec:
    return ev.MATCH_STATE_CHANGED, {"from": before.state.value, "to": after.state.value, **extra}


def raise_dispute(match: Match, user: Principal, reason: str, now: float) -> Outcome:
    dispute = Dispute(id=new_id("d"), match_id=match.id, tournament_id=match.tournament_id,
                      raised_by=user.participant_id, reason=reason, status=DisputeStatus.OPEN,
                      created_at=now)
    after = moved(match, now, state=MatchState.DISPUTED)
    return Outcome(after, [(ev.DISPUTE_CREATED, {"dispute": dispute.to_json()})], dispute)


def close_dispute(dispute: Dispute | None, status: DisputeStatus, resolution: str, user: Principal,
                  now: float) -> Dispute | None:
    if dispute is None:
        return None
    return dataclasses.replace(dispute, status=status, resolution=resolution,
                               resolved_by=user.user_id, resolved_at=now, version=dispute.version + 1)


def past(match: Match, user_id: str, now: float, why: str) -> dict[str, Any]:
    """The match's current result, as an entry of its history."""
    entry: dict[str, Any] = {"state": match.state.value, "result": match.result.to_json() if match.result else None,
             "winner_id": match.winner_id, "scores": dict(match.scores), "replaced_at": iso(now),
             "replaced_by": user_id, "why": why}
    if match.games:
        entry["games"] = [g.to_json() for g in match.games]
    return entry


def corrected_entry(match: Match) -> dict[str, Any]:
    """The history entry of what the latest correction replaced: the newest `corrected` one
    with a result, or with games (a series corrected while under way). An undo puts it back.
    Raises InvalidValueError (none: field undo)."""
    undoable = [e for e in match.history if e.get("why") == "corrected" and (e.get("result") or e.get("games"))]
    if not undoable:
        raise InvalidValueError("this match has no earlier result to go back to", field="undo")
    return undoable[-1]
