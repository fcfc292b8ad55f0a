"""Tests of the round-robin schedule and standings."""

from __future__ import annotations

import collections
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tournament.round_robin import Result, round_robin_rounds, standings

SIZES = st.integers(min_value=2, max_value=128)


def ids(n: int) -> list[str]:
    """Participants p1..pn, in seed order."""
    return [f"p{i}" for i in range(1, n + 1)]


@settings(max_examples=60, deadline=None)
@given(n=SIZES)
def test_every_pair_plays_exactly_once(n: int) -> None:
    """n-1 rounds (n when odd) of n//2 pairs; every pair once, nobody twice in a round, and with
    an odd count everybody sits out exactly once."""
    rounds = round_robin_rounds(ids(n))
    assert len(rounds) == (n - 1 if n % 2 == 0 else n)
    pairs = collections.Counter(frozenset(p) for r in rounds for p in r)
    assert set(pairs) == {frozenset(p) for p in itertools.combinations(ids(n), 2)}
    assert set(pairs.values()) == {1}
    sitting_out: list[str] = []
    for r in rounds:
        players = [p for pair in r for p in pair]
        assert len(r) == n // 2 and len(set(players)) == len(players)
        sitting_out.extend(set(ids(n)) - set(players))
    assert sorted(sitting_out) == (sorted(ids(n)) if n % 2 else [])


def test_four_players_by_the_circle_method() -> None:
    """p1 stays put, the others turn; p1 changes sides every round."""
    assert round_robin_rounds(["a", "b", "c", "d"]) == [
        [("a", "d"), ("b", "c")],
        [("c", "a"), ("d", "b")],
        [("a", "b"), ("c", "d")],
    ]


@pytest.mark.parametrize("participants", [[], ["a"], ["a", "b", "a"]])
def test_schedule_refuses_too_few_or_duplicates(participants: list[str]) -> None:
    """Fewer than two participants or a repeated id cannot be scheduled."""
    with pytest.raises(ValueError):
        round_robin_rounds(participants)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=2, max_value=24), rng=st.randoms(use_true_random=False))
def test_standings_of_a_full_round_robin(n: int, rng: random.Random) -> None:
    """Ranks 1..n, ordered by wins, wins adding up to the number of matches."""
    results: list[Result] = []
    for r in round_robin_rounds(ids(n)):
        for a, b in r:
            x, y = rng.sample(range(10), 2)
            results.append((a, b, x, y))
    table = standings(ids(n), results)
    assert [s.rank for s in table] == list(range(1, n + 1))
    assert sorted(s.participant_id for s in table) == sorted(ids(n))
    assert [s.wins for s in table] == sorted((s.wins for s in table), reverse=True)
    assert sum(s.wins for s in table) == len(results) == sum(s.losses for s in table)
    assert all(s.draws == 0 and s.points == s.wins for s in table)
    assert all(s.played == n - 1 for s in table)
    assert sum(s.score_for for s in table) == sum(s.score_against for s in table)


def test_head_to_head_beats_score_difference() -> None:
    """Two on 2 wins: the one who won their meeting is ahead despite a worse difference."""
    results: list[Result] = [
        ("a", "b", 1, 2), ("a", "c", 9, 0), ("a", "d", 9, 0),
        ("b", "c", 0, 1), ("b", "d", 1, 0), ("c", "d", 0, 1),
    ]
    table = standings(["a", "b", "c", "d"], results)
    assert [(s.participant_id, s.wins, s.rank) for s in table] == [
        ("b", 2, 1), ("a", 2, 2), ("d", 1, 3), ("c", 1, 4)]
    a = table[1]
    assert (a.played, a.losses, a.score_for, a.score_against, a.score_difference) == (3, 1, 19, 2, 17)


def test_head_to_head_counts_wins_within_the_tied_group() -> None:
    """Three on 2 wins rank by their wins against each other, before difference and seed."""
    results: list[Result] = [
        ("b", "a", 1, 0), ("b", "c", 1, 0), ("a", "c", 1, 0),  # among the three: b 2, a 1, c 0
        ("d", "b", 1, 0), ("e", "b", 1, 0), ("a", "d", 1, 0), ("e", "a", 1, 0),
        ("c", "d", 9, 0), ("c", "e", 9, 0), ("e", "d", 1, 0),
    ]
    table = standings(["c", "a", "b", "d", "e"], results)
    assert [(s.participant_id, s.wins) for s in table] == [
        ("e", 3), ("b", 2), ("a", 2), ("c", 2), ("d", 1)]


def test_score_difference_breaks_a_head_to_head_cycle() -> None:
    """When the tied players beat each other in a circle, the score difference decides."""
    results: list[Result] = [
        ("a", "b", 1, 0), ("b", "c", 3, 0), ("c", "a", 1, 0),
        ("a", "d", 5, 0), ("b", "d", 1, 0), ("c", "d", 1, 0),
    ]
    table = standings(["d", "c", "b", "a"], results)
    assert [(s.participant_id, s.score_difference) for s in table] == [
        ("a", 5), ("b", 3), ("c", -1), ("d", -7)]


def test_seed_breaks_the_last_tie() -> None:
    """Same wins, no meeting, same difference: the lower seed number goes first."""
    results: list[Result] = [("a", "c", 2, 1), ("b", "d", 2, 1)]
    table = standings(["b", "a", "c", "d"], results)
    assert [s.participant_id for s in table] == ["b", "a", "c", "d"]
    assert table[-1].played == 1 and table[-1].losses == 1


def test_standings_of_nobody_played_yet() -> None:
    """Before any result the table is the seed order."""
    assert [s.participant_id for s in standings(["x", "y", "z"], [])] == ["x", "y", "z"]


@pytest.mark.parametrize("result", [("a", "zed", 1, 0), ("a", "a", 1, 0), ("a", "b", -1, 0)])
def test_standings_refuse_bad_results(result: Result) -> None:
    """A stranger, a self-match or a negative score is refused."""
    with pytest.raises(ValueError):
        standings(["a", "b"], [result])


def test_a_tie_is_a_draw() -> None:
    """Equal scores: a draw for both, neither a win nor a loss; on wins the seed decides."""
    table = standings(["b", "a"], [("a", "b", 1, 1)])
    assert [(s.participant_id, s.played, s.wins, s.draws, s.losses, s.points) for s in table] == [
        ("b", 1, 0, 1, 0, 0.5), ("a", 1, 0, 1, 0, 0.5)]
