"""Swiss system: each round a minimum-cost pairing without rematches, the bye, and the table."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

import networkx as nx

from tournament.round_robin import check_participants
from tournament.tiebreaks import (DEFAULT_POINTS, POINTS, SWISS_DEFAULT, WINS, Points, Result, Standing,
                                  check_criteria, rank_table)

Pairing = tuple[str, str | None]  # (the better ranked, the other); (p, None) is p's bye


@dataclasses.dataclass(frozen=True)
class SwissRound:
    """The pairings of one round; with an odd count, `bye` sits out and scores a win."""

    pairs: tuple[tuple[str, str], ...]
    bye: str | None


def recommended_rounds(n: int) -> int:
    """ceil(log2(n)) rounds: enough for one undefeated participant. Raises ValueError below 2."""
    if n < 2:
        raise ValueError("a Swiss tournament needs at least 2 participants")
    return (n - 1).bit_length()


def swiss_standings(participant_ids_in_seed_order: Sequence[str], results: Sequence[Result],
                    byes: Sequence[str] = (), *, criteria: Sequence[str] = SWISS_DEFAULT,
                    points: Points = DEFAULT_POINTS) -> list[Standing]:
    """The table, best first, by `criteria` (`tiebreaks.CRITERIA`) in order, then seed. The
    default: wins (byes included), then Buchholz, then seed (lower seed number first).

    `byes` names who had a bye, once per bye; a bye counts as a win without an opponent.
    Raises ValueError for fewer than 2 participants, a duplicate id, a bye of a stranger
    and whatever `tiebreaks.rank_table` refuses.
    """
    check_participants(participant_ids_in_seed_order)
    return rank_table(participant_ids_in_seed_order, results, byes, criteria=criteria, points=points)


def pairing_score(criteria: Sequence[str]) -> str:
    """What makes a score group: the first criterion if it is wins or points, else points."""
    return WINS if check_criteria(criteria)[0] == WINS else POINTS


def swiss_pairings(participant_ids_in_seed_order: Sequence[str], results: Sequence[Result],
                   round_number: int, byes: Sequence[str] = (), *, criteria: Sequence[str] = SWISS_DEFAULT,
                   points: Points = DEFAULT_POINTS, withdrawn: Collection[str] = ()) -> SwissRound:
    """The pairs of round `round_number` (1-based), given every earlier result and bye.
    The `withdrawn` (disqualified) keep their results, which count for their opponents, but
    are not paired any more.

    Players are ranked by score (`pairing_score`), then in `swiss_standings` order. The
    round is the cheapest perfect matching by `pairing_costs`: no rematch; with an odd
    count the bye to the lowest-ranked player with the fewest byes that leaves a pairing
    possible; then the fewest floats (squared score gaps); then who floats (the lowest of
    a group against the highest of the next); then top half v bottom half within each
    group (1 v 5, 2 v 6, ... in round one). Raises ValueError when no pairing without a
    rematch exists, when `round_number` is below 1 or someone already played
    `round_number` rounds, and whatever `swiss_standings` raises.
    """
    table = swiss_standings(participant_ids_in_seed_order, results, byes, criteria=criteria, points=points)
    if round_number < 1:
        raise ValueError("rounds are numbered from 1")
    table = [s for s in table if s.participant_id not in withdrawn]
    for s in table:
        if s.played + s.byes >= round_number:
            raise ValueError(f"{s.participant_id} has already played {s.played + s.byes} rounds "
                             f"before round {round_number}")
    key = pairing_score(criteria)
    scores = {s.participant_id: float(s.wins if key == WINS else s.points) for s in table}
    ranked = sorted((s.participant_id for s in table), key=lambda p: -scores[p])  # stable: table order
    met = {frozenset((a, b)) for a, b, _, _ in results}
    costs = pairing_costs(ranked, scores, met, {s.participant_id: s.byes for s in table})
    chosen = _cheapest_perfect_matching(costs, len(ranked))
    if chosen is None:
        raise ValueError(f"no pairing for round {round_number} avoids a rematch"
                         + (", whoever has the bye" if len(ranked) % 2 else ""))
    position = {p: i for i, p in enumerate(ranked)}
    pairs = sorted(((a, b) for a, b in chosen if b is not None), key=lambda pair: position[pair[0]])
    bye = next((a for a, b in chosen if b is None), None)
    return SwissRound(pairs=tuple(pairs), bye=bye)


def pairing_costs(ranked: Sequence[str], scores: Mapping[str, float], met: set[frozenset[str]],
                  byes: Mapping[str, int]) -> dict[Pairing, int]:
    """The cost of every pairing allowed in the next round, `ranked` best first by score.

    A pair that met before is left out. Each pairing has a value in five tiers, and each
    tier weighs more than the most that the tiers below can add up to over one round, so
    that of two rounds the cheaper is the better in the first tier where they differ:

    1. the bye (odd count only): 0 for the first of the players ranked by fewest byes, then
       lowest rank first; 1 for the second, and so on;
    2. the float: the square of the score gap in half points (0 within a score group);
    3. who floats, for a pair across groups: how far the upper player is from the bottom of
       its group plus how far the lower one is from the top of its own;
    4. within a group, a pair on the same side: both in the top half or both in the bottom
       half of the group (1 if so);
    5. within a group, the square of how far the pair's distance is from half the group
       (1 v 5, 2 v 6, ... in a group of eight cost 0).

    The halves of a group are taken from what is left of it after the floats its size
    makes necessary: one player comes in (and meets its first) when the players above are
    odd in number, and its last goes out when those above and the group together are.
    """
    position: dict[str, tuple[int, int]] = {}  # player -> (group, place in the group)
    groups: list[list[str]] = []
    for p in ranked:
        if not groups or scores[groups[-1][0]] != scores[p]:
            groups.append([])
        position[p] = (len(groups) - 1, len(groups[-1]))
        groups[-1].append(p)
    first, half, above = [], [], 0  # per group: the first place of what is paired inside, and half of it
    for group in groups:
        coming_in, going_out = above % 2, (above + len(group)) % 2
        first.append(coming_in)
        half.append((len(group) - coming_in - going_out) // 2)
        above += len(group)

    tiers: dict[Pairing, tuple[int, int, int, int, int]] = {}
    for i, a in enumerate(ranked):
        ga, pa = position[a]
        for b in ranked[i + 1:]:
            if frozenset((a, b)) in met:
                continue
            gb, pb = position[b]
            if ga == gb:
                top, bottom, h = pa - first[ga], pb - first[ga], half[ga]
                tiers[a, b] = (0, 0, 0, int(not top < h <= bottom), (bottom - top - h) ** 2)
            else:
                gap = round(2 * abs(scores[a] - scores[b]))
                tiers[a, b] = (0, gap * gap, len(groups[ga]) - 1 - pa + pb, 0, 0)
    if len(ranked) % 2:
        candidates = sorted(reversed(ranked), key=lambda p: byes.get(p, 0))  # stable: lowest rank first
        tiers.update(((p, None), (i, 0, 0, 0, 0)) for i, p in enumerate(candidates))
    pairs_a_round = (len(ranked) + 1) // 2
    costs = dict.fromkeys(tiers, 0)
    for tier in reversed(range(5)):  # the weight of a tier: above all the lower tiers of a round
        weight = 1 + pairs_a_round * max(costs.values(), default=0)
        for pair, values in tiers.items():
            costs[pair] += weight * values[tier]
    return costs


def _cheapest_perfect_matching(costs: Mapping[Pairing, int], n: int) -> list[Pairing] | None:
    """The perfect matching of least total cost over the pairings in `costs`, or None when
    there is none. networkx's blossom algorithm finds a maximum-weight matching among those
    of most pairs: weights `top - cost` turn that into the cheapest one, and integers keep
    it exact (no rounding)."""
    bye = ("bye",)  # a node no participant id can be
    top = 1 + max(costs.values(), default=0)
    graph = nx.Graph()
    graph.add_weighted_edges_from((a, bye if b is None else b, top - cost) for (a, b), cost in costs.items())
    nodes = n + n % 2
    if graph.number_of_nodes() < nodes:
        return None  # someone has met everybody
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    if 2 * len(matching) != nodes:
        return None
    chosen: list[Pairing] = []
    for u, v in matching:
        if u == bye or (v != bye and (u, v) not in costs):
            u, v = v, u
        chosen.append((u, None if v == bye else v))
    return chosen
