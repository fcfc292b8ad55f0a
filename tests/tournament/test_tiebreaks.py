"""Tests of the tiebreaks: the criteria, the points, draws, and the tournament's own order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from handlers.services import Services
from tournament.bracket_service import StartOptions
from tournament.errors import InvalidValueError
from tournament.models import MatchState, Participant, Tournament, TournamentState
from tournament.roles import Principal, Role
from tournament.round_robin import Result, standings
from tournament.swiss import swiss_standings
from tournament.tiebreaks import (CRITERIA, DEFAULT_POINTS, ROUND_ROBIN_DEFAULT, SWISS_DEFAULT, Points,
                                  check_criteria, check_points, rank_table)

ORGANIZER = Principal("org", "Org", Role.ORGANIZER)

# Five in a Swiss of three rounds, a draw and a bye each round. Points (1, 0.5, 0):
# p1 W L W = 2, p2 D W L = 1.5, p3 L L bye = 1, p4 D bye W = 2.5, p5 bye W L = 2.
SWISS: list[Result] = [("p1", "p3", 1, 0), ("p2", "p4", 1, 1), ("p5", "p1", 1, 0), ("p2", "p3", 2, 0),
                       ("p1", "p2", 1, 0), ("p4", "p5", 3, 1)]
SWISS_BYES = ["p5", "p4", "p3"]
FIVE = ["p1", "p2", "p3", "p4", "p5"]


def test_the_criteria() -> None:
    """The names an organizer can choose from, and the defaults of each format."""
    assert CRITERIA == ("wins", "points", "head_to_head", "score_difference", "score_for", "buchholz",
                        "median_buchholz", "sonneborn_berger", "seed")
    assert ROUND_ROBIN_DEFAULT == ("wins", "head_to_head", "score_difference", "seed")
    assert SWISS_DEFAULT == ("wins", "buchholz", "seed")
    assert DEFAULT_POINTS == (1, 0.5, 0)


@pytest.mark.parametrize("criteria", [(), "wins", None, {"wins": 1}, ("goals",), (["wins"],), ("wins", "wins"),
                                      ("seed", "wins")])
def test_criteria_refused(criteria: Any) -> None:
    """Empty, not a list, an unknown name, a repeat, or seed before another criterion."""
    with pytest.raises(ValueError):
        check_criteria(criteria)


@pytest.mark.parametrize("points", [(1, 0.5), (1, 0.5, 0, 0), (1, 0.3, 0), (0, 0, 0), (1, 2, 0), (1, 0, -1),
                                    (101, 0, 0), (True, 0, 0), (float("nan"), 0, 0), ("3", 1, 0), "310", 3, None])
def test_points_refused(points: Any) -> None:
    """Three numbers, multiples of 0.5 from 0 to 100, loss <= draw <= win, a win above a loss."""
    with pytest.raises(ValueError):
        check_points(points)


def test_points_accepted() -> None:
    """Football's, chess's and a win-only count."""
    assert check_points([3, 1, 0]) == Points(3, 1, 0)
    assert check_points((1, 0.5, 0)) == DEFAULT_POINTS
    assert check_points((1, 0, 0)) == Points(1, 0, 0)


def test_draws_count_as_points_not_wins() -> None:
    """Equal scores are a draw: no win for either, points at the draw's value."""
    results: list[Result] = [("a", "b", 1, 1), ("a", "c", 2, 0), ("b", "c", 0, 0)]
    table = {s.participant_id: s for s in standings(["a", "b", "c"], results)}
    assert [(table[p].wins, table[p].draws, table[p].losses, table[p].points) for p in "abc"] == [
        (1, 1, 0, 1.5), (0, 2, 0, 1.0), (0, 1, 1, 0.5)]
    football = standings(["c", "b", "a"], results, criteria=("points", "seed"), points=Points(3, 1, 0))
    assert [(s.participant_id, s.points) for s in football] == [("a", 4), ("b", 2), ("c", 1)]


def test_wins_ignore_draws_where_points_do_not() -> None:
    """Two wins and a loss against one win and two draws: ahead on wins and on 3-1-0 points
    (6 against 5), level on 2-1-0 points (4 each), where the seed puts the other first."""
    results: list[Result] = [("a", "x", 1, 0), ("a", "y", 1, 0), ("a", "z", 0, 1),
                             ("b", "x", 1, 0), ("b", "y", 1, 1), ("b", "z", 2, 2)]
    ids = ["b", "a", "x", "y", "z"]
    assert [s.participant_id for s in standings(ids, results, criteria=("wins", "seed"))][:2] == ["a", "b"]
    assert [s.participant_id for s in standings(ids, results, criteria=("points", "seed"),
                                                points=Points(3, 1, 0))][:2] == ["a", "b"]
    assert [s.participant_id for s in standings(ids, results, criteria=("points", "seed"),
                                                points=Points(2, 1, 0))][:2] == ["b", "a"]


def test_head_to_head_is_applied_again_among_those_it_leaves_tied() -> None:
    """a, b, c, d on 3 wins; among them a and d have 2, b and c 1. Again among a and d, d won
    their meeting; among b and c, b did: d, a, b, c, although a and c have the better score
    differences (a head-to-head applied once would have let them go ahead)."""
    results: list[Result] = [
        ("a", "b", 9, 0), ("a", "c", 9, 0), ("d", "a", 1, 0), ("b", "c", 1, 0), ("c", "d", 9, 0), ("d", "b", 1, 0),
        ("a", "e", 1, 0), ("d", "e", 1, 0), ("b", "e", 1, 0), ("b", "f", 1, 0), ("c", "e", 9, 0), ("c", "f", 9, 0)]
    ids = ["a", "b", "c", "d", "e", "f"]
    table = standings(ids, results)
    assert [(s.participant_id, s.wins, s.head_to_head, s.score_difference) for s in table] == [
        ("d", 3, 2, -6), ("a", 3, 2, 18), ("b", 3, 1, -7), ("c", 3, 1, 17), ("f", 0, 0, -10), ("e", 0, 0, -12)]
    by_difference = standings(ids, results, criteria=("wins", "score_difference"))
    assert [s.participant_id for s in by_difference] == ["a", "c", "d", "b", "f", "e"]


def test_swiss_values_of_every_criterion() -> None:
    """Buchholz sums the opponents' points; median Buchholz drops the highest and the lowest
    of them (nothing is left of two); Sonneborn-Berger sums the points of the opponents beaten
    and half of those drawn; a bye adds to none of them."""
    table = {s.participant_id: s for s in swiss_standings(FIVE, SWISS, SWISS_BYES)}
    assert {p: (s.points, s.buchholz, s.median_buchholz, s.sonneborn_berger) for p, s in table.items()} == {
        "p1": (2, 4.5, 1.5, 2.5), "p2": (1.5, 5.5, 2, 2.25), "p3": (1, 3.5, 0, 0),
        "p4": (2.5, 3.5, 0, 2.75), "p5": (2, 4.5, 0, 2)}
    assert all(s.head_to_head is None for s in table.values())  # not among the criteria
    p4 = table["p4"]
    assert (p4.seed, p4.played, p4.wins, p4.draws, p4.losses, p4.byes) == (4, 2, 2, 1, 0, 1)
    assert (p4.score_for, p4.score_against, p4.score_difference) == (4, 2, 2)


@pytest.mark.parametrize("criteria, order", [
    (SWISS_DEFAULT, ["p1", "p5", "p4", "p2", "p3"]),  # p1 and p5 tie on Buchholz: the seed
    (("points", "sonneborn_berger"), ["p4", "p1", "p5", "p2", "p3"]),
    (("points", "median_buchholz"), ["p4", "p1", "p5", "p2", "p3"]),
    (("points", "score_for", "seed"), ["p4", "p1", "p5", "p2", "p3"]),  # p1 and p5 both scored 2
    (("buchholz", "points"), ["p2", "p1", "p5", "p4", "p3"]),
])
def test_the_organizers_order(criteria: tuple[str, ...], order: list[str]) -> None:
    """The same Swiss ranked by different criteria, the seed breaking what they leave."""
    table = swiss_standings(FIVE, SWISS, SWISS_BYES, criteria=criteria)
    assert [s.participant_id for s in table] == order
    assert [s.rank for s in table] == [1, 2, 3, 4, 5]


def test_rank_table_refuses_bad_input() -> None:
    """A duplicate, a stranger's bye, bad criteria or points are each a ValueError."""
    for ids, byes, criteria, points in [(["a", "a"], [], SWISS_DEFAULT, DEFAULT_POINTS),
                                        (["a", "b"], ["c"], SWISS_DEFAULT, DEFAULT_POINTS),
                                        (["a", "b"], [], ("luck",), DEFAULT_POINTS),
                                        (["a", "b"], [], SWISS_DEFAULT, Points(0, 1, 0))]:
        with pytest.raises(ValueError):
            rank_table(ids, [], byes, criteria=criteria, points=points)


# -- the tournament's choice, through the service --------------------------------------------

async def started(services: Services, fmt: str, n: int, options: StartOptions) -> Tournament:
    """A tournament of n registered straight in the store, started through the service."""
    tid = f"t-{fmt}-{n}"
    await services.store.insert_tournament(Tournament(id=tid, name="League", game="", format=fmt,
                                                      state=TournamentState.REGISTRATION, created_by="org",
                                                      created_at=1.0))
    for i in range(1, n + 1):
        await services.store.insert_participant(Participant(id=f"p{i}", tournament_id=tid, name=f"P{i}",
                                                            seed=i, created_at=1.0 + i))
    return await services.brackets.start(tid, ORGANIZER, options)


@pytest.mark.gen_test
async def test_a_round_robin_records_and_applies_its_tiebreaks(services: Services) -> None:
    """Points first at 3-1-0, then scores for: the settings say so and the table follows, with
    the value of every criterion in each row."""
    options = StartOptions(tiebreaks=("points", "score_for", "seed"), points=(3, 1, 0))
    tournament = await started(services, "round_robin", 3, options)
    assert (tournament.settings["tiebreaks"], tournament.settings["points"]) == (
        ["points", "score_for", "seed"], [3, 1, 0])
    scores = {frozenset(("p1", "p2")): {"p1": 0, "p2": 3}, frozenset(("p1", "p3")): {"p1": 5, "p3": 0},
              frozenset(("p2", "p3")): {"p2": 0, "p3": 1}}  # everyone 3 points; scores for 5, 3, 1
    for match in await services.store.list_matches(tournament.id):
        result = scores[frozenset(match.players)]
        await services.store.save_match(dataclasses.replace(
            match, state=MatchState.COMPLETED, scores=result, winner_id=max(result, key=result.__getitem__),
            version=match.version + 1), [], None)
    rows = (await services.brackets.standings(tournament.id))["standings"]
    assert [(r["participant_id"], r["points"], r["score_for"]) for r in rows] == [
        ("p1", 3, 5), ("p2", 3, 3), ("p3", 3, 1)]
    assert set(rows[0]) == {"participant_id", "seed", "played", "wins", "draws", "losses", "byes", "points",
                            "score_for", "score_against", "score_difference", "buchholz", "median_buchholz",
                            "sonneborn_berger", "head_to_head", "rank"}


@pytest.mark.gen_test
async def test_the_defaults_are_recorded(services: Services) -> None:
    """Without a choice, a Swiss records its defaults; an elimination bracket records none."""
    swiss = await started(services, "swiss", 4, StartOptions())
    assert (swiss.settings["tiebreaks"], swiss.settings["points"]) == (["wins", "buchholz", "seed"], [1, 0.5, 0])
    single = await started(services, "single_elimination", 4, StartOptions())
    assert "tiebreaks" not in single.settings and "points" not in single.settings


@pytest.mark.parametrize("fmt, options, field", [
    ("round_robin", StartOptions(tiebreaks=("wins", "luck")), "tiebreaks"),
    ("swiss", StartOptions(tiebreaks=("seed", "wins")), "tiebreaks"),
    ("swiss", StartOptions(points=(1, 2, 0)), "points"),
    ("single_elimination", StartOptions(tiebreaks=("wins",)), "tiebreaks"),
    ("double_elimination", StartOptions(points=(3, 1, 0)), "points"),
])
@pytest.mark.gen_test
async def test_bad_tiebreaks_are_refused_and_change_nothing(services: Services, fmt: str, options: StartOptions,
                                                            field: str) -> None:
    """An unknown or misplaced criterion, bad points, or either for an elimination bracket:
    InvalidValueError on that field, and the tournament stays in registration."""
    with pytest.raises(InvalidValueError) as refused:
        await started(services, fmt, 4, options)
    assert refused.value.details == {"field": field}
    tournament = await services.store.get_tournament(f"t-{fmt}-4")
    assert tournament.state == TournamentState.REGISTRATION and tournament.settings == {}
    assert await services.store.list_matches(tournament.id) == []
