"""Swiss system: pairing by record without rematches, the bye, and Buchholz standings."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping, Sequence

from tournament.round_robin import Result, check_participants, check_results


@dataclasses.dataclass(frozen=True)
class SwissRound:
    """The pairings of one round; with an odd count, `bye` sits out and scores a win."""

    pairs: tuple[tuple[str, str], ...]
    bye: str | None


@dataclasses.dataclass(frozen=True)
class SwissStanding:
    participant_id: str
    played: int  # matches, byes not counted
    wins: int  # byes counted
    losses: int
    byes: int
    buchholz: int  # sum of the wins of every opponent met (once per meeting)
    rank: int  # 1-based, unique: the seed breaks the last ties


def recommended_rounds(n: int) -> int:
    """ceil(log2(n)) rounds: enough for one undefeated participant. Raises ValueError below 2."""
    if n < 2:
        raise ValueError("a Swiss tournament needs at least 2 participants")
    return (n - 1).bit_length()


def swiss_standings(participant_ids_in_seed_order: Sequence[str], results: Sequence[Result],
                    byes: Sequence[str] = ()) -> list[SwissStanding]:
    """The table, best first: by wins, then Buchholz, then seed (lower seed number first).

    `byes` names who had a bye, once per bye; a bye counts as a win without an opponent.
    Raises ValueError for fewer than 2 participants, a duplicate id, a bye of a stranger
    or a result that `round_robin.check_results` refuses.
    """
    ids = participant_ids_in_seed_order
    check_participants(ids)
    check_results(ids, results)
    strangers = set(byes) - set(ids)
    if strangers:
        raise ValueError(f"a bye names someone who is not a participant: {', '.join(sorted(strangers))}")
    bye_count = collections.Counter(byes)
    wins = {pid: bye_count[pid] for pid in ids}
    opponents: dict[str, list[str]] = {pid: [] for pid in ids}
    for a, b, score_a, score_b in results:
        wins[a if score_a > score_b else b] += 1
        opponents[a].append(b)
        opponents[b].append(a)
    buchholz = {pid: sum(wins[o] for o in opponents[pid]) for pid in ids}
    seed = {pid: i for i, pid in enumerate(ids)}
    order = sorted(ids, key=lambda p: (-wins[p], -buchholz[p], seed[p]))
    return [SwissStanding(participant_id=p, played=len(opponents[p]), wins=wins[p],
                          losses=len(opponents[p]) + bye_count[p] - wins[p], byes=bye_count[p],
                          buchholz=buchholz[p], rank=i)
            for i, p in enumerate(order, start=1)]


def swiss_pairings(participant_ids_in_seed_order: Sequence[str], results: Sequence[Result],
                   round_number: int, byes: Sequence[str] = ()) -> SwissRound:
    """The pairs of round `round_number` (1-based), given every earlier result and bye.

    Players are taken top down in `swiss_standings` order; each meets, among those on
    the same number of wins, the one half that group below (1 v 5, 2 v 6, ... in round
    one), else the nearest one on fewer wins, and never anyone met before, backtracking
    as far as needed. With an odd count the bye goes to the lowest-ranked player with
    the fewest byes (no bye yet, until everyone had one) that leaves a pairing possible.
    Raises ValueError when no pairing without a rematch exists, when `round_number` is
    below 1 or someone already played `round_number` rounds, and whatever
    `swiss_standings` raises.
    """
    table = swiss_standings(participant_ids_in_seed_order, results, byes)
    if round_number < 1:
        raise ValueError("rounds are numbered from 1")
    for s in table:
        if s.played + s.byes >= round_number:
            raise ValueError(f"{s.participant_id} has already played {s.played + s.byes} rounds "
                             f"before round {round_number}")
    ranked = [s.participant_id for s in table]
    wins = {s.participant_id: s.wins for s in table}
    met = {frozenset((a, b)) for a, b, _, _ in results}
    if len(ranked) % 2 == 0:
        pairs = _pair(ranked, wins, met)
        if pairs is None:
            raise ValueError(f"no pairing for round {round_number} avoids a rematch")
        return SwissRound(pairs=pairs, bye=None)
    bye_count = {s.participant_id: s.byes for s in table}
    for bye in sorted(reversed(ranked), key=lambda p: bye_count[p]):  # stable: lowest rank first
        pairs = _pair([p for p in ranked if p != bye], wins, met)
        if pairs is not None:
            return SwissRound(pairs=pairs, bye=bye)
    raise ValueError(f"no pairing for round {round_number} avoids a rematch, whoever has the bye")


def _preferred(top: str, others: Sequence[str], wins: Mapping[str, int]) -> list[str]:
    """The opponents of `top` (the best ranked left) from the most wanted: its own score
    group from half-way down, then up, then those on fewer wins in ranking order."""
    group = [p for p in others if wins[p] == wins[top]]
    lower = [p for p in others if wins[p] != wins[top]]
    half = (len(group) + 1) // 2 - 1 if group else 0  # group + top: top meets the one `half` below
    return group[half:] + group[:half][::-1] + lower


def _pair(ranked: Sequence[str], wins: Mapping[str, int],
          met: set[frozenset[str]]) -> tuple[tuple[str, str], ...] | None:
    """Everybody in `ranked` paired without a rematch, or None when that is impossible."""
    dead_ends: set[frozenset[str]] = set()

    def search(rest: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
        if not rest:
            return ()
        if frozenset(rest) in dead_ends:
            return None
        top, others = rest[0], rest[1:]
        for opponent in _preferred(top, others, wins):
            if frozenset((top, opponent)) not in met:
                found = search(tuple(p for p in others if p != opponent))
                if found is not None:
                    return ((top, opponent), *found)
        dead_ends.add(frozenset(rest))
        return None

    return search(tuple(ranked))
