"""Round robin: the circle-method schedule, and standings with their tiebreaks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

Result = tuple[str, str, int, int]  # (a, b, score_a, score_b) of a completed match, never a tie
MAX_PARTICIPANTS = 256  # n(n-1)/2 matches: 32,640 at 256


@dataclasses.dataclass(frozen=True)
class Standing:
    participant_id: str
    played: int
    wins: int
    losses: int
    score_for: int
    score_against: int
    rank: int  # 1-based, unique: the seed breaks the last ties

    @property
    def score_difference(self) -> int:
        return self.score_for - self.score_against


def check_participants(participant_ids: Sequence[str]) -> None:
    """Raises ValueError for fewer than 2 participants or a duplicate id."""
    if len(participant_ids) < 2:
        raise ValueError("a schedule needs at least 2 participants")
    if len(set(participant_ids)) != len(participant_ids):
        raise ValueError("participant ids must be unique")


def check_results(participant_ids: Sequence[str], results: Sequence[Result]) -> None:
    """Raises ValueError for a result naming a stranger or the same player twice, a tie or a
    negative score."""
    known = set(participant_ids)
    for a, b, score_a, score_b in results:
        if a not in known or b not in known:
            raise ValueError(f"result of {a} vs {b} names someone who is not a participant")
        if a == b:
            raise ValueError(f"{a} cannot play against themselves")
        if score_a == score_b:
            raise ValueError(f"the result of {a} vs {b} is a tie")
        if score_a < 0 or score_b < 0:
            raise ValueError(f"the result of {a} vs {b} has a negative score")


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


def standings(participant_ids_in_seed_order: Sequence[str], results: Sequence[Result]) -> list[Standing]:
    """The table, best first: by wins, then wins against the others on as many wins
    (head to head), then score difference, then seed (lower seed number first).

    Raises ValueError for a duplicate id or a result that `check_results` refuses.
    """
    ids = participant_ids_in_seed_order
    if len(set(ids)) != len(ids):
        raise ValueError("participant ids must be unique")
    check_results(ids, results)
    played = dict.fromkeys(ids, 0)
    wins = dict.fromkeys(ids, 0)
    score_for = dict.fromkeys(ids, 0)
    score_against = dict.fromkeys(ids, 0)
    for a, b, score_a, score_b in results:
        played[a] += 1
        played[b] += 1
        wins[a if score_a > score_b else b] += 1
        score_for[a] += score_a
        score_against[a] += score_b
        score_for[b] += score_b
        score_against[b] += score_a
    head_to_head = dict.fromkeys(ids, 0)
    for a, b, score_a, score_b in results:
        if wins[a] == wins[b]:
            head_to_head[a if score_a > score_b else b] += 1
    seed = {pid: i for i, pid in enumerate(ids)}
    order = sorted(ids, key=lambda p: (-wins[p], -head_to_head[p],
                                       score_against[p] - score_for[p], seed[p]))
    return [Standing(participant_id=p, played=played[p], wins=wins[p], losses=played[p] - wins[p],
                     score_for=score_for[p], score_against=score_against[p], rank=i)
            for i, p in enumerate(order, start=1)]
