"""Who finished where, once every match of a tournament is decided."""

from __future__ import annotations

from typing import Any

from tournament import round_robin, stages, swiss, tiebreaks
from tournament.models import Match, MatchState, Tournament


def decided(match: Match) -> bool:
    return match.state in (MatchState.COMPLETED, MatchState.FORFEIT) or (
        match.state is MatchState.CANCELLED and match.slot is not None and match.slot.walkover)


def results_of(matches: list[Match]) -> tuple[list[round_robin.Result], list[str]]:
    """(a, b, score_a, score_b) of every match played to a result, and who had byes."""
    results: list[round_robin.Result] = []
    byes: list[str] = []
    for m in matches:
        a, b = m.participant_ids
        drawn = m.state is MatchState.COMPLETED and m.winner_id is None and a and b  # a series played level
        if not decided(m) or (m.winner_id is None and not drawn):
            continue
        if m.slot and m.slot.walkover and m.winner_id:
            byes.append(m.winner_id)
        elif a and b:
            sa, sb = m.scores.get(a, 0), m.scores.get(b, 0)
            if not drawn and (m.state is MatchState.FORFEIT or sa == sb):  # a forfeit counts as 1-0
                sa, sb = (1, 0) if m.winner_id == a else (0, 1)
            results.append((a, b, sa, sb))
    return results, byes


def placements(tournament: Tournament, matches: list[Match]) -> list[dict[str, Any]]:
    """`{"place": n, "participant_id": id}` best first; tied places repeat their number."""
    order = list(tournament.seed_order)
    if tournament.format == stages.FORMAT:  # the playoff's places, then the groups' others
        settings = tournament.settings
        playoff = [m for m in matches if m.slot and not m.slot.group]
        places = elimination_places(list(settings["playoff_order"]), playoff)
        return places + stages.non_qualified_places(group_tables(tournament, matches), settings["groups"]["advance"],
                                                    len(places) + 1)
    if tournament.format in ("round_robin", "swiss"):
        results, byes = results_of(matches)
        criteria, points = tiebreaks.rules_from_settings(tournament.format, tournament.settings)
        table = (round_robin.standings(order, results, criteria=criteria, points=points)
                 if tournament.format == "round_robin"
                 else swiss.swiss_standings(order, results, byes, criteria=criteria, points=points))
        return [{"place": row.rank, "participant_id": row.participant_id} for row in table]
    return elimination_places(order, [m for m in matches if m.slot])


def group_tables(tournament: Tournament, matches: list[Match]) -> dict[str, list[tiebreaks.Standing]]:
    """A group stage's tables from its group matches, ranked by the tournament's tiebreaks."""
    results, byes = results_of([m for m in matches if m.slot and m.slot.group])
    criteria, points = tiebreaks.rules_from_settings(stages.FORMAT, tournament.settings)
    return stages.tables(tournament.settings["group_members"], results, criteria=criteria, points=points,
                         fmt=tournament.settings["groups"]["format"], byes=byes)


def elimination_places(seed_order: list[str], matches: list[Match]) -> list[dict[str, Any]]:
    """Every participant of an elimination bracket placed by the stage they went out in,
    best first, ties in seed order: a stage's losers share the place after everyone still in
    (single elimination of 8: 1, 2, 3, 3, 5, 5, 5, 5; double elimination of 8: 1, 2, 3, 4,
    5, 5, 7, 7), as start.gg and brackets-manager place them.

    A participant goes out with a loss that sends them nowhere (`loser_to` is None): in
    double elimination only losses in the losers bracket and the grand final do. The
    third-place match places both its players (3 and 4); a grand final whose reset was not
    needed puts its loser out.
    """
    seed = {pid: i for i, pid in enumerate(seed_order)}
    final_round = max((m.round or 0 for m in matches if m.slot and m.slot.bracket == "winners"), default=0)
    out: dict[tuple[int, float], list[str]] = {}  # stage -> who went out there
    champion: str | None = None
    for match in matches:
        slot = match.slot
        if slot is None or slot.walkover or not decided(match) or match.winner_id is None:
            continue
        loser = match.opponent_of(match.winner_id)
        stage = (_STAGE_ORDER.get(slot.bracket, 0), float(match.round or 0))
        if slot.bracket == "third_place":  # after the semifinals, before the final: 4th, then 3rd
            out.setdefault((1, final_round - 0.5), []).extend([loser] if loser else [])
            out.setdefault((1, final_round - 0.25), []).append(match.winner_id)
            continue
        ends_reset = slot.key == "GF1" and match.winner_id == match.participant_ids[0]
        if loser and (slot.loser_to is None or ends_reset):
            out.setdefault(stage, []).append(loser)
        if slot.winner_to is None or ends_reset:
            champion = match.winner_id
    places: list[dict[str, Any]] = []
    remaining = len(seed_order)
    for stage in sorted(out):
        remaining -= len(out[stage])
        places += [{"place": remaining + 1, "participant_id": pid}
                   for pid in sorted(out[stage], key=lambda p: seed.get(p, len(seed)))]
    if champion is not None:
        places.append({"place": 1, "participant_id": champion})
    return sorted(places, key=lambda p: p["place"])


# Where each bracket's eliminations fall among the others, by round within it: the grand final
# last. (Single elimination puts out only in the winners bracket, double only in the losers.)
_STAGE_ORDER = {"winners": 1, "losers": 1, "grand_final": 2}
