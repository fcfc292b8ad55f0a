"""Placements of elimination brackets played out to the end: everyone placed once, by the stage
they went out in."""

from __future__ import annotations

import random

import pytest

from handlers.services import Services
from tests.tournament.test_settle import ORGANIZER, started
from tournament.bracket_service import StartOptions
from tournament.models import MatchState


async def played_out(services: Services, n: int, fmt: str, rng: random.Random,
                     third_place: bool = False) -> list[dict[str, object]]:
    """Start a bracket of `n` and play every match with a random winner; its placements."""
    tid = f"t{fmt[0]}{n}{'-3p' if third_place else ''}-{rng.randrange(10**6)}"
    await started(services, n, fmt, StartOptions(third_place=third_place), tid)
    while True:
        playable = [m for m in await services.store.list_matches(tid)
                    if m.state is MatchState.SCHEDULED and None not in m.participant_ids]
        if not playable:
            break
        match = playable[0]
        a, b = match.players
        await services.matches.start(match.id, ORGANIZER)
        winner_first = rng.random() < 0.5
        await services.matches.report_result(match.id, ORGANIZER, {a: 2 if winner_first else 1,
                                                                  b: 1 if winner_first else 2})
    tournament = await services.store.get_tournament(tid)
    assert tournament.state == "completed"
    return [dict(p) for p in tournament.placements]


def tie_groups(places: list[int]) -> list[tuple[int, int]]:
    """(place, how many share it), in order."""
    groups: list[tuple[int, int]] = []
    for place in places:
        if groups and groups[-1][0] == place:
            groups[-1] = (place, groups[-1][1] + 1)
        else:
            groups.append((place, 1))
    return groups


@pytest.mark.parametrize("fmt", ["single_elimination", "double_elimination"])
@pytest.mark.parametrize("n, seed", [(2, 1), (3, 2), (5, 3), (8, 4), (13, 5), (16, 6), (31, 7), (32, 8)])
@pytest.mark.gen_test(timeout=60)
async def test_everyone_is_placed_once_by_the_stage_they_went_out_in(services: Services, fmt: str,
                                                                    n: int, seed: int) -> None:
    """Every participant has one place; a place shared by k is followed by the place k further on."""
    placements = await played_out(services, n, fmt, random.Random(seed))
    assert sorted(str(p["participant_id"]) for p in placements) == sorted(f"p{i}" for i in range(1, n + 1))
    places = [int(str(p["place"])) for p in placements]
    groups = tie_groups(places)
    assert groups[0] == (1, 1)
    for (place, count), (following, _) in zip(groups, groups[1:]):
        assert following == place + count


@pytest.mark.gen_test(timeout=60)
async def test_full_brackets_place_as_the_references_do(services: Services) -> None:
    """16 players: single elimination 1, 2, 3-4, 5-8, 9-16; double 1, 2, 3, 4, 5-6, 7-8, 9-12, 13-16;
    with a third-place match, 3 and 4 apart."""
    rng = random.Random(16)
    single = [p["place"] for p in await played_out(services, 16, "single_elimination", rng)]
    assert single == [1, 2, 3, 3] + [5] * 4 + [9] * 8
    double = [p["place"] for p in await played_out(services, 16, "double_elimination", rng)]
    assert double == [1, 2, 3, 4, 5, 5, 7, 7] + [9] * 4 + [13] * 4
    with_third = [p["place"] for p in await played_out(services, 16, "single_elimination", rng, third_place=True)]
    assert with_third == [1, 2, 3, 4] + [5] * 4 + [9] * 8
