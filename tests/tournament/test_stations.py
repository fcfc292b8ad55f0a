"""Stations and the call queue on a fake clock: queue order, auto-assignment (never two matches
on one station, never a player in two called matches, stations freed on completion, forfeit
and cancel), ETAs, the check-in timer and no-shows."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock, FakeScheduler
from tournament import callqueue, calls
from tournament import events as ev
from tournament.bracket_service import BracketService, StartOptions
from tournament.series import SeriesRules
from tournament.errors import AlreadyExistsError, InvalidTransitionError, InvalidValueError
from tournament.events import Fanout, RecordingPublisher
from tournament.locks import KeyedLocks
from tournament.matches import MatchService
from tournament.models import (FINAL_STATES, CallPolicy, Match, MatchState, Participant, SeriesFormat, Station,
                               Tournament, TournamentState, iso)
from tournament.roles import Principal, Role
from tournament.stations import CallBell, StationService
from tournament.store import NotFoundError
from tournament.writer import MatchWriter

ORG = Principal("org", "Org", Role.ORGANIZER)


def player(pid: str) -> Principal:
    return Principal(pid, pid.upper(), Role.PLAYER)


class Event:
    """A tournament on a fake clock, with every service the stations need."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.scheduler = FakeScheduler(self.clock)
        self.store = MemoryStore()
        self.events = RecordingPublisher()
        self.bell = CallBell()
        publisher = Fanout(self.events, self.bell)
        writer = MatchWriter(self.store, publisher, self.clock)
        locks = KeyedLocks()
        self.brackets = BracketService(self.store, writer, publisher, self.clock, locks)
        self.matches = MatchService(self.store, writer, self.brackets, self.scheduler, self.clock, 0.0)
        self.stations = StationService(self.store, writer, self.matches, publisher, self.scheduler, self.bell,
                                       self.clock, locks)
        self.tid = "t1"

    async def start(self, n: int, fmt: str = "double_elimination", options: StartOptions = StartOptions()) -> None:
        await self.store.insert_tournament(Tournament(id=self.tid, name="LAN", game="", format=fmt,
                                                      state=TournamentState.REGISTRATION, created_by="org",
                                                      created_at=1.0))
        for i in range(1, n + 1):
            await self.store.insert_participant(Participant(id=f"p{i}", tournament_id=self.tid, name=f"P{i}",
                                                            seed=i, created_at=1.0 + i))
        await self.brackets.start(self.tid, ORG, options)

    async def add_stations(self, count: int, **policy: Any) -> list[Station]:
        added = [await self.stations.add_station(self.tid, ORG, f"Station {i}") for i in range(1, count + 1)]
        if policy:
            await self.stations.set_calling(self.tid, ORG, **policy)
        return added

    async def all(self) -> list[Match]:
        return await self.store.list_matches(self.tid)

    async def called(self) -> list[Match]:
        return [m for m in await self.all() if calls.is_called(m)]

    async def settle_queue(self) -> None:
        """Answer the bell as the running service would (until nothing more is due)."""
        while self.bell._due:
            for tid in await self.bell.rung():
                await self.stations.fill(tid)

    async def play(self, match: Match) -> None:
        """Both players check in and play; the higher seed (lower number) wins."""
        a, b = match.players
        for pid in match.players:
            if pid not in (await self.store.get_match(match.id)).checked_in:
                await self.matches.check_in(match.id, player(pid))
        await self.matches.start(match.id, player(a))
        winner = min((a, b), key=lambda p: int(p[1:]))
        await self.matches.report_result(match.id, ORG, {winner: 2, (b if winner == a else a): 0})
        await self.settle_queue()


def check_invariants(matches: list[Match]) -> None:
    """Never two open matches on one station, never a player in two called or played matches."""
    stations = [m.call.station_id for m in matches if calls.is_called(m) and m.call]
    assert len(stations) == len(set(stations)), stations
    engaged = [p for m in matches if calls.is_called(m) or m.state in calls.PLAYING for p in m.players]
    assert len(engaged) == len(set(engaged)), engaged


# -- the queue, pure ----------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_queue_order_is_earliest_round_first_then_bracket_order() -> None:
    lan = Event()
    await lan.start(8)
    order = [m.slot.key for m in callqueue.order(await lan.all()) if m.slot]
    # W1 before anything it feeds; a losers round right after the winners round whose losers it takes
    assert order[:4] == ["W1-1", "W1-2", "W1-3", "W1-4"]
    assert order.index("L1-1") < order.index("W3-1") and order.index("W2-1") < order.index("L1-1")
    assert order.index("L2-1") > order.index("W2-2")
    assert order[-2:] == ["GF1", "GF2"]
    ready = [m.slot.key for m in callqueue.waiting(await lan.all()) if len(m.players) == 2 and m.slot]
    assert ready == ["W1-1", "W1-2", "W1-3", "W1-4"]


@pytest.mark.gen_test
async def test_plan_never_puts_a_player_on_two_stations_in_a_round_robin() -> None:
    """In a round robin every player has several matches waiting: only one each is called."""
    lan = Event()
    await lan.start(4, "round_robin")
    stations = [Station(f"s{i}", f"S{i}") for i in range(4)]
    plan = callqueue.plan(await lan.all(), stations, CallPolicy())
    assert len(plan) == 2  # 4 players: two matches at once, whatever the stations
    by_id = {m.id: m for m in await lan.all()}
    players = [p for mid, _ in plan for p in by_id[mid].players]
    assert len(players) == len(set(players)) == 4
    assert len({sid for _, sid in plan}) == 2


@pytest.mark.gen_test
async def test_a_disabled_station_gets_no_match_and_the_stream_takes_the_top_seeds() -> None:
    lan = Event()
    await lan.start(8, "single_elimination")
    stations = [Station("s1", "S1", enabled=False), Station("s2", "S2"), Station("tv", "Stream", stream=True)]
    matches = await lan.all()
    seeds = {f"p{i}": i for i in range(1, 9)}
    plan = {sid: mid for mid, sid in callqueue.plan(matches, stations, CallPolicy(stream_first="top_seeds"), seeds)}
    assert set(plan) == {"s2", "tv"}
    by_id = {m.id: m for m in matches}
    assert sorted(by_id[plan["tv"]].players) == ["p1", "p8"]  # 1 + 8 ties 4 + 5: the first of equals
    seeds.update(p2=1, p7=2, p1=9, p4=9)  # now the 2 v 7 pairing holds the best seeds
    plan = {sid: mid for mid, sid in callqueue.plan(matches, stations, CallPolicy(stream_first="top_seeds"), seeds)}
    assert sorted(by_id[plan["tv"]].players) == ["p2", "p7"]
    plain = {sid: mid for mid, sid in callqueue.plan(matches, stations, CallPolicy(), seeds)}
    assert by_id[plain["tv"]].slot.key == "W1-1"  # type: ignore[union-attr]  # stream first, in queue order


@pytest.mark.gen_test
async def test_etas_follow_stations_and_feeders() -> None:
    lan = Event()
    await lan.start(8, "single_elimination")
    now = lan.clock()
    two = [Station("a", "A"), Station("b", "B")]
    etas = callqueue.etas(await lan.all(), two, now)
    by_key = {m.slot.key: m.id for m in await lan.all() if m.slot}
    game = callqueue.DEFAULT_GAME_S
    assert etas[by_key["W1-1"]] == now and etas[by_key["W1-2"]] == now
    assert etas[by_key["W1-3"]] == now + game and etas[by_key["W1-4"]] == now + game
    assert etas[by_key["W2-1"]] == now + 2 * game  # after the stations free up, and after W1-1 and W1-2
    assert etas[by_key["W3-1"]] == now + 3 * game
    assert callqueue.etas(await lan.all(), [], now) == {}


@pytest.mark.gen_test
async def test_a_match_past_the_queue_rows_keeps_its_eta_in_the_view() -> None:
    """256 players: the view's rows stop at 100, and `etas` holds the ETA of every later queued
    match with a player known (W1-101 to W1-128, then the round 2 match a winner is seated in),
    none of the matches no player is known in yet."""
    lan = Event()
    await lan.start(256, "single_elimination")
    first, *_ = await lan.add_stations(4)
    view = await lan.stations.queue(lan.tid)
    matches = await lan.all()
    by_key = {m.slot.key: m for m in matches if m.slot}
    assert len(view["queue"]) == callqueue.QUEUE_ROWS_MAX and view["queue_total"] == 255
    assert view["queue"][-1]["match_id"] == by_key["W1-100"].id
    later = [by_key[f"W1-{i}"].id for i in range(101, 129)]
    assert list(view["etas"]) == later
    last = lan.clock() + 31 * callqueue.DEFAULT_GAME_S  # four stations: the 32nd wave of W1 matches
    assert view["etas"][later[-1]] == iso(round(last / 60) * 60)
    assert view["etas"][later[-1]] > view["queue"][-1]["eta"]

    await lan.stations.call(by_key["W1-1"].id, ORG, first.id)
    await lan.play(by_key["W1-1"])
    view = await lan.stations.queue(lan.tid)
    assert by_key["W2-1"].id in view["etas"] and by_key["W2-2"].id not in view["etas"]  # p1 is seated in W2-1
    assert by_key["W1-101"].id not in view["etas"]  # a row now: the queue moved up
    assert [row["match_id"] for row in view["queue"]][-1] == by_key["W1-101"].id


def test_durations_are_measured_per_format_and_scaled_by_games() -> None:
    def done(mid: str, best_of: int, held: float) -> Match:
        return Match(id=mid, tournament_id="t", participant_ids=("a", "b"), state=MatchState.COMPLETED,
                     created_at=0.0, updated_at=held, started_at=0.0, ended_at=held,
                     format=SeriesFormat(best_of=best_of))

    d = callqueue.Durations.measure([done("m1", 1, 300.0), done("m2", 1, 500.0), done("m3", 3, 1000.0)])
    assert d.of(SeriesFormat()) == 400.0 and d.of(SeriesFormat(best_of=3)) == 1000.0
    assert d.of(SeriesFormat(best_of=5)) == d.per_game * 4  # no BO5 measured: per game, 4 games expected
    assert callqueue.Durations.measure([]).of(SeriesFormat()) == callqueue.DEFAULT_GAME_S


# -- the service ----------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_auto_assign_runs_a_whole_double_elimination_without_double_booking() -> None:
    lan = Event()
    await lan.start(16)
    await lan.add_stations(4, auto_assign=True)
    played = 0
    while True:
        check_invariants(await lan.all())
        called = await lan.called()
        if not called:
            break
        assert len(called) <= 4
        await lan.play(called[0])
        played += 1
    matches = await lan.all()
    assert all(m.state in FINAL_STATES for m in matches)
    real = [m for m in matches if m.slot and not m.slot.walkover]
    assert played == len(real) == 30  # 15 winners, 14 losers, GF1 (GF2 not needed): each called once
    assert all(m.call is not None for m in real)
    tournament = await lan.store.get_tournament(lan.tid)
    assert tournament.state == TournamentState.COMPLETED


@pytest.mark.gen_test
async def test_a_called_match_frees_its_station_when_it_ends_by_forfeit_or_cancel() -> None:
    lan = Event()
    await lan.start(4, "round_robin")
    (one,) = await lan.add_stations(1)
    queue = callqueue.waiting(await lan.all())
    first, second = queue[0], queue[1]
    await lan.stations.call(first.id, ORG, one.id)
    with pytest.raises(InvalidTransitionError) as busy:
        await lan.stations.call(second.id, ORG, one.id)
    assert busy.value.code == "station_busy" and busy.value.details["match_id"] == first.id
    await lan.matches.forfeit(first.id, ORG, first.players[0])
    await lan.stations.call(second.id, ORG, one.id)  # freed by the forfeit
    ad_hoc = Match(id="m_x", tournament_id=lan.tid, participant_ids=("p1", "p2"), state=MatchState.SCHEDULED,
                   created_at=1.0, updated_at=1.0)
    await lan.store.insert_match(ad_hoc)
    await lan.matches.cancel(second.id, ORG) if second.slot is None else await lan.matches.forfeit(
        second.id, ORG, second.players[0])
    called = await lan.stations.call(ad_hoc.id, ORG, one.id)
    assert called.call and called.call.station_id == one.id and called.state is MatchState.CHECK_IN


@pytest.mark.gen_test
async def test_a_player_is_never_called_to_two_matches() -> None:
    lan = Event()
    await lan.start(3, "round_robin")
    a, b = await lan.add_stations(2)
    first, *rest = [m for m in callqueue.waiting(await lan.all()) if len(m.players) == 2]
    await lan.stations.call(first.id, ORG, a.id)
    sharing = next(m for m in rest if set(m.players) & set(first.players))
    with pytest.raises(InvalidTransitionError) as refused:
        await lan.stations.call(sharing.id, ORG, b.id)
    assert refused.value.code == "player_busy"
    assert refused.value.details["participant_ids"] == sorted(set(sharing.players) & set(first.players))


@pytest.mark.gen_test
async def test_refusals_name_what_is_wrong() -> None:
    lan = Event()
    await lan.start(4, "single_elimination")
    a, b = await lan.add_stations(2)
    with pytest.raises(AlreadyExistsError):
        await lan.stations.add_station(lan.tid, ORG, "station 1")
    await lan.stations.update_station(lan.tid, b.id, ORG, enabled=False)
    w1, w2 = [m for m in await lan.all() if m.slot and m.slot.key in ("W1-1", "W1-2")]
    with pytest.raises(InvalidTransitionError) as disabled:
        await lan.stations.call(w1.id, ORG, b.id)
    assert disabled.value.code == "station_disabled"
    with pytest.raises(NotFoundError):
        await lan.stations.call(w1.id, ORG, "st_nope")
    final = next(m for m in await lan.all() if m.slot and m.slot.key == "W2-1")
    with pytest.raises(InvalidTransitionError) as missing:
        await lan.stations.call(final.id, ORG, a.id)
    assert missing.value.code == "players_missing"
    await lan.stations.call(w1.id, ORG, a.id)
    with pytest.raises(InvalidTransitionError) as again:
        await lan.stations.call(w1.id, ORG, a.id)
    assert again.value.code == "already_called"
    with pytest.raises(InvalidTransitionError) as removing:
        await lan.stations.remove_station(lan.tid, a.id, ORG)
    assert removing.value.code == "station_busy"
    with pytest.raises(InvalidTransitionError) as not_called:
        await lan.stations.uncall(w2.id, ORG)
    assert not_called.value.code == "not_called"
    with pytest.raises(InvalidValueError):
        await lan.stations.set_calling(lan.tid, ORG, check_in_s=1)
    with pytest.raises(InvalidValueError):
        await lan.stations.set_calling(lan.tid, ORG, stream_first="loudest")
    back = await lan.stations.uncall(w1.id, ORG, "wrong setup")
    assert back.call is None and back.state is MatchState.CHECK_IN
    await lan.stations.remove_station(lan.tid, a.id, ORG)
    assert [s.id for s in (await lan.store.get_tournament(lan.tid)).stations] == [b.id]


@pytest.mark.gen_test
async def test_check_in_timer_flags_no_shows_and_can_forfeit_a_one_sided_one() -> None:
    lan = Event()
    await lan.start(4, "single_elimination")
    a, b = await lan.add_stations(2, check_in_s=300, forfeit_no_show=True, auto_assign=True)
    w1, w2 = sorted(await lan.called(), key=lambda m: m.slot.key)  # type: ignore[union-attr]
    assert w1.call and w1.call.deadline == lan.clock() + 300.0
    await lan.matches.check_in(w1.id, player(w1.players[0]))  # one shows up at W1-1, nobody at W1-2
    await lan.scheduler.advance_async(299.0)
    assert not (await lan.store.get_match(w1.id)).call.expired  # type: ignore[union-attr]
    await lan.scheduler.advance_async(1.0)
    one_sided = await lan.store.get_match(w1.id)
    assert one_sided.state is MatchState.FORFEIT and one_sided.winner_id == w1.players[0]
    assert one_sided.call and one_sided.call.no_show == (w1.players[1],)
    both = await lan.store.get_match(w2.id)
    assert both.state is MatchState.CHECK_IN and both.call and both.call.expired  # the organizer decides
    assert set(both.call.no_show) == set(w2.players)
    kinds = [e.type for e in lan.events.events if e.data.get("match_id") == w2.id]
    assert kinds[-1] == ev.CALL_EXPIRED


@pytest.mark.gen_test
async def test_checking_in_in_time_makes_the_match_ready_and_the_timer_changes_nothing() -> None:
    lan = Event()
    await lan.start(2, "single_elimination")
    await lan.add_stations(1, check_in_s=60, auto_assign=True)
    (match,) = await lan.called()
    for pid in match.players:
        await lan.matches.check_in(match.id, player(pid))
    await lan.scheduler.advance_async(120.0)
    after = await lan.store.get_match(match.id)
    assert after.state is MatchState.READY and after.call and not after.call.expired


@pytest.mark.gen_test
async def test_resume_re_arms_a_timer_whose_deadline_passed_while_down() -> None:
    lan = Event()
    await lan.start(2, "single_elimination")
    await lan.add_stations(1, check_in_s=60, auto_assign=True)
    (match,) = await lan.called()
    await lan.stations.close()  # the process stops: its timers go
    lan.clock.advance(600.0)
    restarted = StationService(lan.store, lan.stations._writer, lan.matches, lan.events, lan.scheduler, lan.bell,
                               lan.clock)
    await restarted.resume(lan.tid)
    await lan.scheduler.advance_async(0.0)
    after = await lan.store.get_match(match.id)
    assert after.call and after.call.expired and set(after.call.no_show) == set(match.players)


@pytest.mark.gen_test
async def test_the_queue_is_announced_when_it_changes_and_not_otherwise() -> None:
    lan = Event()
    await lan.start(4, "single_elimination")
    await lan.add_stations(1)
    announced = [e for e in lan.events.events if e.type == ev.QUEUE_UPDATED]
    assert announced and [r["key"] for r in announced[-1].data["queue"]["queue"]][:2] == ["W1-1", "W1-2"]
    count = len(announced)
    await lan.stations.fill(lan.tid)  # nothing moved
    assert len([e for e in lan.events.events if e.type == ev.QUEUE_UPDATED]) == count
    w1 = next(m for m in await lan.all() if m.slot and m.slot.key == "W1-1")
    await lan.stations.call(w1.id, ORG, (await lan.store.get_tournament(lan.tid)).stations[0].id)
    last = [e for e in lan.events.events if e.type == ev.QUEUE_UPDATED][-1].data["queue"]
    assert last["stations"][0]["match"]["match_id"] == w1.id
    assert [r["key"] for r in last["queue"]] == ["W1-2", "W2-1"]
    assert last["queue"][1]["waiting_for"] == ["winner of W1-1", "winner of W1-2"]
    assert dataclasses.asdict(CallPolicy()) == {**last["calling"], "auto_assign": False}


@pytest.mark.gen_test
async def test_a_correction_that_resets_a_called_match_frees_its_station() -> None:
    lan = Event()
    await lan.start(4, "single_elimination")
    (one,) = await lan.add_stations(1)
    w1, w2 = [m for m in callqueue.waiting(await lan.all()) if len(m.players) == 2]
    for match in (w1, w2):
        await lan.stations.call(match.id, ORG, one.id)
        await lan.play(await lan.store.get_match(match.id))
    final = next(m for m in await lan.all() if m.slot and m.slot.key == "W2-1")
    await lan.stations.call(final.id, ORG, one.id)
    winner = (await lan.store.get_match(w1.id)).winner_id
    assert winner is not None
    loser = next(p for p in w1.players if p != winner)
    await lan.brackets.correct(w1.id, ORG, {loser: 3, winner: 1}, force=True)
    reset = await lan.store.get_match(final.id)
    assert reset.state is MatchState.SCHEDULED and reset.call is None
    assert callqueue.occupied(await lan.all()) == {}


@pytest.mark.gen_test
async def test_a_match_taken_off_under_auto_assign_is_held_until_called_by_hand() -> None:
    lan = Event()
    await lan.start(2, "single_elimination")
    (one,) = await lan.add_stations(1, auto_assign=True)
    (match,) = await lan.called()
    back = await lan.stations.uncall(match.id, ORG, "the PC is down")
    assert back.call is None and back.held
    await lan.settle_queue()
    assert await lan.called() == []  # the free station did not take it straight back
    (row,) = (await lan.stations.queue(lan.tid))["queue"]
    assert row["held"] and row["eta"] is not None
    again = await lan.stations.call(match.id, ORG, one.id)
    assert again.call and not again.held
    await lan.stations.uncall(match.id, ORG, hold=False)
    await lan.settle_queue()
    assert [m.id for m in await lan.called()] == [match.id]  # not held: called again at once
    await lan.matches.start(match.id, ORG)
    with pytest.raises(InvalidTransitionError) as under_way:
        await lan.stations.uncall(match.id, ORG)
    assert under_way.value.code == "match_under_way"


@pytest.mark.gen_test
async def test_an_empty_change_of_the_calling_policy_writes_nothing() -> None:
    lan = Event()
    await lan.start(2, "single_elimination")
    before = await lan.store.get_tournament(lan.tid)
    assert await lan.stations.set_calling(lan.tid, ORG) == before.calling
    assert (await lan.store.get_tournament(lan.tid)).version == before.version


@pytest.mark.gen_test
async def test_a_match_with_a_bye_is_not_queued_and_costs_no_station_time() -> None:
    """Six players in a double elimination: W1-1 and W1-4 are byes, so L1-1 and L1-2 will be
    walkovers; they are not queued, and what they feed is estimated straight through them."""
    lan = Event()
    await lan.start(6)
    matches = await lan.all()
    keys = [m.slot.key for m in callqueue.waiting(matches) if m.slot]
    assert "L1-1" not in keys and "L1-2" not in keys and "L2-1" in keys
    stations = [Station("a", "A"), Station("b", "B")]
    etas = callqueue.etas(matches, stations, lan.clock())
    by_key = {m.slot.key: m.id for m in matches if m.slot}
    game = callqueue.DEFAULT_GAME_S
    # W1-2 and W1-3 now; their losers walk through L1-x into L2-x, which wait for W2-x's losers;
    # in the same round W3-1 goes first (winners before losers), so L2-2 waits a match more
    assert etas[by_key["W2-1"]] == etas[by_key["W2-2"]] == lan.clock() + game
    assert etas[by_key["W3-1"]] == etas[by_key["L2-1"]] == lan.clock() + 2 * game
    assert etas[by_key["L2-2"]] == lan.clock() + 3 * game
    assert by_key["L1-1"] not in etas


@pytest.mark.gen_test
async def test_two_calls_to_one_station_at_once_give_it_one_match() -> None:
    """Two organizers call different matches to the same free station at the same moment:
    one call lands, the other is told the station is busy, never both."""
    lan = Event()
    await lan.start(4, "single_elimination")
    (one,) = await lan.add_stations(1)
    w1, w2 = [m for m in callqueue.waiting(await lan.all()) if len(m.players) == 2]
    results = await asyncio.gather(lan.stations.call(w1.id, ORG, one.id), lan.stations.call(w2.id, ORG, one.id),
                                   return_exceptions=True)
    landed = [r for r in results if isinstance(r, Match)]
    refused = [r for r in results if isinstance(r, InvalidTransitionError)]
    assert len(landed) == 1 and len(refused) == 1 and refused[0].code == "station_busy"
    assert len(await lan.called()) == 1


@pytest.mark.gen_test
async def test_a_match_started_by_hand_cannot_double_book_a_called_player() -> None:
    lan = Event()
    await lan.start(3, "round_robin")
    (one,) = await lan.add_stations(1)
    first, *rest = [m for m in callqueue.waiting(await lan.all()) if len(m.players) == 2]
    await lan.stations.call(first.id, ORG, one.id)
    sharing = next(m for m in rest if set(m.players) & set(first.players))
    with pytest.raises(InvalidTransitionError) as refused:
        await lan.matches.start(sharing.id, ORG)
    assert refused.value.code == "player_busy"
    await lan.play(await lan.store.get_match(first.id))
    assert (await lan.matches.start(sharing.id, ORG)).state is MatchState.LIVE  # free again


@pytest.mark.gen_test
async def test_a_series_undone_back_to_play_keeps_its_station_only_if_it_is_free() -> None:
    """W1-1, a best of 3 at 1-1 on Station 1, is ended by a correction: the station frees and
    takes W1-2. Undoing the correction puts W1-1 back live without a station (never two open
    matches on one); with the station still free it would have kept it."""
    for taken in (True, False):
        lan = Event()
        await lan.start(4, "single_elimination", StartOptions(series=SeriesRules(default=SeriesFormat(best_of=3))))
        (one,) = await lan.add_stations(1)
        w1, w2 = [m for m in callqueue.waiting(await lan.all()) if len(m.players) == 2]
        await lan.stations.call(w1.id, ORG, one.id)
        a, b = w1.players
        for pid in (a, b):
            await lan.matches.check_in(w1.id, player(pid))
        await lan.matches.start(w1.id, player(a))
        await lan.matches.report_result(w1.id, ORG, {a: 13, b: 9}, game=1)
        await lan.matches.report_result(w1.id, ORG, {a: 9, b: 13}, game=2)
        await lan.brackets.correct(w1.id, ORG, {a: 13, b: 11}, game=2)
        assert (await lan.store.get_match(w1.id)).state is MatchState.COMPLETED
        if taken:
            await lan.stations.call(w2.id, ORG, one.id)
        await lan.brackets.correct(w1.id, ORG, None, undo=True, force=True)
        back = await lan.store.get_match(w1.id)
        assert back.state is MatchState.LIVE
        assert (back.call is None) is taken
        check_invariants(await lan.all())
