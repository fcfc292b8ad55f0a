"""Groups, then playoffs, pure (tournament/stages.py): snake distribution, cross-seeding that
keeps a group's players apart as long as the bracket allows, the stage's refusals, and its
own map veto."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tournament import stages
from tournament.errors import DomainError, InvalidValueError, SchemaError
from tournament.stages import GroupStage
from tournament.tiebreaks import DEFAULT_POINTS, ROUND_ROBIN_DEFAULT
from tournament.veto import VetoConfig


def ids(n: int) -> list[str]:
    return [f"p{i}" for i in range(1, n + 1)]


def test_snake_distribution_by_seed() -> None:
    assert stages.distribute(ids(8), 4) == {"A": ["p1", "p8"], "B": ["p2", "p7"], "C": ["p3", "p6"],
                                            "D": ["p4", "p5"]}
    groups = stages.distribute(ids(10), 3)
    assert groups == {"A": ["p1", "p6", "p7"], "B": ["p2", "p5", "p8"], "C": ["p3", "p4", "p9", "p10"]}


def test_cross_seeding_of_four_groups_top_two() -> None:
    """Winners take seeds 1-4 in group order; every round-1 match is a winner against another
    group's runner-up; a group's two players are in opposite halves (they meet in the final)."""
    tiers = [["A1", "B1", "C1", "D1"], ["A2", "B2", "C2", "D2"]]
    group_of = {p: p[0] for tier in tiers for p in tier}
    order = stages.cross_seed(tiers, group_of)
    assert order[:4] == ["A1", "B1", "C1", "D1"]
    for group in "ABCD":
        assert stages.earliest_meeting(order, f"{group}1", f"{group}2") == 3


@settings(max_examples=60, deadline=None)
@given(groups=st.integers(2, 8), advance=st.integers(2, 4))
def test_cross_seeding_never_meets_a_group_mate_before_it_must(groups: int, advance: int) -> None:
    """No two players of one group can meet before the round where the bracket forces it: with
    k of a group among the qualified, they fill at least ceil(log2 k) rounds' worth of the
    bracket's halves, and the cheapest placement meets no pair earlier than the best one."""
    tiers = [[f"{chr(65 + g)}{r}" for g in range(groups)] for r in range(1, advance + 1)]
    group_of = {p: p[0] for tier in tiers for p in tier}
    order = stages.cross_seed(tiers, group_of)
    assert sorted(order) == sorted(p for tier in tiers for p in tier)
    rounds = (len(order) - 1).bit_length()
    for group in {p[0] for p in order}:
        mates = [p for p in order if p[0] == group]
        earliest = min(stages.earliest_meeting(order, a, b) for a, b in itertools.combinations(mates, 2))
        # k mates need k distinct sub-brackets of size 2^(r-1) to stay apart until round r
        assert earliest >= rounds - (len(mates) - 1).bit_length() + 1


def test_cross_seeding_of_three_groups_with_byes() -> None:
    tiers = [["A1", "B1", "C1"], ["A2", "B2", "C2"]]
    order = stages.cross_seed(tiers, {p: p[0] for tier in tiers for p in tier})
    assert order[:3] == ["A1", "B1", "C1"]
    for group in "ABC":
        assert stages.earliest_meeting(order, f"{group}1", f"{group}2") == 3


def test_playoff_order_by_standings() -> None:
    """Every 1st before any 2nd; within a rank, by points then score difference."""
    results = [("a1", "a2", 2, 0), ("b1", "b2", 2, 1), ("c1", "c2", 9, 0)]
    groups = {"A": ["a1", "a2"], "B": ["b1", "b2"], "C": ["c1", "c2"]}
    tables = stages.tables(groups, results, criteria=ROUND_ROBIN_DEFAULT, points=DEFAULT_POINTS)
    order = stages.playoff_order(tables, 2, "standings")
    assert order == ["c1", "a1", "b1", "b2", "a2", "c2"]


def test_places_after_the_groups_share_a_rank() -> None:
    groups = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3", "b4"]}
    tables = stages.tables(groups, [], criteria=ROUND_ROBIN_DEFAULT, points=DEFAULT_POINTS)
    assert stages.non_qualified_places(tables, 2, 5) == [
        {"place": 5, "participant_id": "a3"}, {"place": 5, "participant_id": "b3"},
        {"place": 7, "participant_id": "b4"}]


@pytest.mark.parametrize(("stage", "n", "message"), [
    (GroupStage(groups=4), 7, "4 groups need at least 8 participants"),
    (GroupStage(groups=2, advance=3), 4, "groups.advance must be 1 to 2"),
    (GroupStage(groups=1, advance=1), 4, "the playoff needs at least 2 players"),
    (GroupStage(groups=27), 60, "groups.count must be 1 to 26"),
    (GroupStage(groups=2, format="swiss", rounds=5), 10, "groups.rounds must be 1 to 4"),
])
def test_a_stage_that_cannot_be_played_is_refused(stage: GroupStage, n: int, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        stage.check(n)


@pytest.mark.parametrize(("body", "message"), [
    ({"count": "4"}, "groups.count must be a whole number"),
    ({"count": True}, "groups.count must be a whole number"),
    ({"format": "double_elimination"}, "groups.format must be one of round_robin, swiss"),
    ({"rounds": 2.5}, "groups.rounds must be a whole number"),
    ({"playoff": "round_robin"}, "groups.playoff must be one of"),
    ({"playoff_seeding": "random"}, "groups.playoff_seeding must be one of cross, standings"),
    ([], "groups must be an object"),
])
def test_bad_group_settings_are_refused(body: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        stages.config_from(body)


def test_the_group_stage_keeps_its_own_veto_through_its_json() -> None:
    """`groups.veto` is read as a VetoConfig and recorded in the stage's JSON, which reads back
    the same; without one the JSON says null."""
    stage = stages.config_from({"count": 2, "veto": {"pool": ["Ascent", "Bind", "Haven"], "sides": ["Attack",
                                                                                                  "Defense"]}})
    assert stage.veto == VetoConfig(pool=("Ascent", "Bind", "Haven"), sides=("Attack", "Defense"))
    assert stage.to_json()["veto"] == stage.veto.to_json()
    assert GroupStage.from_json(stage.to_json()) == stage
    assert GroupStage().to_json()["veto"] is None and GroupStage.from_json(GroupStage().to_json()) == GroupStage()


@pytest.mark.parametrize(("veto", "error", "field"), [
    ("Mirage", SchemaError, "groups.veto"), ({"pool": "Mirage"}, SchemaError, "groups.veto.pool"),
    ({"pool": []}, InvalidValueError, "groups.veto.pool"), ({"pool": ["A"], "turn_s": 1}, InvalidValueError,
                                                            "groups.veto"),
])
def test_a_bad_groups_veto_is_refused_on_its_field(veto: object, error: type[DomainError], field: str) -> None:
    """Its shape is a 400, its values a 422, each on a field under groups.veto."""
    with pytest.raises(error) as caught:
        stages.config_from({"veto": veto})
    assert caught.value.details["field"] == field


def test_a_group_match_takes_the_groups_veto_the_rest_the_tournaments() -> None:
    """veto_settings: a group match's default is the group stage's own veto, else the
    tournament's; a playoff match's (group None) always the tournament's."""
    own, top = {"pool": ["Ascent"]}, {"pool": ["Mirage"]}
    settings = {"groups": {"veto": own}, "veto": top}
    assert stages.veto_settings(settings, "A") == ("groups.veto", own)
    assert stages.veto_settings(settings, None) == ("veto", top)
    assert stages.veto_settings({"groups": {"veto": None}, "veto": top}, "B") == ("veto", top)
    assert stages.veto_settings({"groups": {"veto": own}}, None) is None
    assert stages.veto_settings({}, None) is None
