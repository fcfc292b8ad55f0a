"""Unit tests of live scores: the ScoreBatcher a real MatchService owns, over a MemoryStore, on a fake clock."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from tournament.scores import ScoreBatcher
from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock, FakeScheduler
from tournament import events as ev
from tournament.errors import ForbiddenError, InvalidTransitionError, InvalidValueError
from tournament.matches import MatchService
from tournament.writer import MatchWriter
from tournament.models import Event, Match, MatchState, SeriesFormat, Tournament
from tournament.roles import Principal, Role
from tournament.store import StorageUnavailableError

WINDOW_S = 0.1
T0 = 1000.0  # the fake time when every test starts

ORGANIZER = Principal(user_id="org", name="Org", role=Role.ORGANIZER)
ALICE = Principal(user_id="alice", name="Alice", role=Role.PLAYER)
BOB = Principal(user_id="bob", name="Bob", role=Role.PLAYER)
CAROL = Principal(user_id="carol", name="Carol", role=Role.PLAYER)  # plays another match
SPECTATOR = Principal(user_id="sam", name="Sam", role=Role.SPECTATOR)


class Recorder:
    """A publisher keeping every event (a RecordingPublisher with helpers)."""

    def __init__(self) -> None:
        self.recording = ev.RecordingPublisher()

    def publish(self, event: Event) -> None:
        self.recording.publish(event)

    @property
    def events(self) -> list[Event]:
        return self.recording.events

    def of(self, match_id: str, kind: str | None = None) -> list[Event]:
        return [e for e in self.events
                if e.stream == f"match:{match_id}" and (kind is None or e.type == kind)]


class NoBracket:
    async def match_ended(self, match: Match) -> None:
        pass


@dataclasses.dataclass
class World:
    store: MemoryStore
    publisher: Recorder
    clock: FakeClock
    scheduler: FakeScheduler
    matches: MatchService
    batcher: ScoreBatcher

    async def live_match(self, match_id: str, players: tuple[str, str] = ("alice", "bob")) -> Match:
        """A scheduled match inserted into the store, then started by the organizer."""
        match = Match(id=match_id, tournament_id="t1", participant_ids=players,
                      state=MatchState.SCHEDULED, created_at=self.clock(), updated_at=self.clock())
        await self.store.insert_match(match)
        return await self.matches.start(match_id, ORGANIZER)

    def scores(self, match_id: str) -> list[dict[str, int]]:
        return [e.data["scores"] for e in self.publisher.of(match_id, ev.SCORE_UPDATED)]


@pytest.fixture
def world(io_loop: Any) -> World:
    store = MemoryStore()
    io_loop.run_sync(lambda: store.insert_tournament(Tournament(
        id="t1", name="Cup", game="CS2", format="single_elimination", state="draft",
        created_by="org", created_at=T0)))
    publisher = Recorder()
    clock = FakeClock(T0)
    scheduler = FakeScheduler(clock)
    matches = MatchService(store, MatchWriter(store, publisher, clock), NoBracket(), scheduler, clock, WINDOW_S)
    batcher = matches.scores
    assert isinstance(batcher, ScoreBatcher)
    return World(store, publisher, clock, scheduler, matches, batcher)


@pytest.mark.gen_test
async def test_burst_becomes_one_event_latest_wins(world: World) -> None:
    """Updates within one window become one score_updated event with the latest score per player."""
    await world.live_match("m1")
    waiters = [await world.matches.update_score("m1", ALICE, {"alice": 1}),
               await world.matches.update_score("m1", BOB, {"bob": 2}),
               await world.matches.update_score("m1", ALICE, {"alice": 3, "bob": 1}),
               await world.matches.update_score("m1", BOB, {"bob": 4})]
    assert world.batcher.pending("m1") == {"alice": 3, "bob": 4}
    assert len(world.scheduler.pending) == 1
    await world.scheduler.advance_async(WINDOW_S - 0.001)
    assert world.scores("m1") == []
    assert not any(w.done() for w in waiters)
    await world.scheduler.advance_async(0.001)
    (event,) = world.publisher.of("m1", ev.SCORE_UPDATED)
    assert event.data["scores"] == {"alice": 3, "bob": 4}
    assert event.seq == 2
    assert event.ts == pytest.approx(T0 + WINDOW_S)
    assert (world.batcher.stats.submitted, world.batcher.stats.coalesced,
            world.batcher.stats.flushes, world.batcher.stats.failures) == (4, 3, 1, 0)
    written = [w.result() for w in waiters]
    assert all(m is written[0] for m in written)
    assert (written[0].scores, written[0].seq, written[0].version) == ({"alice": 3, "bob": 4}, 2, 3)
    assert (await world.store.get_match("m1")).scores == {"alice": 3, "bob": 4}
    assert world.batcher.pending("m1") is None
    assert world.scheduler.pending == []


@pytest.mark.gen_test
async def test_untouched_player_keeps_stored_score(world: World) -> None:
    """A batch naming one player leaves the other's stored score as it was."""
    await world.live_match("m1")
    await world.matches.update_score("m1", ALICE, {"alice": 2})
    await world.matches.update_score("m1", ALICE, {"alice": 5})
    await world.scheduler.advance_async(WINDOW_S)
    assert world.scores("m1") == [{"alice": 5, "bob": 0}]
    assert world.batcher.stats.coalesced == 1


@pytest.mark.gen_test
async def test_steady_stream_flushes_once_per_window(world: World) -> None:
    """Later updates do not move the timer: an update every 0.03 s flushes every window."""
    await world.live_match("m1")
    submitted_at: list[float] = []
    for i in range(17):  # at 0.00, 0.03, ... 0.48 s
        submitted_at.append(world.clock() - T0)
        await world.matches.update_score("m1", ALICE if i % 2 == 0 else BOB,
                                   {"alice": i} if i % 2 == 0 else {"bob": i})
        await world.scheduler.advance_async(0.03)
    await world.scheduler.advance_async(0.2)
    flushes = world.publisher.of("m1", ev.SCORE_UPDATED)
    assert [e.seq for e in flushes] == [2, 3, 4, 5, 6]
    assert [e.ts - T0 for e in flushes] == pytest.approx([0.10, 0.22, 0.34, 0.46, 0.58])
    assert world.scheduler.delays == [WINDOW_S] * 5
    first_of_batch = [0.00, 0.12, 0.24, 0.36, 0.48]
    assert submitted_at[::4] == pytest.approx(first_of_batch)
    assert [e.ts - T0 - WINDOW_S for e in flushes] == pytest.approx(first_of_batch)
    assert world.scores("m1") == [
        {"alice": 2, "bob": 3}, {"alice": 6, "bob": 7}, {"alice": 10, "bob": 11},
        {"alice": 14, "bob": 15}, {"alice": 16, "bob": 15},
    ]
    assert (world.batcher.stats.submitted, world.batcher.stats.coalesced,
            world.batcher.stats.flushes) == (17, 12, 5)


@pytest.mark.gen_test
async def test_matches_share_a_window_with_their_own_events(world: World) -> None:
    """Two matches' batches share one window (one timer), each written as its own event; a
    match whose first update came late in the window waits less than a window."""
    await world.live_match("m1")
    await world.live_match("m2", ("carol", "dave"))
    await world.matches.update_score("m1", ALICE, {"alice": 1})
    await world.scheduler.advance_async(0.05)
    await world.matches.update_score("m2", CAROL, {"carol": 7})
    await world.matches.update_score("m1", BOB, {"bob": 2})
    assert len(world.scheduler.pending) == 1
    await world.scheduler.advance_async(0.05)
    assert world.scores("m1") == [{"alice": 1, "bob": 2}]
    assert world.scores("m2") == [{"carol": 7, "dave": 0}]
    assert [e.seq for e in world.publisher.of("m2", ev.SCORE_UPDATED)] == [2]
    assert world.batcher.stats.flushes == 2
    await world.matches.update_score("m2", CAROL, {"carol": 8})  # the next window, from now
    assert world.scheduler.delays[-1] == WINDOW_S


@pytest.mark.gen_test
async def test_written_is_told_once_a_windows_batches_are_all_written() -> None:
    """`written` (the tournament rooms' cue) runs after the last write of the window, once,
    also when one of them fails; not for a batch flushed before its window ended."""
    clock = FakeClock(T0)
    scheduler = FakeScheduler(clock)
    done: list[str] = []
    told: list[list[str]] = []
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    others: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # all but m1 written

    async def write(match_id: str, user: Principal, scores: Mapping[str, int], game: int | None) -> Match:
        if match_id == "m1":
            await gate  # the slow one
        done.append(match_id)
        if len(done) == 3:
            others.set_result(None)
        if match_id == "m3":
            raise StorageUnavailableError("down")
        return Match(id=match_id, tournament_id="t1", participant_ids=("alice", "bob"),
                     state=MatchState.LIVE, created_at=T0, updated_at=T0)

    batcher = ScoreBatcher(write, scheduler, WINDOW_S, written=lambda: told.append(list(done)))
    first = batcher.submit("m1", ALICE, {"alice": 1})
    batcher.submit("m2", ALICE, {"alice": 1})
    failing = batcher.submit("m3", ALICE, {"alice": 1})
    batcher.submit("m4", ALICE, {"alice": 1})
    await batcher.flush("m4")  # before the window ends: not the window's
    window = asyncio.ensure_future(scheduler.advance_async(WINDOW_S))
    await others  # m1 waits on its gate
    assert done == ["m4", "m2", "m3"] and told == [] and not first.done()
    gate.set_result(None)
    await window
    assert told == [["m4", "m2", "m3", "m1"]]
    assert (await first).id == "m1" and isinstance(failing.exception(), StorageUnavailableError)


@pytest.mark.parametrize(("user", "scores", "error"), [
    (SPECTATOR, {"alice": 1}, ForbiddenError),
    (CAROL, {"alice": 1}, ForbiddenError),
    (ALICE, {"carol": 1}, InvalidValueError),
    (ALICE, {"alice": -1}, InvalidValueError),
    (ALICE, {}, InvalidValueError),
])
@pytest.mark.gen_test
async def test_submit_refuses_bad_updates_at_once(world: World, user: Principal, scores: dict[str, int],
                                                  error: type[Exception]) -> None:
    """A spectator, an outsider or a bad score is refused by submit and nothing is buffered."""
    await world.live_match("m1")
    with pytest.raises(error):
        await world.matches.update_score("m1", user, scores)
    assert world.batcher.pending("m1") is None
    assert world.scheduler.pending == []
    assert world.batcher.stats.submitted == 0


@pytest.mark.gen_test
async def test_submit_refuses_match_not_live(world: World) -> None:
    """A match that has not started refuses score updates with InvalidTransitionError."""
    await world.store.insert_match(Match(id="m9", tournament_id="t1", participant_ids=("alice", "bob"),
                                         state=MatchState.SCHEDULED, created_at=T0, updated_at=T0))
    with pytest.raises(InvalidTransitionError):
        await world.matches.update_score("m9", ALICE, {"alice": 1})
    assert world.batcher.pending("m9") is None
    assert world.scheduler.pending == []
    assert world.batcher.stats.submitted == 0


@pytest.mark.gen_test
async def test_failed_write_sets_the_future(world: World) -> None:
    """A flush whose write fails counts a failure, sets the error on the futures and raises nothing."""
    match = await world.live_match("m1")
    waiters = [await world.matches.update_score("m1", ALICE, {"alice": 1}),
               await world.matches.update_score("m1", BOB, {"bob": 1})]
    cancelled = dataclasses.replace(match, state=MatchState.CANCELLED, version=match.version + 1)
    await world.store.save_match(cancelled, [], None)  # another process cancelled it meanwhile
    await world.scheduler.advance_async(WINDOW_S)
    assert (world.batcher.stats.flushes, world.batcher.stats.failures) == (1, 1)
    for waiter in waiters:
        assert isinstance(waiter.exception(), InvalidTransitionError)
    assert world.scores("m1") == []
    assert world.batcher.pending("m1") is None
    await world.batcher.flush("m1")  # nothing left: a no-op
    assert world.batcher.stats.flushes == 1


@pytest.mark.gen_test
async def test_failed_write_with_no_one_waiting_is_quiet(world: World) -> None:
    """A failed flush whose future nobody reads leaves no unretrieved exception behind."""
    match = await world.live_match("m1")
    await world.matches.update_score("m1", ALICE, {"alice": 1})  # the future is dropped
    await world.store.save_match(dataclasses.replace(match, state=MatchState.CANCELLED,
                                                     version=match.version + 1), [], None)
    await world.batcher.flush("m1")
    await asyncio.sleep(0)  # let the done callbacks run
    assert world.batcher.stats.failures == 1


@pytest.mark.gen_test
async def test_flush_all_writes_everything(world: World) -> None:
    """flush_all writes every waiting batch now and cancels their timers."""
    await world.live_match("m1")
    await world.live_match("m2", ("carol", "dave"))
    a = await world.matches.update_score("m1", ALICE, {"alice": 4})
    b = await world.matches.update_score("m2", CAROL, {"carol": 5})
    await world.batcher.flush_all()
    assert world.scores("m1") == [{"alice": 4, "bob": 0}]
    assert world.scores("m2") == [{"carol": 5, "dave": 0}]
    assert (a.result().scores, b.result().scores) == ({"alice": 4, "bob": 0}, {"carol": 5, "dave": 0})
    assert world.scheduler.pending == []
    assert (world.batcher.pending("m1"), world.batcher.pending("m2")) == (None, None)
    await world.scheduler.advance_async(1.0)
    assert world.batcher.stats.flushes == 2
    assert len(world.publisher.of("m1", ev.SCORE_UPDATED)) == 1


@pytest.mark.gen_test
async def test_flush_all_with_nothing_pending(world: World) -> None:
    """flush_all with no batch writes nothing."""
    await world.batcher.flush_all()
    assert world.publisher.events == []
    assert world.batcher.stats.flushes == 0


@pytest.mark.gen_test
async def test_report_result_flushes_pending_score_first(world: World) -> None:
    """An organizer's result writes the pending score first: score_updated precedes match_completed."""
    await world.live_match("m1")
    waiter = await world.matches.update_score("m1", ALICE, {"alice": 2, "bob": 1})
    done = await world.matches.report_result("m1", ORGANIZER, {"alice": 3, "bob": 1})
    assert [(e.seq, e.type) for e in world.publisher.of("m1")] == [
        (1, ev.MATCH_STARTED), (2, ev.SCORE_UPDATED), (3, ev.MATCH_COMPLETED)]
    score, completed = world.publisher.of("m1")[1:]
    assert score.data["scores"] == {"alice": 2, "bob": 1}
    assert completed.data["result"] == {"scores": {"alice": 3, "bob": 1}, "winner_id": "alice"}
    assert completed.data["match"]["scores"] == {"alice": 3, "bob": 1}
    assert (done.state, done.seq, done.scores) == (MatchState.COMPLETED, 3, {"alice": 3, "bob": 1})
    assert waiter.result().scores == {"alice": 2, "bob": 1}
    assert world.scheduler.pending == []
    await world.scheduler.advance_async(1.0)
    assert len(world.publisher.of("m1")) == 3
    assert world.batcher.stats.failures == 0


@pytest.mark.gen_test
async def test_cancel_flushes_pending_score_first(world: World) -> None:
    """Cancelling writes the pending score first, then the state change, in seq order."""
    await world.live_match("m1")
    await world.matches.update_score("m1", BOB, {"bob": 9})
    await world.matches.cancel("m1", ORGANIZER, "power cut")
    assert [(e.seq, e.type) for e in world.publisher.of("m1")] == [
        (1, ev.MATCH_STARTED), (2, ev.SCORE_UPDATED), (3, ev.MATCH_STATE_CHANGED)]
    score, cancelled = world.publisher.of("m1")[1:]
    assert score.data["scores"] == {"alice": 0, "bob": 9}
    assert (cancelled.data["from"], cancelled.data["to"]) == ("live", "cancelled")
    assert cancelled.data["match"]["scores"] == {"alice": 0, "bob": 9}
    assert (await world.store.get_match("m1")).scores == {"alice": 0, "bob": 9}
    await world.scheduler.advance_async(1.0)
    assert world.batcher.stats.failures == 0


@pytest.mark.gen_test
async def test_player_report_flushes_pending_score_first(world: World) -> None:
    """A player's report moves the match to pending_result only after the live score is written."""
    await world.live_match("m1")
    await world.matches.update_score("m1", ALICE, {"alice": 1})
    await world.matches.report_result("m1", ALICE, {"alice": 2, "bob": 0})
    assert [e.type for e in world.publisher.of("m1")] == [
        ev.MATCH_STARTED, ev.SCORE_UPDATED, ev.MATCH_STATE_CHANGED]
    assert world.scores("m1") == [{"alice": 1, "bob": 0}]


@pytest.mark.gen_test
async def test_flush_from_timer_runs_the_returned_coroutine(world: World) -> None:
    """The timer callback returns the flush coroutine, as IOLoop.call_later expects."""
    await world.live_match("m1")
    await world.matches.update_score("m1", ALICE, {"alice": 1})
    world.scheduler.advance(WINDOW_S)
    assert world.scores("m1") == []  # scheduled, not run yet
    assert len(world.scheduler.awaitables) == 1
    await world.scheduler.drain()
    assert world.scores("m1") == [{"alice": 1, "bob": 0}]


async def live_series(world: World, match_id: str) -> Match:
    """A best-of-3 inserted into the store and started: game 1 is live."""
    match = Match(id=match_id, tournament_id="t1", participant_ids=("alice", "bob"), state=MatchState.SCHEDULED,
                  created_at=world.clock(), updated_at=world.clock(), format=SeriesFormat(3))
    await world.store.insert_match(match)
    return await world.matches.start(match_id, ORGANIZER)


@pytest.mark.gen_test
async def test_a_series_game_score_lands_before_the_game_ends(world: World) -> None:
    """Game 1's batched score is written (with its game number) before game_completed."""
    await live_series(world, "m1")
    await world.matches.update_score("m1", ALICE, {"alice": 12, "bob": 9})
    await world.matches.report_result("m1", ORGANIZER, {"alice": 13, "bob": 9})
    kinds = [(e.type, e.data.get("game")) for e in world.publisher.of("m1")]
    assert kinds[2:] == [(ev.SCORE_UPDATED, 1), (ev.GAME_COMPLETED, 1), (ev.SERIES_UPDATED, None),
                         (ev.GAME_STARTED, 2)]
    assert world.publisher.of("m1", ev.SCORE_UPDATED)[0].data["scores"] == {"alice": 12, "bob": 9}


@pytest.mark.gen_test
async def test_a_score_for_another_game_sends_the_waiting_batch_now(world: World) -> None:
    """A batch checked for game 1 that arrives once game 2 is live is written at once (and
    refused, game_over), apart from game 2's batch, which waits for its window."""
    await live_series(world, "m1")
    await world.matches.report_result("m1", ORGANIZER, {"alice": 13, "bob": 9})
    stale = world.batcher.submit("m1", ALICE, {"alice": 14}, 1)  # checked while game 1 was live
    current = await world.matches.update_score("m1", ALICE, {"alice": 2})
    assert world.scheduler.delays[-1] == WINDOW_S  # game 2's window; game 1's batch is being written
    with pytest.raises(InvalidTransitionError) as refused:
        await stale
    assert refused.value.code == "game_over"
    assert not current.done()
    await world.scheduler.advance_async(WINDOW_S)
    assert (await current).games[1].scores == {"alice": 2, "bob": 0}
    assert [e.data["game"] for e in world.publisher.of("m1", ev.SCORE_UPDATED)] == [2]
