"""Who finished where, once every match of a tournament is decided."""

from __future__ import annotations

from typing import Any

from tournament import round_robin, swiss
from tournament.models import Match, MatchState, Tournament


def decided(match: Match) -> bool:
    return match.state in (MatchState.COMPLETED, MatchState.FORFEIT) or (
        match.state is MatchState.CANCELLED and match.slot is not None and match.slot.walkover)


def results_of(matches: list[Match]) -> tuple[list[round_robin.Result], list[str]]:
    """(a, b, score_a, score_b) of every match played to a result, and who had byes."""
    results: list[round_robin.Result] = []
    byes: list[str] = []
    for m in matches:
        if not decided(m) or m.winner_id is None:
            continue
        a, b = m.participant_ids
        if m.slot and m.slot.walkover:
            byes.append(m.winner_id)
        elif a and b:
            sa, sb = m.scores.get(a, 0), m.scores.get(b, 0)
            if m.state is MatchState.FORFEIT or sa == sb:  # a forfeit counts as 1-0
                sa, sb = (1, 0) if m.winner_id == a else (0, 1)
            results.append((a, b, sa, sb))
    return results, byes


def placements(tournament: Tournament, matches: list[Match]) -> list[dict[str, Any]]:
    """`{"place": n, "participant_id": id}` best first; tied places repeat their number."""
    order = list(tournament.seed_order)
    if tournament.format in ("round_robin", "swiss"):
        results, byes = results_of(matches)
        table = (round_robin.standings(order, results) if tournament.format == "round_robin"
                 else swiss.swiss_standings(order, results, byes))
        return [{"place": row.rank, "participant_id": row.participant_id} for row in table]
    by_key = {m.slot.key: m for m in matches if m.slot}
    if tournament.format == "double_elimination":
        return _double(by_key)
    return _single(by_key)


def _pair(match: Match | None, first: int) -> list[dict[str, Any]]:
    if match is None or match.winner_id is None:
        return []
    places = [{"place": first, "participant_id": match.winner_id}]
    loser = match.opponent_of(match.winner_id)
    if loser:
        places.append({"place": first + 1, "participant_id": loser})
    return places


def _single(by_key: dict[str, Match]) -> list[dict[str, Any]]:
    final = next((m for m in by_key.values() if m.slot and m.slot.bracket == "winners"
                  and m.slot.winner_to is None), None)
    places = _pair(final, 1)
    third = by_key.get("3P")
    if third is not None and third.state in (MatchState.COMPLETED, MatchState.FORFEIT):
        return places + _pair(third, 3)
    if final is not None and final.slot is not None:
        semis = [m for m in by_key.values() if m.slot and m.slot.winner_to and m.slot.winner_to[0] == final.slot.key]
        for semi in semis:
            loser = semi.opponent_of(semi.winner_id) if semi.winner_id else None
            if loser:
                places.append({"place": 3, "participant_id": loser})
    return places


def _double(by_key: dict[str, Match]) -> list[dict[str, Any]]:
    reset = by_key.get("GF2")
    played_reset = reset is not None and reset.slot is not None and not reset.slot.walkover
    places = _pair(reset if played_reset else by_key.get("GF1"), 1)
    losers_final = next((m for m in by_key.values() if m.slot and m.slot.bracket == "losers"
                         and m.slot.winner_to and m.slot.winner_to[0] == "GF1"), None)
    if losers_final is not None and losers_final.winner_id:
        loser = losers_final.opponent_of(losers_final.winner_id)
        if loser:
            places.append({"place": 3, "participant_id": loser})
    return places
