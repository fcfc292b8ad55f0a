"""Unit tests of series: formats, games reported one by one or all at once, clinching, play-all,
disputes on one game, corrections and their undo, best of 7, and best of 1 left as it was."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tournament import events as ev
from tournament import rules, series
from tournament.errors import InvalidTransitionError, InvalidValueError, SchemaError
from tournament.models import BracketSlot, Dispute, DisputeStatus, GameState, Match, MatchState, SeriesFormat
from tournament.roles import Principal, Role
from tournament.rules import Action

S = MatchState
T0 = 1_700_000_000.0
ORGANIZER = Principal(user_id="org", name="Org", role=Role.ORGANIZER)
ALICE = Principal(user_id="alice", name="Alice", role=Role.PLAYER)
BOB = Principal(user_id="bob", name="Bob", role=Role.PLAYER)
A13, B13 = {"alice": 13, "bob": 9}, {"alice": 7, "bob": 13}  # a map won by alice, one won by bob
BO3, BO5, ALL2, ALL3 = SeriesFormat(3), SeriesFormat(5), SeriesFormat(2, True), SeriesFormat(3, True)


def scheduled(fmt: SeriesFormat = BO3, **changes: Any) -> Match:
    return Match(id="m_1", tournament_id="t_1", participant_ids=("alice", "bob"), state=S.READY,
                 created_at=T0, updated_at=T0, format=fmt, **changes)


def started(fmt: SeriesFormat = BO3) -> Match:
    return rules.start(scheduled(fmt), T0 + 1).match


def kinds(outcome: rules.Outcome) -> list[str]:
    return [kind for kind, _ in outcome.events]


def decide(match: Match, *games: dict[str, int]) -> Match:
    """`match` with each game in turn decided by the organizer."""
    for scores in games:
        match = rules.report_result(match, ORGANIZER, scores, T0 + 10).match
    return match


def agreed(match: Match, scores: dict[str, int], now: float = T0 + 10) -> rules.Outcome:
    """Alice reports the game being played, Bob reports the same."""
    pending = rules.report_result(match, ALICE, scores, now).match
    return rules.report_result(pending, BOB, scores, now + 1)


# -- formats ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ({"best_of": 1}, SeriesFormat(1)), ({"best_of": 3}, BO3), ({"best_of": 9, "play_all": False}, SeriesFormat(9)),
    ({"best_of": 2, "play_all": True}, ALL2), ({"best_of": 3, "play_all": True}, ALL3),
])
def test_formats_read(value: dict[str, Any], expected: SeriesFormat) -> None:
    """Best of an odd number to 9, or every one of 2 to 9 games."""
    assert series.format_from(value) == expected


@pytest.mark.parametrize("value", [{"best_of": 2}, {"best_of": 11}, {"best_of": 0}, {"best_of": 1, "play_all": True},
                                   {"best_of": 10, "play_all": True}])
def test_formats_out_of_range_are_422(value: dict[str, Any]) -> None:
    """An even best-of, more than 9 games, or playing all of one game is a bad value."""
    with pytest.raises(InvalidValueError):
        series.format_from(value)


@pytest.mark.parametrize("value", [3, "bo3", None, {}, {"best_of": "3"}, {"best_of": True}, {"best_of": 3, "play_all": 1},
                                   {"best_of": 3, "maps": 3}])
def test_formats_of_the_wrong_shape_are_400(value: Any) -> None:
    """Anything but an object of best_of (an integer) and play_all (a boolean) is a bad shape."""
    with pytest.raises(SchemaError):
        series.format_from(value)


def test_series_rules_pick_the_most_precise_format() -> None:
    """A match's own key beats its round's, which beats GF and the default."""
    formats = series.rules_from({"best_of": 3, "rounds": {"W3": {"best_of": 5}, "GF": {"best_of": 5},
                                                          "GF2": {"best_of": 7}, "L": {"best_of": 1}}})
    assert [formats.format_for(k).best_of for k in ("W1-1", "W3-1", "GF1", "GF2", "L2-1", "3P")] == [3, 5, 5, 7, 1, 3]
    assert [series.bracket_key(k) for k in ("W2-3", "L1-1", "GF2", "R3-2", "S2-1", "3P")] == [
        "W", "L", "GF", "R", "S", "3P"]
    assert series.rules_from(None).format_for("W1-1") == SeriesFormat(1)
    assert series.rules_from(formats.to_json()) == formats


@pytest.mark.parametrize("value, error", [([], SchemaError), ({"best_of": 3, "rounds": []}, SchemaError),
                                          ({"rounds": {"W 1": {"best_of": 3}}}, InvalidValueError),
                                          ({"rounds": {"W1": {"best_of": 4}}}, InvalidValueError)])
def test_series_rules_refuse_bad_rounds(value: Any, error: type[Exception]) -> None:
    """Round overrides are an object of round keys to formats."""
    with pytest.raises(error):
        series.rules_from(value)


# -- playing a series --------------------------------------------------------------------------

def test_start_puts_game_one_live() -> None:
    """Starting a series starts its first game, 0-0, with the series at 0-0."""
    outcome = rules.start(scheduled(), T0 + 1)
    match = outcome.match
    assert kinds(outcome) == [ev.MATCH_STARTED, ev.GAME_STARTED]
    assert match.state is S.LIVE and match.scores == {"alice": 0, "bob": 0}
    assert [(g.number, g.state, g.scores) for g in match.games] == [(1, GameState.LIVE, {"alice": 0, "bob": 0})]
    assert match.series_json() == {"best_of": 3, "play_all": False, "to_win": 2, "score": {"alice": 0, "bob": 0},
                                   "current_game": 1, "games_played": 0}


def test_live_scores_address_the_game_being_played() -> None:
    """A live score changes the current game's score, never the series score."""
    outcome = rules.update_score(started(), {"alice": 5}, T0 + 2)
    assert outcome.events == [(ev.SCORE_UPDATED, {"scores": {"alice": 5, "bob": 0}, "game": 1})]
    assert outcome.match.games[0].scores == {"alice": 5, "bob": 0}
    assert outcome.match.scores == {"alice": 0, "bob": 0}
    rules.update_score(outcome.match, {"bob": 1}, T0 + 3, game=1)  # naming the game is fine


def test_a_live_score_for_another_game_is_game_over() -> None:
    """A score for a game that ended (a late frame) or has not started is refused with game_over."""
    match = decide(started(), A13)
    with pytest.raises(InvalidTransitionError) as caught:
        rules.update_score(match, {"alice": 1}, T0 + 20, game=1)
    assert caught.value.code == "game_over" and caught.value.details["game"] == 2
    with pytest.raises(InvalidTransitionError):
        rules.check_live_score(match, {"alice": 1}, 3)


def test_a_game_reported_and_confirmed_starts_the_next() -> None:
    """Both players report game 1 alike: it completes, the series is 1-0, game 2 goes live."""
    first = rules.report_result(started(), ALICE, A13, T0 + 10)
    assert first.match.state is S.PENDING_RESULT and first.match.reports["alice"].game == 1
    assert first.match.games[0].scores == A13 and first.match.games[0].state is GameState.LIVE
    outcome = rules.report_result(first.match, BOB, A13, T0 + 11)
    match = outcome.match
    assert kinds(outcome) == [ev.GAME_COMPLETED, ev.SERIES_UPDATED, ev.GAME_STARTED]
    assert match.state is S.LIVE and match.reports == {} and match.scores == {"alice": 1, "bob": 0}
    done, following = match.games
    assert (done.state, done.winner_id, done.reported_by, done.confirmed_by) == (GameState.COMPLETED, "alice",
                                                                                 "alice", "bob")
    assert (following.number, following.state, following.scores) == (2, GameState.LIVE, {"alice": 0, "bob": 0})
    assert outcome.events[0][1] == {"game": 1, "scores": A13, "winner_id": "alice", "map": None, "sides": {},
                                    "reported_by": "alice", "confirmed_by": "bob"}
    assert outcome.events[2][1]["game"] == 2


def test_confirm_completes_the_reported_game() -> None:
    """The opponent's confirm decides the game a report was of."""
    pending = rules.report_result(started(), BOB, B13, T0 + 10).match
    match = rules.confirm(pending, ALICE, T0 + 11).match
    assert match.scores == {"alice": 0, "bob": 1} and match.games[0].confirmed_by == "alice"


def test_best_of_three_ends_when_clinched() -> None:
    """2-0 ends a best of 3 after two games: the result carries every game, no third is started."""
    match = agreed(started(), A13).match
    outcome = agreed(match, A13, T0 + 20)
    match = outcome.match
    assert kinds(outcome) == [ev.GAME_COMPLETED, ev.SERIES_UPDATED, ev.MATCH_COMPLETED]
    assert match.state is S.COMPLETED and match.winner_id == "alice" and len(match.games) == 2
    assert match.result is not None and match.result.scores == {"alice": 2, "bob": 0}
    assert match.result.games == (A13, A13) and match.series_json()["current_game"] is None  # type: ignore[index]


def test_best_of_five_goes_to_a_deciding_game() -> None:
    """2-2 in a best of 5 needs game 5; 3-2 ends it."""
    match = decide(started(BO5), A13, B13, A13, B13)
    assert match.state is S.LIVE and match.current_game is not None and match.current_game.number == 5
    match = decide(match, B13)
    assert (match.state, match.winner_id, match.scores) == (S.COMPLETED, "bob", {"alice": 2, "bob": 3})


def test_an_organizer_decides_a_game_at_once() -> None:
    """An organizer's report of the game being played decides it, even while a player's waits."""
    pending = rules.report_result(started(), ALICE, A13, T0 + 10).match
    outcome = rules.report_result(pending, ORGANIZER, B13, T0 + 11)
    assert outcome.match.games[0].winner_id == "bob" and outcome.match.games[0].decided_by == "org"
    assert outcome.events[0][1]["decided_by"] == "org"


@pytest.mark.parametrize("game, code", [(1, "game_decided"), (3, "game_not_started")])
def test_only_the_game_being_played_can_be_reported(game: int, code: str) -> None:
    """Game 2 is live: reporting game 1 again, or game 3, is a 409 with the game being played."""
    match = decide(started(), A13)
    with pytest.raises(InvalidTransitionError) as caught:
        rules.report_result(match, ORGANIZER, B13, T0 + 20, game=game)
    assert caught.value.code == code and caught.value.details["game"] == 2


def test_conflicting_game_reports_open_a_dispute_on_that_game() -> None:
    """Different reports of game 2 dispute it; game 1 stays decided; resolving decides game 2."""
    match = decide(started(), A13)
    pending = rules.report_result(match, ALICE, A13, T0 + 20).match
    disputed = rules.report_result(pending, BOB, B13, T0 + 21)
    assert disputed.match.state is S.DISPUTED and disputed.dispute is not None
    assert disputed.match.games[0].state is GameState.COMPLETED
    resolved = rules.resolve(disputed.match, disputed.dispute, ORGANIZER, reject=False, scores=B13,
                             resolution="demo checked", now=T0 + 30)
    assert kinds(resolved) == [ev.DISPUTE_RESOLVED, ev.GAME_COMPLETED, ev.SERIES_UPDATED, ev.GAME_STARTED]
    assert resolved.match.state is S.LIVE and resolved.match.scores == {"alice": 1, "bob": 1}


def test_rejecting_a_game_dispute_keeps_the_report() -> None:
    """The opponent disputes alice's report of game 1; rejecting it decides game 1 as reported."""
    pending = rules.report_result(started(), ALICE, A13, T0 + 10).match
    raised = rules.raise_dispute(pending, BOB, "that was 13-11", T0 + 11)
    assert raised.dispute is not None
    outcome = rules.resolve(raised.match, raised.dispute, ORGANIZER, reject=True, scores=None,
                            resolution="stands", now=T0 + 12)
    assert outcome.dispute is not None and outcome.dispute.status is DisputeStatus.REJECTED
    assert outcome.match.scores == {"alice": 1, "bob": 0} and outcome.match.state is S.LIVE


def test_the_whole_series_at_once() -> None:
    """A player reports every game; the opponent confirms: every game is decided, the series too."""
    pending = rules.report_result(started(), ALICE, None, T0 + 10, games=[A13, B13, A13]).match
    assert pending.state is S.PENDING_RESULT and pending.reports["alice"].scores == {"alice": 2, "bob": 1}
    outcome = rules.confirm(pending, BOB, T0 + 11)
    assert kinds(outcome) == [ev.GAME_COMPLETED] * 3 + [ev.SERIES_UPDATED, ev.MATCH_COMPLETED]
    assert [g.winner_id for g in outcome.match.games] == ["alice", "bob", "alice"]
    assert outcome.match.winner_id == "alice"


def test_a_series_report_keeps_the_games_already_decided() -> None:
    """After game 1, a series report that agrees with it announces only the games it adds."""
    match = decide(started(), A13)
    outcome = rules.report_result(match, ORGANIZER, None, T0 + 20, games=[A13, A13])
    assert kinds(outcome) == [ev.GAME_COMPLETED, ev.SERIES_UPDATED, ev.MATCH_COMPLETED]
    assert outcome.match.games[0] == match.games[0]


@pytest.mark.parametrize("games, words", [
    ([A13], "does not decide"), ([A13, A13, B13], "was over after game 2"), ([A13] * 4, "1 to 3 games"),
    ([{"alice": 3, "bob": 3}, A13], "tie"), ([{"alice": 3}, A13], "both players"),
])
def test_a_series_report_must_be_a_played_series(games: list[dict[str, int]], words: str) -> None:
    """A series report must be won, have no game after that, no tied or half-scored game."""
    with pytest.raises(InvalidValueError) as caught:
        rules.report_result(started(), ALICE, None, T0 + 10, games=games)
    assert words in str(caught.value)


def test_a_player_cannot_restate_a_decided_game() -> None:
    """Game 1 went to alice: bob's series report saying he won it is refused; an organizer's is not."""
    match = decide(started(), A13)
    with pytest.raises(InvalidValueError) as caught:
        rules.report_result(match, BOB, None, T0 + 20, games=[B13, B13])
    assert "game 1 was decided 13-9" in str(caught.value)
    assert rules.report_result(match, ORGANIZER, None, T0 + 20, games=[B13, B13]).match.winner_id == "bob"


def test_play_all_counts_every_game_and_may_end_level() -> None:
    """All 2 games are played whatever happens; 1-1 is a draw, no winner."""
    match = decide(started(ALL2), A13)
    assert match.state is S.LIVE
    match = decide(match, B13)
    assert (match.state, match.winner_id, match.scores) == (S.COMPLETED, None, {"alice": 1, "bob": 1})
    assert decide(started(ALL3), A13, A13).state is S.LIVE  # 2-0 of 3: the third is still played


def test_a_level_format_does_not_fit_an_elimination_match() -> None:
    """An elimination match needs a winner: all-2 is refused there, fine in round robin."""
    slot = BracketSlot(key="W1-1", bracket="winners", position=1, feeds=("seed 1", "seed 2"))
    with pytest.raises(InvalidValueError):
        rules.set_format(scheduled(SeriesFormat(), slot=slot), ALL2, T0)
    robin = BracketSlot(key="R1-1", bracket="round_robin", position=1, feeds=("alice", "bob"))
    assert rules.set_format(scheduled(SeriesFormat(), slot=robin), ALL2, T0).match.format == ALL2


def test_set_format_before_the_start_only() -> None:
    """The format changes until the match starts (series_updated), then never."""
    outcome = rules.set_format(scheduled(SeriesFormat()), BO5, T0)
    assert kinds(outcome) == [ev.SERIES_UPDATED] and outcome.match.format == BO5
    assert rules.set_format(outcome.match, BO5, T0).events == []  # the same: no change
    with pytest.raises(InvalidTransitionError):
        rules.authorize(started(), Action.SET_FORMAT, ORGANIZER)


def test_forfeit_drops_the_game_being_played() -> None:
    """A forfeited series keeps its decided games, not the unfinished one."""
    match = decide(started(), A13)
    after = rules.forfeit(match, "alice", ORGANIZER, None, T0 + 30).match
    assert (after.state, after.winner_id, [g.number for g in after.games]) == (S.FORFEIT, "bob", [1])


# -- corrections -------------------------------------------------------------------------------

def test_correcting_one_game_can_change_the_series_winner() -> None:
    """2-1 to alice; game 3 was bob's after all: 1-2, bob wins, the old result in history."""
    match = decide(started(), A13, B13, A13)
    outcome = rules.correct(match, B13, ORGANIZER, T0 + 60, game=3)
    after = outcome.match
    assert kinds(outcome) == [ev.RESULT_CORRECTED, ev.SERIES_UPDATED]
    assert (after.winner_id, after.scores) == ("bob", {"alice": 1, "bob": 2})
    assert after.games[:2] == match.games[:2] and after.games[2].decided_by == "org"
    assert after.history[-1]["result"]["games"] == [A13, B13, A13]


def test_a_correction_that_leaves_the_series_undecided_is_refused() -> None:
    """Flipping game 2 of a 2-0 leaves 1-1: correct the whole series instead."""
    match = decide(started(), A13, A13)
    with pytest.raises(InvalidValueError) as caught:
        rules.correct(match, B13, ORGANIZER, T0 + 60, game=2)
    assert "does not decide" in str(caught.value)
    whole = rules.correct(match, None, ORGANIZER, T0 + 60, games=[A13, B13, B13]).match
    assert (whole.winner_id, len(whole.games)) == ("bob", 3)


@pytest.mark.parametrize("kwargs", [{"game": 3}, {"game": None}])
def test_a_game_correction_names_a_played_game(kwargs: dict[str, Any]) -> None:
    """Correcting a game that was not played, or scores without a game, is a bad value."""
    with pytest.raises(InvalidValueError):
        rules.correct(decide(started(), A13, A13), B13, ORGANIZER, T0 + 60, **kwargs)


# -- best of 1 stays as it was -----------------------------------------------------------------

def test_a_single_game_has_no_games_list() -> None:
    """Best of 1: start, score and result work on the match itself, with no games and no series."""
    match = rules.start(scheduled(SeriesFormat()), T0).match
    assert match.games == () and match.series_json() is None
    match = rules.update_score(match, {"alice": 5}, T0 + 1).match
    assert match.scores == {"alice": 5, "bob": 0}
    done = rules.report_result(match, ORGANIZER, A13, T0 + 2).match
    assert (done.state, done.scores, done.games) == (S.COMPLETED, A13, ())


@pytest.mark.parametrize("kwargs", [{"game": 2}, {"games": [A13]}])
def test_a_single_game_refuses_game_numbers(kwargs: dict[str, Any]) -> None:
    """A best of 1 has no game 2 and no series report."""
    match = rules.start(scheduled(SeriesFormat()), T0).match
    with pytest.raises(InvalidValueError):
        rules.report_result(match, ORGANIZER, A13, T0 + 1, **kwargs)


def test_dispute_records_are_unchanged_by_series() -> None:
    """A dispute raised in a series is the match's dispute, as for a single game."""
    pending = rules.report_result(started(), ALICE, A13, T0 + 10).match
    raised = rules.raise_dispute(pending, BOB, "no", T0 + 11)
    assert isinstance(raised.dispute, Dispute) and raised.match.dispute is None
    assert dataclasses.replace(raised.match, dispute=raised.dispute).open_dispute == raised.dispute


def test_a_game_of_a_series_under_way_is_corrected_and_play_goes_on() -> None:
    """1-0 with game 2 live; game 1 was bob's: 0-1, game 2 still live with its score."""
    match = rules.update_score(decide(started(), A13), {"alice": 4}, T0 + 20).match
    outcome = rules.correct(match, B13, ORGANIZER, T0 + 30, game=1)
    after = outcome.match
    assert kinds(outcome) == [ev.RESULT_CORRECTED, ev.SERIES_UPDATED]
    assert (after.state, after.scores, after.games[0].winner_id) == (S.LIVE, {"alice": 0, "bob": 1}, "bob")
    assert after.games[1] == match.games[1] and after.history[-1]["why"] == "corrected"


def test_a_correction_under_way_can_win_the_series() -> None:
    """1-1 with game 3 live; game 2 was alice's: 2-0, the series ends and game 3 is dropped."""
    match = decide(started(), A13, B13)
    outcome = rules.correct(match, A13, ORGANIZER, T0 + 30, game=2)
    assert kinds(outcome) == [ev.RESULT_CORRECTED, ev.SERIES_UPDATED, ev.MATCH_COMPLETED]
    assert (outcome.match.state, outcome.match.winner_id, len(outcome.match.games)) == (S.COMPLETED, "alice", 2)


def test_a_correction_under_way_cannot_leave_games_after_the_end() -> None:
    """A best of 5 at 2-2 (game 5 live): making game 3 alice's would have won it 3-0 before game
    4 was played, so it is refused; a game not yet decided cannot be corrected."""
    match = decide(started(BO5), A13, A13, B13, B13)
    with pytest.raises(InvalidValueError) as caught:
        rules.correct(match, A13, ORGANIZER, T0 + 30, game=3)
    assert "after game 3" in str(caught.value)
    with pytest.raises(InvalidValueError):
        rules.correct(match, A13, ORGANIZER, T0 + 30, game=5)  # being played, not decided
    with pytest.raises(InvalidValueError):
        rules.correct(match, None, ORGANIZER, T0 + 30, games=[A13, A13])  # as many games as were decided


def test_undoing_a_correction_that_ended_a_series_under_way_plays_it_again() -> None:
    """1-1 with game 3 live at 5-3; game 2 corrected to alice's ends it 2-0; undo puts game 2
    back as bob's, game 3 live again at 5-3 and the match live with no result; undo once more
    ends it 2-0 again."""
    match = rules.update_score(decide(started(), A13, B13), {"alice": 5, "bob": 3}, T0 + 25).match
    ended = rules.correct(match, A13, ORGANIZER, T0 + 30, game=2).match
    assert (ended.state, ended.winner_id) == (S.COMPLETED, "alice")
    outcome = rules.undo_correction(ended, ORGANIZER, T0 + 40)
    back = outcome.match
    assert kinds(outcome) == [ev.RESULT_CORRECTED, ev.SERIES_UPDATED, ev.MATCH_STATE_CHANGED]
    assert (back.state, back.winner_id, back.result, back.ended_at) == (S.LIVE, None, None, None)
    assert back.scores == {"alice": 1, "bob": 1} and back.games == match.games
    assert back.current_game is not None and back.current_game.scores == {"alice": 5, "bob": 3}
    assert back.series_json()["current_game"] == 3  # type: ignore[index]
    corrected, _, changed = outcome.events
    assert (corrected[1]["result"], corrected[1]["games"]) == (None, [A13, B13])
    assert corrected[1]["previous"]["result"]["games"] == [A13, A13]  # what was undone, kept in history
    assert changed[1] == {"from": "completed", "to": "live", "reason": "correction undone", "game": 3}
    assert back.history[-1]["why"] == "corrected" and back.history[-1]["state"] == "completed"
    again = rules.undo_correction(back, ORGANIZER, T0 + 50).match
    assert (again.state, again.winner_id, again.scores) == (S.COMPLETED, "alice", {"alice": 2, "bob": 0})
    rules.update_score(back, {"bob": 6}, T0 + 41, game=3)  # game 3 takes live scores again


def test_undoing_a_correction_while_the_series_goes_on_keeps_the_game_being_played() -> None:
    """A correction that left the series under way is undone from its decided games: the game
    being played keeps the score it has now, not the one it had then."""
    match = decide(started(), A13)
    fixed = rules.correct(match, B13, ORGANIZER, T0 + 30, game=1).match
    playing = rules.update_score(fixed, {"alice": 7}, T0 + 35).match
    back = rules.undo_correction(playing, ORGANIZER, T0 + 40).match
    assert (back.state, back.scores, back.games[0].scores) == (S.LIVE, {"alice": 1, "bob": 0}, A13)
    assert back.current_game is not None and back.current_game.scores == {"alice": 7, "bob": 0}


def test_restore_refuses_what_is_not_a_series_under_way() -> None:
    """Only a decided series goes back to being played, and only to a history entry of a series
    under way; a match with nothing corrected has nothing to undo; a series whose game waits
    for a report cannot be undone until it is decided."""
    done = decide(started(), A13, A13)
    with pytest.raises(InvalidValueError) as caught:
        rules.undo_correction(done, ORGANIZER, T0 + 40)
    assert caught.value.details["field"] == "undo"
    with pytest.raises(InvalidValueError):
        series.restore(done, {"state": "completed", "games": [g.to_json() for g in done.games]}, ORGANIZER, T0 + 40)
    live = decide(started(), A13)
    with pytest.raises(InvalidTransitionError):
        series.restore(live, {"state": "live", "games": [g.to_json() for g in live.games]}, ORGANIZER, T0 + 40)
    fixed = rules.correct(live, B13, ORGANIZER, T0 + 30, game=1).match
    pending = rules.report_result(fixed, ALICE, A13, T0 + 35).match  # a report of game 2 waits
    with pytest.raises(InvalidTransitionError) as refused:
        rules.undo_correction(pending, ORGANIZER, T0 + 40)
    assert refused.value.details == {"state": "pending_result"}


# -- best of 7 ---------------------------------------------------------------------------------

def test_best_of_seven_goes_the_distance_to_four_three() -> None:
    """A best of 7 needs 4 wins: 3-3 after six games plays game 7, and 4-3 ends it with every
    game in the result."""
    BO7 = SeriesFormat(7)
    match = decide(started(BO7), A13, B13, A13, B13, A13, B13)
    assert match.state is S.LIVE and match.scores == {"alice": 3, "bob": 3}
    assert match.series_json() == {"best_of": 7, "play_all": False, "to_win": 4, "score": {"alice": 3, "bob": 3},
                                   "current_game": 7, "games_played": 6}
    outcome = rules.report_result(match, ORGANIZER, A13, T0 + 20)
    assert kinds(outcome) == [ev.GAME_COMPLETED, ev.SERIES_UPDATED, ev.MATCH_COMPLETED]
    done = outcome.match
    assert (done.state, done.winner_id, done.scores, len(done.games)) == (S.COMPLETED, "alice",
                                                                          {"alice": 4, "bob": 3}, 7)
    assert done.result is not None and done.result.games == (A13, B13, A13, B13, A13, B13, A13)


def test_best_of_seven_swept_four_nil() -> None:
    """4-0 ends a best of 7 after four games: no fifth is started; a whole-series report of
    five games after a sweep is refused."""
    BO7 = SeriesFormat(7)
    match = decide(started(BO7), B13, B13, B13)
    assert match.state is S.LIVE and match.current_game is not None and match.current_game.number == 4
    done = decide(match, B13)
    assert (done.state, done.winner_id, done.scores, len(done.games)) == (S.COMPLETED, "bob",
                                                                          {"alice": 0, "bob": 4}, 4)
    assert done.series_json()["current_game"] is None  # type: ignore[index]
    with pytest.raises(InvalidValueError) as caught:
        rules.report_result(started(BO7), ALICE, None, T0 + 10, games=[B13] * 4 + [A13])
    assert "was over after game 4" in str(caught.value)
    assert rules.report_result(started(BO7), ORGANIZER, None, T0 + 10, games=[B13] * 4).match.winner_id == "bob"
