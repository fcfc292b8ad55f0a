"""Tests of Swiss pairings, byes and Buchholz standings."""

from __future__ import annotations

import collections
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tournament.round_robin import Result, round_robin_rounds
from tournament.swiss import (Pairing, SwissRound, pairing_costs, pairing_score, recommended_rounds,
                              swiss_pairings, swiss_standings)
from tournament.tiebreaks import POINTS, SWISS_DEFAULT

RANDOMS = st.randoms(use_true_random=False)


def ids(n: int) -> list[str]:
    """Participants p1..pn, in seed order."""
    return [f"p{i}" for i in range(1, n + 1)]


def play(pairs: tuple[tuple[str, str], ...], rng: random.Random) -> list[Result]:
    """A random result for each pair."""
    results: list[Result] = []
    for a, b in pairs:
        score_a, score_b = rng.sample(range(4), 2)
        results.append((a, b, score_a, score_b))
    return results


def perfect_pairing_exists(players: list[str], met: set[frozenset[str]]) -> bool:
    """Brute force: can everybody be paired with someone not met before?"""
    if not players:
        return True
    top, rest = players[0], players[1:]
    return any(perfect_pairing_exists([p for p in rest if p != o], met)
               for o in rest if frozenset((top, o)) not in met)


def every_pairing(players: list[str], met: set[frozenset[str]]) -> list[list[tuple[str, str]]]:
    """Brute force: every way to pair all of `players` without a rematch."""
    if not players:
        return [[]]
    top, rest = players[0], players[1:]
    return [[(top, o), *more] for o in rest if frozenset((top, o)) not in met
            for more in every_pairing([p for p in rest if p != o], met)]


def earlier_rounds(n: int, rounds: int, rng: random.Random, draws: bool) -> tuple[list[Result], list[str]]:
    """Up to `rounds` random rounds without a rematch (a random bye when n is odd), with random
    scores; they stop early when no such round is left."""
    results: list[Result] = []
    byes: list[str] = []
    for _ in range(rounds):
        met = {frozenset(r[:2]) for r in results}
        bye = rng.choice(ids(n)) if n % 2 else None
        options = every_pairing([p for p in ids(n) if p != bye], met)
        if not options:
            break
        for a, b in rng.choice(options):
            score_a, score_b = (rng.randrange(3), rng.randrange(3)) if draws else rng.sample(range(4), 2)
            results.append((a, b, score_a, score_b))
        if bye is not None:
            byes.append(bye)
    return results, byes


@pytest.mark.parametrize("n, rounds", [(2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4), (128, 7)])
def test_recommended_rounds(n: int, rounds: int) -> None:
    """ceil(log2(n)) rounds."""
    assert recommended_rounds(n) == rounds


def test_recommended_rounds_needs_two() -> None:
    """One participant is no tournament."""
    with pytest.raises(ValueError):
        recommended_rounds(1)


def test_round_one_pairs_top_half_against_bottom_half() -> None:
    """Everyone on 0 wins: 1 v 5, 2 v 6, ...; with an odd count the last seed has the bye."""
    assert swiss_pairings(ids(8), [], 1) == SwissRound(
        pairs=(("p1", "p5"), ("p2", "p6"), ("p3", "p7"), ("p4", "p8")), bye=None)
    assert swiss_pairings(ids(7), [], 1) == SwissRound(
        pairs=(("p1", "p4"), ("p2", "p5"), ("p3", "p6")), bye="p7")


def test_round_two_pairs_within_score_groups() -> None:
    """Winners meet winners and losers meet losers, without rematches."""
    results: list[Result] = [("p1", "p5", 2, 0), ("p2", "p6", 0, 2), ("p3", "p7", 2, 1),
                             ("p4", "p8", 1, 2)]
    # 1 win: p1, p3, p6, p8 (in that order by Buchholz 0 then seed); 0 wins: p2, p4, p5, p7.
    assert swiss_pairings(ids(8), results, 2).pairs == (
        ("p1", "p6"), ("p3", "p8"), ("p2", "p5"), ("p4", "p7"))


def test_pairing_avoids_a_dead_end() -> None:
    """a v d (the best free choice) would leave c and b, who have met: a v b, c v d instead."""
    results: list[Result] = [("a", "c", 1, 0), ("c", "b", 1, 0), ("d", "b", 1, 0)]
    assert [s.participant_id for s in swiss_standings(["a", "b", "c", "d"], results)] == [
        "a", "c", "d", "b"]
    assert swiss_pairings(["a", "b", "c", "d"], results, 3).pairs == (("a", "b"), ("c", "d"))


def test_the_withdrawn_keep_their_results_but_are_not_paired() -> None:
    """p5 is disqualified after round 1: its forfeit loss still counts as p1's win (p1 stays in
    the winners' group), and the seven left are paired with a bye."""
    results: list[Result] = [("p1", "p5", 1, 0), ("p2", "p6", 0, 1), ("p3", "p7", 1, 0), ("p4", "p8", 0, 1)]
    paired = swiss_pairings(ids(8), results, 2, withdrawn={"p5"})
    assert "p5" not in {p for pair in paired.pairs for p in pair} and paired.bye not in (None, "p5")
    assert paired.pairs[0] == ("p1", "p6")  # the winners' group first: p1's forfeit win counts
    assert len(paired.pairs) == 3


def test_no_pairing_without_a_rematch_is_refused() -> None:
    """After a full round robin of four, a fourth round would repeat a pairing."""
    results = [(a, b, 1, 0) for r in round_robin_rounds(ids(4)) for a, b in r]
    with pytest.raises(ValueError):
        swiss_pairings(ids(4), results, 4)


def test_bye_goes_to_the_lowest_ranked_without_a_bye() -> None:
    """p5 had the round-1 bye (a win), so round 2's bye goes to the lowest-ranked other."""
    results: list[Result] = [("p1", "p3", 1, 0), ("p2", "p4", 0, 1)]
    table = swiss_standings(ids(5), results, byes=["p5"])
    assert [(s.participant_id, s.wins, s.byes) for s in table] == [
        ("p1", 1, 0), ("p4", 1, 0), ("p5", 1, 1), ("p2", 0, 0), ("p3", 0, 0)]
    assert swiss_pairings(ids(5), results, 2, byes=["p5"]) == SwissRound(
        pairs=(("p1", "p4"), ("p5", "p2")), bye="p3")  # of p1, p4, p5 on one win, p5 floats


def test_buchholz_beats_seed() -> None:
    """On the same wins, the harder opponents (more wins between them) rank first."""
    results: list[Result] = [("a", "c", 1, 0), ("b", "d", 1, 0), ("a", "b", 1, 0), ("d", "c", 1, 0)]
    table = swiss_standings(["a", "d", "b", "c"], results)
    assert [(s.participant_id, s.wins, s.buchholz) for s in table] == [
        ("a", 2, 1), ("b", 1, 3), ("d", 1, 1), ("c", 0, 3)]


def test_seed_breaks_equal_wins_and_buchholz() -> None:
    """Same wins and Buchholz: the lower seed number goes first."""
    results: list[Result] = [("a", "c", 1, 0), ("b", "d", 1, 0)]
    table = swiss_standings(["b", "a", "d", "c"], results)
    assert [s.participant_id for s in table] == ["b", "a", "d", "c"]
    assert [s.rank for s in table] == [1, 2, 3, 4]


def test_a_bye_is_a_win_without_an_opponent() -> None:
    """The bye counts in wins (and so in opponents' Buchholz) but not in played matches."""
    results: list[Result] = [("p1", "p2", 1, 0)]
    table = {s.participant_id: s for s in swiss_standings(ids(3), results, byes=["p3"])}
    assert (table["p3"].wins, table["p3"].played, table["p3"].losses, table["p3"].buchholz) == (1, 0, 0, 0)
    assert (table["p2"].buchholz, table["p1"].buchholz) == (1, 0)


@pytest.mark.parametrize("round_number, byes", [(0, []), (1, ["p1"]), (2, ["p1", "p1"]), (2, ["zed"])])
def test_pairings_refuse_an_inconsistent_round(round_number: int, byes: list[str]) -> None:
    """Round numbers start at 1, nobody may have played that many rounds, byes name participants."""
    with pytest.raises(ValueError):
        swiss_pairings(ids(3), [], round_number, byes=byes)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=2, max_value=64), rng=RANDOMS)
def test_recommended_rounds_never_repeat_a_pairing(n: int, rng: random.Random) -> None:
    """Over recommended_rounds(n) rounds of random results: no rematch, everyone plays once a
    round or has the bye, which goes to the lowest-ranked player without a bye yet."""
    results: list[Result] = []
    byes: list[str] = []
    for number in range(1, recommended_rounds(n) + 1):
        table = swiss_standings(ids(n), results, byes)
        this = swiss_pairings(ids(n), results, number, byes)
        seen = [p for pair in this.pairs for p in pair] + ([this.bye] if this.bye else [])
        assert sorted(seen) == sorted(ids(n)) and (this.bye is None) == (n % 2 == 0)
        if this.bye is not None:
            without_bye = [s.participant_id for s in table if s.participant_id not in byes]
            assert this.bye == without_bye[-1]
            byes.append(this.bye)
        results.extend(play(this.pairs, rng))
    meetings = collections.Counter(frozenset(r[:2]) for r in results)
    assert set(meetings.values()) == {1}


@settings(max_examples=150, deadline=None)
@given(n=st.integers(min_value=2, max_value=8), data=st.data())
def test_pairing_found_whenever_one_exists(n: int, data: st.DataObject) -> None:
    """Against brute force on small fields with arbitrary earlier meetings: a pairing without a
    rematch comes back exactly when one exists, bye included."""
    everyone = list(itertools.combinations(ids(n), 2))
    met_pairs = data.draw(st.lists(st.sampled_from(everyone), unique=True, max_size=len(everyone)))
    results: list[Result] = [(a, b, 1, 0) if data.draw(st.booleans()) else (a, b, 0, 1)
                             for a, b in met_pairs]
    met = {frozenset(p) for p in met_pairs}
    exists = any(perfect_pairing_exists([p for p in ids(n) if p != bye], met)
                 for bye in ids(n)) if n % 2 else perfect_pairing_exists(ids(n), met)
    if not exists:
        with pytest.raises(ValueError):
            swiss_pairings(ids(n), results, len(results) + 1)
        return
    this = swiss_pairings(ids(n), results, len(results) + 1)
    assert not {frozenset(p) for p in this.pairs} & met
    assert sorted([p for pair in this.pairs for p in pair] + ([this.bye] if this.bye else [])) == ids(n)


def test_no_float_when_the_score_groups_can_pair_inside() -> None:
    """Round 4 of 12 (a case the search that only backtracked on dead ends got wrong): p4 v p5
    left p8 and p2, who have met, so both floated; the matching pairs the group inside, the
    top half against the bottom half as far as the meetings allow (p4 v p2, p8 v p5)."""
    results: list[Result] = [
        ("p1", "p7", 0, 1), ("p2", "p8", 0, 1), ("p3", "p9", 0, 1), ("p4", "p10", 1, 0), ("p5", "p11", 0, 1),
        ("p6", "p12", 0, 1), ("p4", "p9", 0, 1), ("p7", "p11", 1, 0), ("p8", "p12", 0, 1), ("p1", "p5", 1, 0),
        ("p2", "p6", 1, 0), ("p3", "p10", 0, 1), ("p7", "p9", 1, 0), ("p12", "p4", 1, 0), ("p8", "p11", 0, 1),
        ("p1", "p2", 1, 0), ("p10", "p6", 1, 0), ("p3", "p5", 0, 1)]
    table = swiss_standings(ids(12), results)
    assert [(s.participant_id, s.wins) for s in table][6:10] == [("p4", 1), ("p8", 1), ("p5", 1), ("p2", 1)]
    assert swiss_pairings(ids(12), results, 4).pairs == (
        ("p7", "p12"), ("p1", "p9"), ("p11", "p10"), ("p4", "p2"), ("p8", "p5"), ("p6", "p3"))


def test_groups_by_points_when_points_come_first() -> None:
    """With points first, a draw is half a win: the two on 1.5 meet, then the two on 1."""
    results: list[Result] = [("p1", "p2", 1, 1), ("p3", "p4", 2, 0), ("p1", "p3", 1, 0), ("p2", "p4", 0, 2)]
    criteria = (POINTS, "buchholz", "seed")
    table = swiss_standings(ids(4), results, criteria=criteria)
    assert [(s.participant_id, s.points) for s in table] == [("p1", 1.5), ("p3", 1), ("p4", 1), ("p2", 0.5)]
    assert pairing_score(criteria) == POINTS and pairing_score(SWISS_DEFAULT) == "wins"
    assert swiss_pairings(ids(4), results, 3, criteria=criteria).pairs == (("p1", "p4"), ("p3", "p2"))


def matching_cost(pairs: list[Pairing], costs: dict[Pairing, int], ranked: list[str]) -> int:
    """The total cost of a round, each pair put the way `pairing_costs` names it."""
    position = {p: i for i, p in enumerate(ranked)}
    return sum(costs[(a, b) if b is None or position[a] < position[b] else (b, a)] for a, b in pairs)


@settings(max_examples=400, deadline=None)
@given(n=st.integers(min_value=2, max_value=10), draws=st.booleans(), data=st.data())
def test_pairing_is_the_cheapest_by_brute_force(n: int, draws: bool, data: st.DataObject) -> None:
    """Against brute force over every rematch-free round of a small field after random earlier
    rounds: the round costs the least there is; the bye goes to the first player (fewest
    byes, lowest ranked) that leaves a pairing possible; the squared score gaps add up to the
    least possible with that bye; and nobody floats when the score groups can pair inside."""
    rng = data.draw(RANDOMS)
    results, byes = earlier_rounds(n, data.draw(st.integers(0, n - 1)), rng, draws)
    criteria = (POINTS, "buchholz", "seed") if draws else SWISS_DEFAULT
    table = swiss_standings(ids(n), results, byes, criteria=criteria)
    scores = {s.participant_id: float(s.points if draws else s.wins) for s in table}
    ranked = sorted((s.participant_id for s in table), key=lambda p: -scores[p])
    met = {frozenset(r[:2]) for r in results}
    bye_count = collections.Counter(byes)
    candidates = sorted(reversed(ranked), key=lambda p: bye_count[p]) if n % 2 else [None]
    feasible = [c for c in candidates if perfect_pairing_exists([p for p in ranked if p != c], met)]
    number = max(s.played + s.byes for s in table) + 1
    if not feasible:
        with pytest.raises(ValueError):
            swiss_pairings(ids(n), results, number, byes, criteria=criteria)
        return
    this = swiss_pairings(ids(n), results, number, byes, criteria=criteria)
    assert this.bye == feasible[0]
    pool = [p for p in ranked if p != this.bye]
    costs = pairing_costs(ranked, scores, met, bye_count)
    bye: list[Pairing] = [(this.bye, None)] if this.bye else []
    rounds = [[*bye, *pairs] for pairs in every_pairing(pool, met)]
    assert matching_cost([*bye, *this.pairs], costs, ranked) == min(matching_cost(r, costs, ranked) for r in rounds)

    def floats(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> float:
        return sum((2 * (scores[a] - scores[b])) ** 2 for a, b in pairs)

    assert floats(this.pairs) == min(floats(pairs) for pairs in every_pairing(pool, met))
    groups: dict[float, list[str]] = {}
    for p in pool:
        groups.setdefault(scores[p], []).append(p)
    if all(perfect_pairing_exists(g, met) for g in groups.values()):
        assert all(scores[a] == scores[b] for a, b in this.pairs)


def test_32_players_never_float_when_they_could_pair_inside() -> None:
    """32 players, 5 rounds, 40 random tournaments: every round whose score groups can pair
    inside without a rematch is paired inside (the search it replaces floated in 8.5% of
    such rounds)."""
    for tournament in range(40):
        rng = random.Random(tournament)
        results: list[Result] = []
        for number in range(1, 6):
            wins = {s.participant_id: s.wins for s in swiss_standings(ids(32), results)}
            this = swiss_pairings(ids(32), results, number)
            met = {frozenset(r[:2]) for r in results}
            groups: dict[int, list[str]] = {}
            for p in ids(32):
                groups.setdefault(wins[p], []).append(p)
            if all(len(g) % 2 == 0 and perfect_pairing_exists(g, met) for g in groups.values()):
                assert all(wins[a] == wins[b] for a, b in this.pairs), (tournament, number)
            results.extend(play(this.pairs, rng))
