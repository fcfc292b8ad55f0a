"""Unit tests of teams (issue 14): the roster rules, TeamService over a MemoryStore, who may
act for a team (Rosters, from memory), and a member acting as their team in the rules."""

from __future__ import annotations

import dataclasses
from typing import Any

import jwt
import pytest

from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock
from tournament import rules, teams
from tournament.errors import ForbiddenError, InvalidTransitionError, InvalidValueError, SchemaError
from tournament.events import TOURNAMENT_UPDATED, Fanout, RecordingPublisher
from tournament.models import (Event, Match, MatchState, Participant, Team, TeamMember, Tournament, TournamentState,
                               tournament_stream)
from tournament.roles import Principal, Role
from tournament.teams import Rosters, TeamService, check_roster, refusal_to_act, roster_from
from tournament.tokens import AuthError, TokenCodec

ORG = Principal("org", "Org", Role.ORGANIZER)
T0 = 1000.0


def roster(*members: tuple[str, str], tag: str = "RED") -> Team:
    return Team(tag, tuple(TeamMember(mid, mid.title(), role) for mid, role in members))


def member(user_id: str, team: str) -> Principal:
    return Principal(user_id, user_id.title(), Role.PLAYER, tournament_id="t1", link=(1, 0), acts_for=team)


RED = roster(("ann", "captain"), ("bo", "player"), ("cy", "substitute"))
BLUE = roster(("dee", "captain"), ("eli", "player"), tag="BLU")


class CountingStore(MemoryStore):
    """A MemoryStore that counts the reads an acting check would make."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def list_entries(self, tournament_id: str) -> list[Participant]:
        self.reads += 1
        return await super().list_entries(tournament_id)


@pytest.fixture
def world(io_loop: object) -> tuple[CountingStore, RecordingPublisher, FakeClock]:
    return CountingStore(), RecordingPublisher(), FakeClock(T0)


async def seeded(store: MemoryStore, state: str = TournamentState.REGISTRATION) -> None:
    await store.insert_tournament(Tournament(id="t1", name="Cup", game="", format="single_elimination",
                                             state=state, created_by="org", created_at=T0))
    for i, pid in enumerate(("red", "blue", "solo"), start=1):
        await store.insert_participant(Participant(pid, "t1", pid.title(), None, T0 + i))


def test_a_roster_is_read_from_a_body_and_bad_ones_are_refused() -> None:
    """Tag 1-8, 1-16 members, known roles; a member's name defaults to its id."""
    team = roster_from({"tag": "RED", "members": [{"id": "ann", "role": "captain"}, {"id": "bo", "name": "Bo"}]})
    assert team == Team("RED", (TeamMember("ann", "ann", "captain"), TeamMember("bo", "Bo", "player")))
    bad: list[dict[str, Any]] = [
        {"tag": "TOOLONGTAG", "members": [{"id": "ann", "role": "captain"}]},
        {"tag": "RED", "members": []},
        {"tag": "RED", "members": [{"id": f"m{i}"} for i in range(17)]},
        {"tag": "RED", "members": [{"id": "ann", "role": "coach"}]},
        {"tag": "RED", "members": [{"id": "not an id"}]},
    ]
    for body in bad:
        with pytest.raises(InvalidValueError):
            roster_from(body)
    for body in ({"tag": "RED"}, {"tag": "RED", "members": ["ann"]}, {"members": []}):
        with pytest.raises(SchemaError):
            roster_from(body)


def test_roster_rules_one_captain_unique_ids_one_team_and_no_participant_ids() -> None:
    """Each refusal has its code; the other team is named when a member is taken."""
    entries = [Participant("red", "t1", "Red", None, T0), Participant("blue", "t1", "Blue", None, T0, team=BLUE)]
    check_roster("red", RED, entries)
    cases = [(roster(("ann", "player")), "roster_invalid"),
             (roster(("ann", "captain"), ("bo", "captain")), "roster_invalid"),
             (roster(("ann", "captain"), ("ann", "player")), "roster_invalid"),
             (roster(("ann", "captain"), ("blue", "player")), "roster_invalid"),
             (roster(("ann", "captain"), ("eli", "player")), "member_in_another_team")]
    for team, code in cases:
        with pytest.raises(InvalidValueError) as refused:
            check_roster("red", team, entries)
        assert refused.value.code == code
    assert refused.value.details == {"field": "members", "member_id": "eli", "team_id": "blue"}
    assert "Eli (eli)" in refused.value.message and "Blue (blue)" in refused.value.message
    check_roster("blue", roster(("dee", "captain")), entries)  # a team's own members are no conflict


def test_who_may_act_captain_or_any_never_a_substitute() -> None:
    """With `captain` only the captain acts; with `any` players too; substitutes never."""
    assert refusal_to_act("captain", "Red", RED, "ann") is None
    assert refusal_to_act("captain", "Red", RED, "bo") == ("only the captain of Red may act for the team; "
                                                           "a player may not")
    assert refusal_to_act("any", "Red", RED, "bo") is None
    assert "a substitute may not" in (refusal_to_act("any", "Red", RED, "cy") or "")
    assert refusal_to_act("any", "Red", RED, "dee") == "you are not on the roster of Red"


@pytest.mark.gen_test
async def test_rosters_change_freely_before_the_start_and_only_by_override_after(
        world: tuple[CountingStore, RecordingPublisher, FakeClock]) -> None:
    """Before: set, announced; the same again writes nothing. After: roster_locked, then the
    override keeps the replaced roster; a solo player never becomes a team once started."""
    store, events, clock = world
    await seeded(store)
    service = TeamService(store, clock, publisher=events)
    changed = await service.set_roster("t1", "red", ORG, RED)
    assert changed.team == RED and changed.to_json()["team"]["tag"] == "RED"
    assert [e.type for e in events.events] == ["participant_updated"]
    assert await service.set_roster("t1", "red", ORG, RED) == changed and len(events.events) == 1
    with pytest.raises(ForbiddenError):
        await service.set_roster("t1", "red", member("ann", "red"), RED)

    tournament = await store.get_tournament("t1")
    await store.save_tournament(dataclasses.replace(tournament, state=TournamentState.LIVE,
                                                    version=tournament.version + 1))
    new = roster(("ann", "captain"), ("bo", "player"), ("fay", "player"))
    with pytest.raises(InvalidTransitionError) as refused:
        await service.set_roster("t1", "red", ORG, new)
    assert refused.value.code == "roster_locked"
    assert (await store.list_participants("t1"))[0].team == RED  # nothing changed
    clock.advance(5)
    after = await service.set_roster("t1", "red", ORG, new, override=True)
    assert after.team == new
    assert after.roster_history == ({**RED.to_json(), "by": "org", "at": T0 + 5},)
    assert after.to_json()["roster_history"][0]["at"].endswith("Z")
    stored = next(p for p in await store.list_participants("t1") if p.id == "red")
    assert stored == after  # kept through the store's documents
    with pytest.raises(InvalidTransitionError) as refused:
        await service.set_roster("t1", "solo", ORG, BLUE, override=True)
    assert refused.value.code == "roster_locked"


@pytest.mark.gen_test
async def test_a_member_in_two_teams_is_refused_and_nothing_changes(
        world: tuple[CountingStore, RecordingPublisher, FakeClock]) -> None:
    """The second team naming eli is refused with both named; its roster stays as it was."""
    store, events, clock = world
    await seeded(store)
    service = TeamService(store, clock, publisher=events)
    await service.set_roster("t1", "blue", ORG, BLUE)
    with pytest.raises(InvalidValueError) as refused:
        await service.set_roster("t1", "red", ORG, roster(("ann", "captain"), ("eli", "player")))
    assert (refused.value.code, refused.value.details["team_id"]) == ("member_in_another_team", "blue")
    assert next(p for p in await store.list_participants("t1") if p.id == "red").team is None
    assert len(events.events) == 1


@pytest.mark.gen_test
async def test_acting_checks_read_from_memory_and_follow_the_events(
        world: tuple[CountingStore, RecordingPublisher, FakeClock]) -> None:
    """One read per cache window, however many moves; a roster change or a team_actors change
    announced in this process applies at once, without a read."""
    store, events, clock = world
    await seeded(store)
    rosters = Rosters(store, clock)
    service = TeamService(store, clock, publisher=Fanout(rosters, events))
    await service.set_roster("t1", "red", ORG, RED)
    for _ in range(50):
        await rosters.check_acting(member("ann", "red"))
    assert store.reads == 2  # the roster change's own read, and the cache's one
    with pytest.raises(ForbiddenError) as refused:
        await rosters.check_acting(member("bo", "red"))
    assert (refused.value.code, refused.value.details["team_actors"]) == ("insufficient_permissions", "captain")
    assert "only the captain of Red may act" in refused.value.message
    before = await store.get_tournament("t1")
    tournament = dataclasses.replace(before, team_actors="any", version=before.version + 1)
    await store.save_tournament(tournament)
    rosters.publish(Event(tournament_stream("t1"), 0, TOURNAMENT_UPDATED,
                          {"tournament_id": "t1", "tournament": tournament.to_json()}, T0))
    await rosters.check_acting(member("bo", "red"))
    with pytest.raises(ForbiddenError):
        await rosters.check_acting(member("cy", "red"))  # a substitute, still
    await service.set_roster("t1", "red", ORG, roster(("ann", "captain"), ("cy", "player")))
    assert not rosters.on_roster_now(member("bo", "red"))  # dropped: known at once, from memory
    await rosters.check_acting(member("cy", "red"))
    assert store.reads == 3  # the second change's own read only
    await rosters.check_acting(Principal("solo", "Solo", Role.PLAYER))  # not a member: passes
    clock.advance(teams.CHECK_CACHE_S)
    await rosters.check_acting(member("ann", "red"))
    assert store.reads == 4  # the window ran out: read again


def test_a_member_acts_as_their_team_in_the_rules() -> None:
    """actors_of sees the team; a report is recorded under the team's participant id."""
    match = Match(id="m1", tournament_id="t1", participant_ids=("red", "blue"), state=MatchState.LIVE,
                  created_at=T0, updated_at=T0)
    ann = member("ann", "red")
    assert rules.actors_of(match, ann) == {rules.Actor.PARTICIPANT, rules.Actor.OPPONENT}
    assert rules.actors_of(match, Principal("ann", "Ann", Role.PLAYER, tournament_id="t1", link=(1, 0))) == set()
    outcome = rules.report_result(match, ann, {"red": 2, "blue": 1}, T0)
    assert list(outcome.match.reports) == ["red"]
    assert rules.actors_of(outcome.match, member("dee", "blue")) == {rules.Actor.PARTICIPANT, rules.Actor.OPPONENT}
    assert rules.Actor.OPPONENT not in rules.actors_of(outcome.match, member("bo", "red"))


def test_a_member_token_carries_its_team_and_keeps_it_when_renewed() -> None:
    """Claim `af` names the team; a malformed one is refused; a renewal keeps it."""
    codec = TokenCodec("s" * 32, lambda: T0)
    token, _ = codec.issue("ann", "Ann", Role.PLAYER, 600, tournament_id="t1", link=(1, 0), acts_for="red")
    ann = codec.decode(token)
    assert (ann.acts_for, ann.participant_id, ann.user_id, ann.key) == ("red", "red", "ann", "player:ann")
    assert codec.decode(codec.renew(ann, 600)[0]).acts_for == "red"
    forged = jwt.encode({"sub": "ann", "exp": T0 + 60, "tid": "t1", "lg": [1, 0], "af": 7}, "s" * 32,
                        algorithm="HS256")
    with pytest.raises(AuthError) as refused:
        codec.decode(forged)
    assert refused.value.code == "token_malformed"
