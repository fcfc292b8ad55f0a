"""Settling brackets of every size at start: every bye decided, every decided player seated."""

from __future__ import annotations

import pytest

from handlers.services import Services
from tournament.bracket_service import StartOptions, loser_of
from tournament.models import FINAL_STATES, Match, MatchState, Participant, Tournament, TournamentState
from tournament.roles import Principal, Role

ORGANIZER = Principal("org", "Org", Role.ORGANIZER)


async def started(services: Services, n: int, fmt: str, options: StartOptions = StartOptions(),
                  tid: str | None = None) -> list[Match]:
    """A tournament of `n` registered straight in the store, started through the service."""
    store = services.store
    tid = tid or f"t{fmt[0]}{n}"
    await store.insert_tournament(Tournament(id=tid, name="Big", game="", format=fmt,
                                             state=TournamentState.REGISTRATION, created_by="org",
                                             created_at=1.0))
    for i in range(1, n + 1):
        await store.insert_participant(Participant(id=f"p{i}", tournament_id=tid, name=f"P{i}",
                                                   seed=i, created_at=1.0 + i))
    await services.brackets.start(tid, ORGANIZER, options)
    return await store.list_matches(tid)


def unsettled(matches: list[Match]) -> list[str]:
    """What a settled bracket may not show: a bye match left undecided, a decided player not
    seated where the bracket sends them."""
    by_key = {m.slot.key: m for m in matches if m.slot}
    problems = []
    for m in by_key.values():
        assert m.slot is not None
        known = all(p is not None or bye for p, bye in zip(m.participant_ids, m.slot.byes))
        if m.state is MatchState.SCHEDULED and known and any(m.slot.byes):
            problems.append(f"{m.slot.key}: a bye left undecided")
        if m.state not in FINAL_STATES:
            continue
        for target, who in ((m.slot.winner_to, m.winner_id), (m.slot.loser_to, loser_of(m))):
            if target is None or (m.slot.key == "GF1" and target[0] == "GF2"):
                continue
            key, index = target
            seated = by_key[key].participant_ids[index]
            if who is not None and seated != who:
                problems.append(f"{m.slot.key}: {who} not seated in {key}[{index}] ({seated})")
            if who is None and not by_key[key].slot.byes[index]:  # type: ignore[union-attr]
                problems.append(f"{m.slot.key}: nobody goes to {key}[{index}], yet it is no bye")
    return problems


@pytest.mark.parametrize("fmt", ["single_elimination", "double_elimination"])
@pytest.mark.parametrize("n", [3, 129, 256, 512])
@pytest.mark.gen_test(timeout=120)
async def test_start_settles_every_bye_at_once(services: Services, fmt: str, n: int) -> None:
    """Starting a bracket of n decides every bye match and seats everyone it moves on,
    whatever the size (a bracket of 129 has 127 byes, most of them chained in losers)."""
    matches = await started(services, n, fmt)
    assert unsettled(matches) == []
    walkovers = [m for m in matches if m.slot and m.slot.walkover]
    lines = 1 << (n - 1).bit_length()
    assert sum(m.state is MatchState.COMPLETED for m in walkovers) >= lines - n
    playable = [m for m in matches if m.state is MatchState.SCHEDULED and None not in m.participant_ids]
    assert len(playable) >= (n - (lines - n)) // 2


@pytest.mark.gen_test(timeout=60)
async def test_settling_again_changes_nothing(services: Services) -> None:
    """Settling a settled bracket writes nothing: every match keeps its version."""
    before = await started(services, 129, "double_elimination")
    tid = before[0].tournament_id
    await services.brackets.settle(tid)
    after = await services.store.list_matches(tid)
    assert [(m.id, m.version) for m in after] == [(m.id, m.version) for m in before]
