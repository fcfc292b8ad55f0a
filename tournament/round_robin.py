"""Round robin: the circle-method schedule, and standings with their tiebreaks."""

from __future__ import annotations

from collections.abc import Sequence

from tournament.tiebreaks import (DEFAULT_POINTS, ROUND_ROBIN_DEFAULT, Points, Result, Standing, check_results,
                                  rank_table)

__all__ = ["MAX_PARTICIPANTS", "Result", "Standing", "check_participants", "check_results",
           "round_robin_rounds", "standings"]

MAX_PARTICIPANTS = 256  # n(n-1)/2 matches: 32,640 at 256


def check_participants(participant_ids: Sequence[str]) -> None:
    """Raises ValueError for fewer than 2 participants or a duplicate id."""
    if len(participant_ids) < 2:
        raise ValueError("a schedule needs at least 2 participants")
    if len(set(participant_ids)) != len(participant_ids):
        raise ValueError("participant ids must be unique")


def round_robin_rounds(participant_ids: Sequence[str]) -> list[list[tuple[str, str]]]:
    """Every pair exactly once, by the circle method: n-1 rounds for even n, n for odd n.

    The first participant stays put while the others turn around it one place a round;
    with an odd count a phantom joins and whoever meets it sits the round out.
    Raises ValueError for fewer than 2 participants or a duplicate id.
    """
    check_participants(participant_ids)
    ring: list[str | None] = list(participant_ids)
    if len(ring) % 2:
        ring.append(None)
    n = len(ring)
    rounds = []
    for r in range(n - 1):
        pairs = []
        for i in range(n // 2):
            a, b = ring[i], ring[n - 1 - i]
            if a is None or b is None:
                continue
            pairs.append((b, a) if i == 0 and r % 2 else (a, b))  # the fixed one swaps sides
        rounds.append(pairs)
        ring = [ring[0], ring[-1], *ring[1:-1]]
    return rounds


def standings(participant_ids_in_seed_order: Sequence[str], results: Sequence[Result], *,
              criteria: Sequence[str] = ROUND_ROBIN_DEFAULT, points: Points = DEFAULT_POINTS) -> list[Standing]:
    """The table, best first, by `criteria` (`tiebreaks.CRITERIA`) in order, then seed. The
    default: wins, then head to head among those on as many wins (again among any it leaves
    tied), then score difference, then seed (lower seed number first).

    Raises ValueError for a duplicate id, a result that `check_results` refuses, or
    criteria or points that `tiebreaks.check_criteria` and `tiebreaks.check_points` refuse.
    """
    return rank_table(participant_ids_in_seed_order, results, criteria=criteria, points=points)
