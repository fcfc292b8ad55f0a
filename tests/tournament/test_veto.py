"""Unit tests of the map veto: the standard sequences, turns and their refusals, sides, the
decider, maps becoming games, turn timers on a fake clock, and a stage's own veto (the group
stage's pool for its matches, the tournament's for the playoff)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from handlers.services import Services
from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock, FakeScheduler
from tests.tournament.test_scores import NoBracket, Recorder
from tournament import events as ev
from tournament import rules, series, stages, veto
from tournament.bracket_service import StartOptions
from tournament.errors import InvalidTransitionError, InvalidValueError, SchemaError
from tournament.matches import MatchService
from tournament.models import Match, MatchState, Participant, SeriesFormat, Tournament, TournamentState
from tournament.roles import Principal, Role
from tournament.writer import MatchWriter

T0 = 1_700_000_000.0
ORGANIZER = Principal(user_id="org", name="Org", role=Role.ORGANIZER)
ALICE = Principal(user_id="alice", name="Alice", role=Role.PLAYER)
BOB = Principal(user_id="bob", name="Bob", role=Role.PLAYER)
POOL = ("Ancient", "Anubis", "Dust2", "Inferno", "Mirage", "Nuke", "Train")
CS2 = veto.VetoConfig(pool=POOL, sides=("CT", "T"))


def ready(best_of: int = 3) -> Match:
    return Match(id="m_1", tournament_id="t_1", participant_ids=("alice", "bob"), state=MatchState.READY,
                 created_at=T0, updated_at=T0, format=SeriesFormat(best_of))


def begun(best_of: int = 3, config: veto.VetoConfig = CS2, first: str = "alice") -> Match:
    return veto.begin(ready(best_of), config, first, "higher_seed", 42, T0).match


def turns(match: Match, *choices: str) -> Match:
    """Each choice taken in turn by whoever's turn it is (as themselves)."""
    for choice in choices:
        assert match.veto is not None and match.veto.turn is not None
        who = ALICE if match.veto.turn.by == "alice" else BOB
        match = veto.take(match, who, choice, None, T0 + 1).match
    return match


# -- sequences ---------------------------------------------------------------------------------

@pytest.mark.parametrize("games, expected", [
    (1, "ban ban ban ban ban ban"), (3, "ban ban pick pick ban ban"), (5, "ban ban pick pick pick pick"),
    (7, "pick pick pick pick pick pick"),
])
def test_standard_sequences_from_seven_maps(games: int, expected: str) -> None:
    """BO1 bans six, BO3 bans two, picks two, bans two, BO5 bans two and picks four; one map is left."""
    assert " ".join(veto.standard_sequence(games, 7)) == expected


def test_a_pool_smaller_than_the_games_is_refused() -> None:
    """Five games cannot be played on three maps."""
    with pytest.raises(InvalidValueError):
        veto.standard_sequence(5, 3)


def test_a_custom_sequence_must_pick_every_game_but_the_decider() -> None:
    """A sequence with the wrong number of picks or turns is refused; a right one is kept."""
    assert veto.check_sequence(["pick", "ban", "pick", "ban", "ban", "ban"], 3, 7)
    for wrong in (["ban"] * 6, ["pick", "pick", "ban"]):
        with pytest.raises(InvalidValueError):
            veto.check_sequence(wrong, 3, 7)


def test_a_config_reads_back_from_its_json() -> None:
    """What a tournament records (to_json) is read again as the same config, with or without sides."""
    for config in (CS2, veto.VetoConfig(pool=POOL, turn_s=30, on_timeout="wait", sequence=("ban",) * 6)):
        assert veto.config_from(config.to_json()) == config


@pytest.mark.parametrize("value, error", [
    ([], SchemaError), ({}, SchemaError), ({"pool": "Mirage"}, SchemaError), ({"pool": []}, InvalidValueError),
    ({"pool": ["Mirage", "mirage"]}, InvalidValueError), ({"pool": ["x" * 41]}, InvalidValueError),
    ({"pool": ["A\u0000"]}, InvalidValueError), ({"pool": ["A"], "sides": ["CT"]}, InvalidValueError),
    ({"pool": ["A"], "first": "loser"}, InvalidValueError), ({"pool": ["A"], "turn_s": 2}, InvalidValueError),
    ({"pool": ["A"], "turn_s": 1.5}, SchemaError), ({"pool": ["A"], "on_timeout": "skip"}, InvalidValueError),
    ({"pool": ["A"], "sequence": ["veto"]}, SchemaError),
])
def test_bad_configs_are_refused(value: Any, error: type[Exception]) -> None:
    """Each part of a veto config is checked, with a 400 for shapes and a 422 for values."""
    with pytest.raises(error):
        veto.config_from(value)


# -- turns -------------------------------------------------------------------------------------

def test_a_best_of_three_veto_with_sides_ends_with_a_decider() -> None:
    """Alice starts: ban, ban, pick (Bob picks a side), pick (Alice picks a side), ban, ban; the
    last map is the decider, and the maps are the picks, then the decider."""
    match = begun()
    assert match.veto is not None
    assert [(s.action, s.by) for s in match.veto.steps] == [
        ("ban", "alice"), ("ban", "bob"), ("pick", "alice"), ("side", "bob"), ("pick", "bob"), ("side", "alice"),
        ("ban", "alice"), ("ban", "bob")]
    match = turns(match, "Nuke", "Train", "Mirage", "CT", "Inferno", "t", "Ancient", "Anubis")
    done = match.veto
    assert done is not None and done.complete and done.turn is None
    assert done.maps == ("Mirage", "Inferno", "Dust2")
    assert done.sides_on("Mirage") == {"bob": "CT", "alice": "T"}
    assert done.sides_on("Inferno") == {"alice": "T", "bob": "CT"}
    assert done.taken[-1].action == "decider" and done.taken[-1].by is None


def test_every_turn_is_an_event_with_the_whole_veto() -> None:
    """A turn announces veto_updated with the veto after it and what was taken."""
    outcome = veto.take(begun(), ALICE, "nuke", None, T0 + 1)  # map names match in any case
    ((kind, data),) = outcome.events
    assert kind == ev.VETO_UPDATED and data["taken"][0]["map"] == "Nuke"
    assert data["veto"]["turn"] == {"index": 1, "action": "ban", "by": "bob"}
    assert "Nuke" not in data["veto"]["remaining"]


def test_the_last_ban_leaves_the_decider_in_the_same_event() -> None:
    """The turn that leaves one map also takes the decider: one event carries both."""
    match = turns(begun(1), "Nuke", "Train", "Mirage", "Inferno", "Ancient")
    outcome = veto.take(match, BOB, "Anubis", None, T0 + 2)
    assert [t["action"] for t in outcome.events[0][1]["taken"]] == ["ban", "decider"]
    assert outcome.match.veto is not None and outcome.match.veto.maps == ("Dust2",)


def test_turn_refusals_carry_the_state() -> None:
    """The wrong player, the wrong action, a map already gone and a map not in the pool are
    refused with their codes; an organizer takes any turn for its player."""
    match = begun()
    with pytest.raises(InvalidTransitionError) as caught:
        veto.take(match, BOB, "Nuke", None, T0)
    assert caught.value.code == "not_your_turn" and caught.value.details["turn"] == "alice"
    with pytest.raises(InvalidTransitionError) as caught:
        veto.take(match, ALICE, "Nuke", "pick", T0)
    assert caught.value.code == "wrong_action"
    match = veto.take(match, ORGANIZER, "Nuke", "ban", T0).match
    assert match.veto is not None and match.veto.taken[0].by == "alice"  # taken for alice
    with pytest.raises(InvalidTransitionError) as caught:
        veto.take(match, BOB, "nuke", None, T0)
    assert caught.value.code == "map_taken" and "Nuke" not in caught.value.details["remaining"]
    with pytest.raises(InvalidValueError) as unknown:
        veto.take(match, BOB, "Cache", None, T0)
    assert unknown.value.details == {"field": "map", "state": "ready", "turn": "bob", "action": "ban",
                                     "remaining": ["Ancient", "Anubis", "Dust2", "Inferno", "Mirage", "Train"]}


def test_a_side_turn_takes_a_side() -> None:
    """After a pick, the opponent picks one of the two sides; anything else is a bad value."""
    match = turns(begun(), "Nuke", "Train", "Mirage")
    with pytest.raises(InvalidValueError) as caught:
        veto.take(match, BOB, "Inferno", None, T0)
    assert caught.value.details == {"field": "side", "state": "ready", "turn": "bob", "action": "side",
                                    "remaining": ["Ancient", "Anubis", "Dust2", "Inferno"]}
    assert turns(match, "ct").veto.taken[-1].side == "CT"  # type: ignore[union-attr]


def test_no_veto_and_a_complete_veto_refuse_turns() -> None:
    """A turn without a veto is no_veto; after the decider, veto_complete."""
    with pytest.raises(InvalidTransitionError) as caught:
        veto.take(ready(), ALICE, "Nuke", None, T0)
    assert caught.value.code == "no_veto"
    done = turns(begun(1, veto.VetoConfig(pool=("A", "B"))), "A")
    with pytest.raises(InvalidTransitionError) as caught:
        veto.take(done, BOB, "B", None, T0)
    assert caught.value.code == "veto_complete"


def test_who_starts() -> None:
    """The better seed starts (the first slot if unseeded); a coin flip follows its seed; an
    organizer must name the player."""
    match = ready()
    assert veto.first_of(match, "higher_seed", {"alice": 4, "bob": 2}, 0, None) == "bob"
    assert veto.first_of(match, "higher_seed", {}, 0, None) == "alice"
    flips = {veto.first_of(match, "coin_flip", {}, seed, None) for seed in range(20)}
    assert flips == {"alice", "bob"}
    assert veto.first_of(match, "coin_flip", {}, 7, None) == veto.first_of(match, "coin_flip", {}, 7, None)
    assert veto.first_of(match, "organizer", {}, 0, "bob") == "bob"
    with pytest.raises(InvalidValueError):
        veto.first_of(match, "organizer", {}, 0, None)


def test_the_vetoed_maps_become_the_games_maps() -> None:
    """A series started after its veto plays game 1 on the first pick with its sides; a start
    while the veto runs is refused."""
    match = begun()
    with pytest.raises(InvalidTransitionError) as caught:
        rules.start(match, T0)
    assert caught.value.code == "veto_in_progress"
    match = turns(match, "Nuke", "Train", "Mirage", "CT", "Inferno", "T", "Ancient", "Anubis")
    live = rules.start(match, T0 + 5)
    assert live.events[1] == (ev.GAME_STARTED, {"game": 1, "scores": {"alice": 0, "bob": 0}, "winner_id": None,
                                                "map": "Mirage", "sides": {"bob": "CT", "alice": "T"}})
    second = rules.report_result(live.match, ORGANIZER, {"alice": 13, "bob": 4}, T0 + 6).match
    assert (second.games[1].map, second.games[1].sides) == ("Inferno", {"alice": "T", "bob": "CT"})


# -- timers ------------------------------------------------------------------------------------

@dataclasses.dataclass
class World:
    store: MemoryStore
    scheduler: FakeScheduler
    matches: MatchService
    publisher: Recorder


@pytest.fixture
def world(io_loop: Any) -> World:
    store = MemoryStore()
    clock = FakeClock(T0)
    io_loop.run_sync(lambda: store.insert_tournament(Tournament(
        id="t_1", name="Cup", game="CS2", format="single_elimination", state="draft", created_by="org",
        created_at=T0)))
    io_loop.run_sync(lambda: store.insert_match(ready()))
    scheduler = FakeScheduler(clock)
    publisher = Recorder()
    matches = MatchService(store, MatchWriter(store, publisher, clock), NoBracket(), scheduler, clock)
    return World(store, scheduler, matches, publisher)


@pytest.mark.gen_test
async def test_a_turn_that_runs_out_is_taken_at_random_from_the_seed(world: World) -> None:
    """With turn_s 30, alice's ban is taken for her at 30 s (auto, the same map for the same
    seed), and Bob's turn gets its own 30 s."""
    config = dataclasses.replace(CS2, turn_s=30)
    await world.matches.start_veto("m_1", ORGANIZER, config, rng_seed=42)
    await world.scheduler.advance_async(29.9)
    assert (await world.store.get_match("m_1")).veto.taken == ()  # type: ignore[union-attr]
    await world.scheduler.advance_async(0.1)
    after = (await world.store.get_match("m_1")).veto
    assert after is not None and len(after.taken) == 1 and after.taken[0].auto and after.taken[0].by == "alice"
    replay = veto.timeout(begun(config=config), 0, T0 + 30).match.veto
    assert replay is not None and replay.taken[0].map == after.taken[0].map
    assert after.deadline == pytest.approx(T0 + 60)
    await world.matches.take_veto_turn("m_1", BOB, after.remaining[0])
    assert len(world.scheduler.pending) == 1 and world.scheduler.pending[0].deadline == pytest.approx(T0 + 60)


@pytest.mark.gen_test
async def test_a_turn_taken_in_time_stops_its_timer(world: World) -> None:
    """Alice bans at 10 s: her timer is cancelled and Bob's runs from then."""
    await world.matches.start_veto("m_1", ORGANIZER, dataclasses.replace(CS2, turn_s=30), rng_seed=1)
    await world.scheduler.advance_async(10)
    await world.matches.take_veto_turn("m_1", ALICE, "Nuke")
    await world.scheduler.advance_async(25)
    assert len((await world.store.get_match("m_1")).veto.taken) == 1  # type: ignore[union-attr]
    await world.scheduler.advance_async(5)
    assert len((await world.store.get_match("m_1")).veto.taken) == 2  # type: ignore[union-attr]


@pytest.mark.gen_test
async def test_wait_leaves_the_turn_to_its_player(world: World) -> None:
    """With on_timeout wait, a turn's time running out takes nothing and stops the clock."""
    await world.matches.start_veto("m_1", ORGANIZER, dataclasses.replace(CS2, turn_s=30, on_timeout="wait"))
    await world.scheduler.advance_async(31)
    after = (await world.store.get_match("m_1")).veto
    assert after is not None and after.taken == () and after.deadline is None
    assert world.publisher.of("m_1", ev.VETO_UPDATED)[-1].data["expired"] == 0
    assert world.scheduler.pending == []


@pytest.mark.gen_test
async def test_the_tournament_pool_is_the_default(world: World) -> None:
    """Without a config the tournament's veto settings apply; without those the start is a 422."""
    with pytest.raises(InvalidValueError):
        await world.matches.start_veto("m_1", ORGANIZER)
    tournament = await world.store.get_tournament("t_1")
    await world.store.save_tournament(dataclasses.replace(tournament, settings={"veto": CS2.to_json()},
                                                          version=tournament.version + 1))
    match = await world.matches.start_veto("m_1", ORGANIZER)
    assert match.veto is not None and match.veto.pool == POOL


@pytest.mark.gen_test
async def test_close_stops_the_turn_timers(world: World) -> None:
    """At shutdown no veto timer is left to fire."""
    await world.matches.start_veto("m_1", ORGANIZER, dataclasses.replace(CS2, turn_s=30))
    await world.matches.close()
    assert world.scheduler.pending == []


def test_changing_the_format_clears_the_veto() -> None:
    """A veto is made for a number of games: a new format clears it (announced), to be started again."""
    outcome = rules.set_format(begun(3), SeriesFormat(5), T0 + 1)
    assert outcome.match.veto is None and outcome.match.format == SeriesFormat(5)
    assert [kind for kind, _ in outcome.events] == [ev.SERIES_UPDATED, ev.VETO_UPDATED]
    assert outcome.events[1][1] == {"veto": None, "cleared": True}


def test_a_side_for_a_map_turn_is_the_wrong_action() -> None:
    """The key says what is taken: a side on a ban turn, or a map on a side turn, is wrong_action."""
    with pytest.raises(InvalidTransitionError) as caught:
        veto.take(begun(), ALICE, "CT", None, T0, side=True)
    assert caught.value.code == "wrong_action" and caught.value.details["action"] == "ban"
    match = turns(begun(), "Nuke", "Train", "Mirage")
    with pytest.raises(InvalidTransitionError) as caught:
        veto.take(match, BOB, "Inferno", None, T0, side=False)
    assert caught.value.code == "wrong_action"


@pytest.mark.gen_test
async def test_a_match_changes_the_tournament_veto_but_its_pool(world: World) -> None:
    """Without a pool, the body's other fields change the tournament's veto for this match."""
    tournament = await world.store.get_tournament("t_1")
    await world.store.save_tournament(dataclasses.replace(tournament, settings={"veto": CS2.to_json()},
                                                          version=tournament.version + 1))
    match = await world.matches.start_veto("m_1", ORGANIZER, first_id="bob",
                                           overrides={"first": "organizer", "turn_s": 60})
    assert match.veto is not None and (match.veto.pool, match.veto.first, match.veto.turn_s) == (POOL, "bob", 60)


# -- a stage's own veto ------------------------------------------------------------------------

GROUP_POOL = ("Ascent", "Bind", "Haven", "Icebox", "Lotus", "Split", "Sunset")
PLAYOFF_POOL = ("Mirage", "Inferno", "Nuke")


async def groups_started(services: Services, body: dict[str, Any]) -> str:
    """A groups-then-playoffs tournament of 4 (groups A: p1, p4 and B: p2, p3; the winners to a
    final), started through the service with the start body's `groups`, `series` and `veto`."""
    store = services.store
    await store.insert_tournament(Tournament(id="tg", name="Cup", game="", format=stages.FORMAT,
                                             state=TournamentState.REGISTRATION, created_by="org", created_at=T0))
    for i in range(1, 5):
        await store.insert_participant(Participant(id=f"p{i}", tournament_id="tg", name=f"P{i}", seed=i,
                                                   created_at=T0 + i))
    options = StartOptions(groups=stages.config_from({"count": 2, "advance": 1, **body.get("groups", {})}),
                           series=series.rules_from(body.get("series")),
                           veto=veto.config_from(body["veto"]) if "veto" in body else None)
    await services.brackets.start("tg", ORGANIZER, options)
    return "tg"


async def final_opened(services: Services, tid: str) -> str:
    """Both group matches forfeited by their lower seed: the playoff's final opens; its id."""
    for mid, loser in ((f"{tid}-A_R1-1", "p4"), (f"{tid}-B_R1-1", "p3")):
        await services.matches.forfeit(mid, ORGANIZER, loser)
    final = await services.store.get_match(f"{tid}-W1-1")
    assert final.players == ("p1", "p2")
    return final.id


@pytest.mark.gen_test(timeout=30)
async def test_a_group_match_vetoes_the_groups_pool_and_the_playoff_the_tournaments(services: Services) -> None:
    """groups.veto is the group matches' default (BO1 from 7 maps: six bans), the top-level veto
    the playoff's (BO3 from 3 maps); a per-match body still overrides either."""
    tid = await groups_started(services, {
        "groups": {"veto": {"pool": list(GROUP_POOL), "first": "coin_flip"}}, "veto": {"pool": list(PLAYOFF_POOL)},
        "series": {"best_of": 1, "rounds": {"W": {"best_of": 3}}}})
    settings = (await services.store.get_tournament(tid)).settings
    assert settings["groups"]["veto"] == veto.VetoConfig(pool=GROUP_POOL, first="coin_flip").to_json()
    assert settings["veto"]["pool"] == list(PLAYOFF_POOL)
    group = await services.matches.start_veto(f"{tid}-A_R1-1", ORGANIZER, rng_seed=5)
    assert group.veto is not None and (group.veto.pool, group.veto.chosen_by) == (GROUP_POOL, "coin_flip")
    assert [s.action for s in group.veto.steps] == ["ban"] * 6
    own = await services.matches.start_veto(f"{tid}-B_R1-1", ORGANIZER, veto.VetoConfig(pool=("X", "Y")))
    assert own.veto is not None and own.veto.pool == ("X", "Y")  # the match's own body wins
    final = await services.matches.start_veto(await final_opened(services, tid), ORGANIZER)
    assert final.veto is not None and (final.veto.pool, final.veto.chosen_by) == (PLAYOFF_POOL, "higher_seed")
    assert [s.action for s in final.veto.steps] == ["pick", "pick"]  # 3 games from 3 maps


@pytest.mark.gen_test(timeout=30)
async def test_without_a_groups_veto_every_match_vetoes_the_tournaments_pool(services: Services) -> None:
    """No groups.veto: the group matches and the playoff both take the top-level veto; with no
    veto anywhere a match's start-veto is the 422 on pool."""
    tid = await groups_started(services, {"veto": {"pool": list(PLAYOFF_POOL)}})
    assert (await services.store.get_tournament(tid)).settings["groups"]["veto"] is None
    group = await services.matches.start_veto(f"{tid}-A_R1-1", ORGANIZER)
    assert group.veto is not None and group.veto.pool == PLAYOFF_POOL
    final = await services.matches.start_veto(await final_opened(services, tid), ORGANIZER)
    assert final.veto is not None and final.veto.pool == PLAYOFF_POOL


@pytest.mark.gen_test(timeout=30)
async def test_only_the_groups_have_a_pool(services: Services) -> None:
    """groups.veto alone: the group matches veto it, the playoff has no default (422 on pool)."""
    tid = await groups_started(services, {"groups": {"veto": {"pool": list(GROUP_POOL)}}})
    assert (await services.matches.start_veto(f"{tid}-A_R1-1", ORGANIZER)).veto is not None
    with pytest.raises(InvalidValueError) as caught:
        await services.matches.start_veto(await final_opened(services, tid), ORGANIZER)
    assert caught.value.details["field"] == "pool"


@pytest.mark.parametrize("body, field, words", [
    ({"groups": {"veto": {"pool": ["Ascent", "Bind"]}}, "series": {"best_of": 1, "rounds": {"G": {"best_of": 3}}}},
     "groups.veto", "groups.veto.pool: 3 games need at least 3 maps, not 2"),
    ({"groups": {"veto": {"pool": list(GROUP_POOL), "sequence": ["ban"] * 6}},
      "series": {"best_of": 1, "rounds": {"G": {"best_of": 3}}}}, "groups.veto", "groups.veto.sequence: 3 games"),
    ({"groups": {"veto": {"pool": list(GROUP_POOL)}}, "veto": {"pool": ["Mirage", "Nuke"]},
      "series": {"best_of": 1, "rounds": {"W": {"best_of": 3}}}}, "veto", "veto.pool: 3 games need at least 3"),
    ({"veto": {"pool": ["Mirage", "Nuke"]}, "series": {"best_of": 1, "rounds": {"G": {"best_of": 3}}}},
     "veto", "veto.pool: 3 games need at least 3 maps"),  # no groups.veto: the top-level one serves the groups
])
@pytest.mark.gen_test(timeout=30)
async def test_a_stage_veto_that_does_not_fit_its_formats_is_refused(services: Services, body: dict[str, Any],
                                                                     field: str, words: str) -> None:
    """Each stage's veto is checked against its own matches' formats, the refusal naming the
    stage's option; nothing starts."""
    with pytest.raises(InvalidValueError) as caught:
        await groups_started(services, body)
    assert caught.value.details["field"] == field and words in str(caught.value)
    assert (await services.store.get_tournament("tg")).state == TournamentState.REGISTRATION
    assert await services.store.list_matches("tg") == []


@pytest.mark.gen_test(timeout=30)
async def test_each_stage_is_checked_against_its_own_formats_only(services: Services) -> None:
    """BO5 groups with their own 7 maps and a BO1 playoff on a 2-map pool: each pool fits its
    stage, so the start goes through (the 2 maps would not do for the groups)."""
    tid = await groups_started(services, {"groups": {"veto": {"pool": list(GROUP_POOL)}},
                                          "veto": {"pool": ["Mirage", "Nuke"]},
                                          "series": {"best_of": 1, "rounds": {"G": {"best_of": 5}}}})
    group = await services.matches.start_veto(f"{tid}-A_R1-1", ORGANIZER)
    assert group.veto is not None and [s.action for s in group.veto.steps] == ["ban", "ban", "pick", "pick",
                                                                              "pick", "pick"]


@pytest.mark.gen_test(timeout=30)
async def test_a_later_swiss_rounds_format_must_fit_the_pool(services: Services) -> None:
    """Swiss round 3 as best of 5 (made only when round 2 is decided) is checked at the start."""
    store = services.store
    await store.insert_tournament(Tournament(id="ts", name="Cup", game="", format="swiss",
                                             state=TournamentState.REGISTRATION, created_by="org", created_at=T0))
    for i in range(1, 9):
        await store.insert_participant(Participant(id=f"p{i}", tournament_id="ts", name=f"P{i}", seed=i,
                                                   created_at=T0 + i))
    options = StartOptions(series=series.rules_from({"best_of": 1, "rounds": {"S3": {"best_of": 5}}}),
                           veto=veto.VetoConfig(pool=PLAYOFF_POOL))
    with pytest.raises(InvalidValueError, match="veto.pool: 5 games need at least 5 maps, not 3"):
        await services.brackets.start("ts", ORGANIZER, options)
    assert await store.list_matches("ts") == []
