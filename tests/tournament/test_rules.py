"""Unit tests of the match state machine: the transition table, `authorize` and the moves."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import pytest

from tournament import events as ev
from tournament import rules
from tournament.errors import ForbiddenError, InvalidTransitionError, InvalidValueError
from tournament.models import FINAL_STATES, Dispute, DisputeStatus, Match, MatchState, Report
from tournament.roles import Principal, Role
from tournament.rules import Action, Actor

S, A = MatchState, Action
ORG, PART, OPP = Actor.ORGANIZER, Actor.PARTICIPANT, Actor.OPPONENT
T0 = 1_700_000_000.0  # when every match of these tests was created
NOW = T0 + 120.0  # when the move under test happens

ORGANIZER = Principal(user_id="org", name="Org", role=Role.ORGANIZER)
ADMIN = Principal(user_id="root", name="Root", role=Role.ADMIN)
ALICE = Principal(user_id="alice", name="Alice", role=Role.PLAYER)
BOB = Principal(user_id="bob", name="Bob", role=Role.PLAYER)
CAROL = Principal(user_id="carol", name="Carol", role=Role.PLAYER)  # a player of another match
SPECTATOR = Principal(user_id="sam", name="Sam", role=Role.SPECTATOR)

ALICE_WINS = {"alice": 3, "bob": 1}
BOB_WINS = {"alice": 1, "bob": 3}

# The whole table as the rules describe it: (state, action) -> (actors, targets).
OPEN = (S.SCHEDULED, S.CHECK_IN, S.READY, S.LIVE, S.PENDING_RESULT, S.DISPUTED)
EXPECTED_TABLE: dict[tuple[MatchState, Action], tuple[set[Actor], set[MatchState]]] = {
    (S.SCHEDULED, A.OPEN_CHECK_IN): ({ORG}, {S.CHECK_IN}),
    (S.CHECK_IN, A.CHECK_IN): ({ORG, PART}, {S.CHECK_IN, S.READY}),
    (S.READY, A.START): ({ORG, PART}, {S.LIVE}),
    (S.SCHEDULED, A.START): ({ORG}, {S.LIVE}),
    (S.CHECK_IN, A.START): ({ORG}, {S.LIVE}),
    (S.LIVE, A.UPDATE_SCORE): ({ORG, PART}, {S.LIVE}),
    (S.LIVE, A.REPORT_RESULT): ({ORG, PART}, {S.PENDING_RESULT, S.COMPLETED, S.LIVE}),
    (S.PENDING_RESULT, A.REPORT_RESULT): ({ORG, OPP}, {S.COMPLETED, S.DISPUTED, S.LIVE}),
    (S.PENDING_RESULT, A.CONFIRM): ({ORG, OPP}, {S.COMPLETED, S.LIVE}),
    (S.PENDING_RESULT, A.DISPUTE): ({OPP}, {S.DISPUTED}),
    (S.DISPUTED, A.RESOLVE): ({ORG}, {S.COMPLETED, S.LIVE}),
    **{(s, A.FORFEIT): ({ORG}, {S.FORFEIT}) for s in OPEN},
    **{(s, A.CANCEL): ({ORG}, {S.CANCELLED}) for s in OPEN},
    **{(s, A.SET_FORMAT): ({ORG}, {s}) for s in (S.SCHEDULED, S.CHECK_IN, S.READY)},
    **{(s, A.START_VETO): ({ORG}, {s}) for s in (S.SCHEDULED, S.CHECK_IN, S.READY)},
    **{(s, A.VETO): ({ORG, PART}, {s}) for s in (S.SCHEDULED, S.CHECK_IN, S.READY)},
}


def make_match(state: MatchState = S.LIVE, *, players: tuple[str | None, str | None] = ("alice", "bob"),
               scores: dict[str, int] | None = None, checked_in: tuple[str, ...] = (),
               reports: dict[str, Report] | None = None) -> Match:
    """A match of tournament t_1 created at T0."""
    return Match(id="m_1", tournament_id="t_1", participant_ids=players, state=state,
                 created_at=T0, updated_at=T0, scores=dict(scores or {}), checked_in=checked_in,
                 reports=dict(reports or {}))


def report(scores: dict[str, int]) -> Report:
    return Report(scores=dict(scores), winner_id=max(scores, key=lambda pid: scores[pid]))


def pending(scores: dict[str, int] = ALICE_WINS, by: str = "alice") -> Match:
    """A match whose player `by` has reported `scores` and waits for the opponent."""
    return make_match(S.PENDING_RESULT, scores=scores, reports={by: report(scores)})


def open_dispute(raised_by: str = "bob") -> Dispute:
    return Dispute(id="d_1", match_id="m_1", tournament_id="t_1", raised_by=raised_by,
                   reason="wrong score", status=DisputeStatus.OPEN, created_at=T0 + 60)


def realistic(state: MatchState) -> Match:
    """A match in `state` with the reports that state implies (alice reported first)."""
    if state in (S.PENDING_RESULT, S.DISPUTED):
        return dataclasses.replace(pending(), state=state)
    return make_match(state)


# --- the table ---------------------------------------------------------------------------

def test_table_has_exactly_the_documented_rows() -> None:
    """TRANSITIONS holds exactly the documented moves, with their actors and targets."""
    actual = {key: (set(m.actors), set(m.targets)) for key, m in rules.TRANSITIONS.items()}
    assert actual == EXPECTED_TABLE
    for (state, action), move in rules.TRANSITIONS.items():
        assert (move.source, move.action) == (state, action)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(MatchState, Action)))
def test_authorize_every_state_and_action(state: MatchState, action: Action) -> None:
    """Each (state, action) pair is either the table's move or an invalid_state refusal."""
    match = realistic(state)
    user = BOB if action is A.DISPUTE else ORGANIZER  # bob is the opponent of alice's report
    if (state, action) in rules.TRANSITIONS:
        assert rules.authorize(match, action, user) is rules.TRANSITIONS[(state, action)]
    else:
        with pytest.raises(InvalidTransitionError) as info:
            rules.authorize(match, action, user)
        assert info.value.code == "invalid_state"
        assert info.value.details == {"state": state.value}


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_final_states_allow_no_move(state: MatchState) -> None:
    """A completed, forfeited or cancelled match accepts no action at all."""
    assert not [key for key in rules.TRANSITIONS if key[0] is state]


# --- who may act ---------------------------------------------------------------------------

@pytest.mark.parametrize("user", [SPECTATOR, CAROL], ids=["spectator", "player_not_in_match"])
@pytest.mark.parametrize(("state", "action"), [
    (S.SCHEDULED, A.OPEN_CHECK_IN), (S.CHECK_IN, A.CHECK_IN), (S.READY, A.START),
    (S.LIVE, A.UPDATE_SCORE), (S.LIVE, A.REPORT_RESULT), (S.PENDING_RESULT, A.CONFIRM),
    (S.PENDING_RESULT, A.DISPUTE), (S.DISPUTED, A.RESOLVE), (S.LIVE, A.FORFEIT),
    (S.LIVE, A.CANCEL),
])
def test_outsiders_are_refused(user: Principal, state: MatchState, action: Action) -> None:
    """Spectators and players of other matches may make no move: insufficient_permissions."""
    with pytest.raises(ForbiddenError) as info:
        rules.authorize(realistic(state), action, user)
    assert info.value.code == "insufficient_permissions"


@pytest.mark.parametrize("user", [SPECTATOR, CAROL], ids=["spectator", "player_not_in_match"])
def test_outsiders_are_refused_before_the_state_is_checked(user: Principal) -> None:
    """An outsider learns nothing about the state: 403, not 409, for a move not in the table."""
    with pytest.raises(ForbiddenError) as info:
        rules.authorize(make_match(S.COMPLETED), A.UPDATE_SCORE, user)
    assert info.value.code == "insufficient_permissions"


@pytest.mark.parametrize(("state", "action"), [
    (S.SCHEDULED, A.OPEN_CHECK_IN), (S.LIVE, A.FORFEIT), (S.READY, A.CANCEL),
    (S.DISPUTED, A.RESOLVE),
])
def test_participant_may_not_make_organizer_moves(state: MatchState, action: Action) -> None:
    """A player of the match cannot open check-in, forfeit, cancel or resolve."""
    with pytest.raises(ForbiddenError) as info:
        rules.authorize(realistic(state), action, ALICE)
    assert info.value.code == "insufficient_permissions"


@pytest.mark.parametrize("action", [A.CONFIRM, A.DISPUTE, A.REPORT_RESULT])
def test_reporting_player_cannot_answer_own_report(action: Action) -> None:
    """The player who reported cannot confirm, dispute or re-report: not_opponent."""
    with pytest.raises(ForbiddenError) as info:
        rules.authorize(pending(by="alice"), action, ALICE)
    assert info.value.code == "not_opponent"


@pytest.mark.parametrize("action", [A.CONFIRM, A.DISPUTE, A.REPORT_RESULT])
def test_opponent_may_answer_the_report(action: Action) -> None:
    """The opponent of the reporting player may confirm, dispute or report."""
    move = rules.authorize(pending(by="alice"), action, BOB)
    assert move is rules.TRANSITIONS[(S.PENDING_RESULT, action)]


@pytest.mark.parametrize("action", [A.CONFIRM, A.REPORT_RESULT])
def test_organizer_may_answer_the_report(action: Action) -> None:
    """An organizer may confirm or decide a pending result."""
    assert rules.authorize(pending(), action, ORGANIZER) is rules.TRANSITIONS[(S.PENDING_RESULT, action)]


def test_organizer_may_not_dispute() -> None:
    """Disputing is the opponent's move only; an organizer gets insufficient_permissions."""
    with pytest.raises(ForbiddenError) as info:
        rules.authorize(pending(), A.DISPUTE, ORGANIZER)
    assert info.value.code == "insufficient_permissions"


@pytest.mark.parametrize("user", [ORGANIZER, ADMIN], ids=["organizer", "admin"])
@pytest.mark.parametrize("state", [S.SCHEDULED, S.CHECK_IN, S.READY])
def test_organizer_may_start_before_ready(user: Principal, state: MatchState) -> None:
    """An organizer (or admin) may start from scheduled, check_in or ready."""
    assert rules.authorize(make_match(state), A.START, user) is rules.TRANSITIONS[(state, A.START)]


def test_participant_may_start_when_ready() -> None:
    """A player of the match may start it once both have checked in."""
    assert rules.authorize(make_match(S.READY), A.START, ALICE) is rules.TRANSITIONS[(S.READY, A.START)]


@pytest.mark.parametrize("state", [S.SCHEDULED, S.CHECK_IN])
def test_participant_may_not_start_before_ready(state: MatchState) -> None:
    """Starting before ready is an organizer override: a player gets insufficient_permissions."""
    with pytest.raises(ForbiddenError) as info:
        rules.authorize(make_match(state), A.START, ALICE)
    assert info.value.code == "insufficient_permissions"


def test_participant_gets_invalid_state_for_a_move_out_of_turn() -> None:
    """A player updating the score of a match that is not live gets invalid_state."""
    with pytest.raises(InvalidTransitionError) as info:
        rules.authorize(make_match(S.READY), A.UPDATE_SCORE, ALICE)
    assert info.value.code == "invalid_state"
    assert info.value.details == {"state": "ready"}


def test_actors_of() -> None:
    """actors_of names organizer, participant and opponent kinds."""
    match = pending(by="alice")
    assert rules.actors_of(match, ORGANIZER) == {ORG}
    assert rules.actors_of(match, ALICE) == {PART}
    assert rules.actors_of(match, BOB) == {PART, OPP}
    assert rules.actors_of(match, CAROL) == frozenset()
    assert rules.actors_of(match, SPECTATOR) == frozenset()


# --- open_check_in and check_in -----------------------------------------------------------

def test_open_check_in() -> None:
    """Opening check-in moves scheduled to check_in and announces it."""
    outcome = rules.open_check_in(make_match(S.SCHEDULED), NOW)
    assert outcome.match.state is S.CHECK_IN
    assert outcome.match.updated_at == NOW
    assert outcome.events == [(ev.MATCH_STATE_CHANGED, {"from": "scheduled", "to": "check_in"})]
    assert outcome.dispute is None


def test_open_check_in_needs_both_players() -> None:
    """A match with an empty slot cannot open check-in: players_missing."""
    with pytest.raises(InvalidTransitionError) as info:
        rules.open_check_in(make_match(S.SCHEDULED, players=("alice", None)), NOW)
    assert info.value.code == "players_missing"
    assert info.value.details == {"state": "scheduled"}


def test_first_check_in_stays_in_check_in() -> None:
    """One player checking in records it and keeps the match in check_in."""
    outcome = rules.check_in(make_match(S.CHECK_IN), "alice", NOW)
    assert outcome.match.state is S.CHECK_IN
    assert outcome.match.checked_in == ("alice",)
    assert outcome.match.updated_at == NOW
    assert outcome.events == [(ev.CHECKIN_UPDATED, {"participant_id": "alice", "checked_in": ["alice"]})]


def test_both_check_ins_make_the_match_ready() -> None:
    """The second check-in moves the match to ready: checkin_updated, then match_state_changed."""
    first = rules.check_in(make_match(S.CHECK_IN), "alice", NOW).match
    outcome = rules.check_in(first, "bob", NOW + 1)
    assert outcome.match.state is S.READY
    assert outcome.match.checked_in == ("alice", "bob")
    assert outcome.events == [
        (ev.CHECKIN_UPDATED, {"participant_id": "bob", "checked_in": ["alice", "bob"]}),
        (ev.MATCH_STATE_CHANGED, {"from": "check_in", "to": "ready"}),
    ]


def test_double_check_in_is_refused() -> None:
    """Checking in twice is already_checked_in and changes nothing."""
    match = make_match(S.CHECK_IN, checked_in=("alice",))
    with pytest.raises(InvalidTransitionError) as info:
        rules.check_in(match, "alice", NOW)
    assert info.value.code == "already_checked_in"
    assert info.value.details == {"state": "check_in"}
    assert match.checked_in == ("alice",)


def test_check_in_of_a_stranger_is_refused() -> None:
    """Checking in someone who is not a player of the match is invalid_value."""
    with pytest.raises(InvalidValueError) as info:
        rules.check_in(make_match(S.CHECK_IN), "carol", NOW)
    assert info.value.code == "invalid_value"
    assert info.value.details == {"field": "participant_id"}


# --- start and update_score ---------------------------------------------------------------

def test_start_sets_scores_and_started_at() -> None:
    """Starting makes the match live with both scores at 0 and started_at = now."""
    outcome = rules.start(make_match(S.READY), NOW)
    assert outcome.match.state is S.LIVE
    assert outcome.match.scores == {"alice": 0, "bob": 0}
    assert outcome.match.started_at == NOW
    assert outcome.match.updated_at == NOW
    assert outcome.events == [(ev.MATCH_STARTED, {"from": "ready"})]


def test_start_needs_both_players() -> None:
    """A match with an empty slot cannot start: players_missing."""
    with pytest.raises(InvalidTransitionError) as info:
        rules.start(make_match(S.SCHEDULED, players=(None, "bob")), NOW)
    assert info.value.code == "players_missing"


def test_update_score_merges_partial_scores() -> None:
    """A score for one player keeps the other's score."""
    match = make_match(S.LIVE, scores={"alice": 2, "bob": 1})
    outcome = rules.update_score(match, {"bob": 4}, NOW)
    assert outcome.match.scores == {"alice": 2, "bob": 4}
    assert outcome.match.state is S.LIVE
    assert outcome.match.updated_at == NOW
    assert outcome.events == [(ev.SCORE_UPDATED, {"scores": {"alice": 2, "bob": 4}})]
    assert match.scores == {"alice": 2, "bob": 1}


def test_update_score_accepts_max_score() -> None:
    """MAX_SCORE itself is a valid score."""
    outcome = rules.update_score(make_match(S.LIVE), {"alice": rules.MAX_SCORE}, NOW)
    assert outcome.match.scores == {"alice": rules.MAX_SCORE}


@pytest.mark.parametrize("scores", [
    {"carol": 1}, {"alice": 1, "carol": 2}, {"alice": rules.MAX_SCORE + 1}, {"bob": -1}, {},
], ids=["unknown_player", "one_unknown", "above_max", "negative", "empty"])
def test_update_score_refuses_bad_scores(scores: dict[str, int]) -> None:
    """Unknown players, scores out of 0..MAX_SCORE and empty updates are invalid_value."""
    with pytest.raises(InvalidValueError) as info:
        rules.update_score(make_match(S.LIVE, scores={"alice": 0, "bob": 0}), scores, NOW)
    assert info.value.code == "invalid_value"
    assert info.value.details == {"field": "scores"}


# --- report_result, confirm, raise_dispute ------------------------------------------------

@pytest.mark.parametrize("scores", [{"alice": 2, "bob": 2}, {"alice": 3}, {"alice": 3, "carol": 1}],
                         ids=["tie", "incomplete", "unknown_player"])
@pytest.mark.parametrize("user", [ALICE, ORGANIZER], ids=["player", "organizer"])
def test_report_result_refuses_bad_results(scores: dict[str, int], user: Principal) -> None:
    """A result must name both players and a winner: invalid_value on field scores."""
    with pytest.raises(InvalidValueError) as info:
        rules.report_result(make_match(S.LIVE), user, scores, NOW)
    assert info.value.code == "invalid_value"
    assert info.value.details == {"field": "scores"}


def test_first_report_waits_for_the_opponent() -> None:
    """The first player's report moves live to pending_result and keeps the report."""
    outcome = rules.report_result(make_match(S.LIVE, scores={"alice": 0, "bob": 0}), ALICE, ALICE_WINS, NOW)
    after = outcome.match
    assert after.state is S.PENDING_RESULT
    assert after.reports == {"alice": Report(scores=ALICE_WINS, winner_id="alice")}
    assert after.scores == ALICE_WINS
    assert after.result is None
    assert after.winner_id is None
    assert after.updated_at == NOW
    assert outcome.events == [(ev.MATCH_STATE_CHANGED, {
        "from": "live", "to": "pending_result", "reported_by": "alice",
        "report": {"scores": ALICE_WINS, "winner_id": "alice"}})]
    assert outcome.dispute is None


def test_opponent_reporting_the_same_result_completes() -> None:
    """The opponent reporting the same scores completes the match with that result."""
    outcome = rules.report_result(pending(ALICE_WINS, by="alice"), BOB, {"bob": 1, "alice": 3}, NOW)
    after = outcome.match
    assert after.state is S.COMPLETED
    assert after.result == Report(scores=ALICE_WINS, winner_id="alice")
    assert after.winner_id == "alice"
    assert after.scores == ALICE_WINS
    assert after.ended_at == NOW
    assert set(after.reports) == {"alice", "bob"}
    assert outcome.events == [(ev.MATCH_COMPLETED, {
        "result": {"scores": ALICE_WINS, "winner_id": "alice"}, "winner_id": "alice",
        "confirmed_by": "bob"})]
    assert outcome.dispute is None


def test_opponent_reporting_a_different_result_opens_a_dispute() -> None:
    """Different scores from the opponent dispute the match by themselves."""
    outcome = rules.report_result(pending(ALICE_WINS, by="alice"), BOB, BOB_WINS, NOW)
    after = outcome.match
    assert after.state is S.DISPUTED
    assert after.reports == {"alice": report(ALICE_WINS), "bob": report(BOB_WINS)}
    assert after.result is None
    assert after.winner_id is None
    dispute = outcome.dispute
    assert dispute is not None
    assert dispute.id.startswith("d_")
    assert (dispute.match_id, dispute.tournament_id, dispute.raised_by) == ("m_1", "t_1", "bob")
    assert dispute.status is DisputeStatus.OPEN
    assert dispute.reason == "the players reported different results"
    assert dispute.created_at == NOW
    assert outcome.events == [(ev.DISPUTE_CREATED, {"dispute": dispute.to_json()})]


def test_organizer_report_completes_directly() -> None:
    """An organizer's report decides the result at once, from live."""
    outcome = rules.report_result(make_match(S.LIVE), ORGANIZER, BOB_WINS, NOW)
    after = outcome.match
    assert after.state is S.COMPLETED
    assert after.result == Report(scores=BOB_WINS, winner_id="bob")
    assert after.winner_id == "bob"
    assert after.ended_at == NOW
    assert after.reports == {}
    assert outcome.events == [(ev.MATCH_COMPLETED, {
        "result": {"scores": BOB_WINS, "winner_id": "bob"}, "winner_id": "bob", "decided_by": "org"})]


def test_organizer_report_overrides_a_pending_result() -> None:
    """An organizer's report on a pending result completes with the organizer's scores."""
    outcome = rules.report_result(pending(ALICE_WINS), ORGANIZER, BOB_WINS, NOW)
    assert outcome.match.state is S.COMPLETED
    assert outcome.match.winner_id == "bob"


@pytest.mark.parametrize("user", [BOB, ORGANIZER], ids=["opponent", "organizer"])
def test_confirm_completes_with_the_report(user: Principal) -> None:
    """Confirming completes the match with the pending report."""
    outcome = rules.confirm(pending(ALICE_WINS, by="alice"), user, NOW)
    after = outcome.match
    assert after.state is S.COMPLETED
    assert after.result == Report(scores=ALICE_WINS, winner_id="alice")
    assert after.winner_id == "alice"
    assert after.scores == ALICE_WINS
    assert after.ended_at == NOW
    assert outcome.events == [(ev.MATCH_COMPLETED, {
        "result": {"scores": ALICE_WINS, "winner_id": "alice"}, "winner_id": "alice",
        "confirmed_by": user.user_id})]


def test_raise_dispute() -> None:
    """Disputing a pending result opens a dispute and moves the match to disputed."""
    outcome = rules.raise_dispute(pending(by="alice"), BOB, "they cheated", NOW)
    assert outcome.match.state is S.DISPUTED
    assert outcome.match.updated_at == NOW
    assert outcome.match.reports == {"alice": report(ALICE_WINS)}
    dispute = outcome.dispute
    assert dispute is not None
    assert dispute.raised_by == "bob"
    assert dispute.reason == "they cheated"
    assert dispute.status is DisputeStatus.OPEN
    assert (dispute.resolved_by, dispute.resolved_at, dispute.resolution) == (None, None, "")
    assert outcome.events == [(ev.DISPUTE_CREATED, {"dispute": dispute.to_json()})]


# --- resolve -------------------------------------------------------------------------------

def disputed_after_one_report() -> Match:
    """Alice reported ALICE_WINS, Bob disputed it."""
    return rules.raise_dispute(pending(ALICE_WINS, by="alice"), BOB, "wrong score", T0 + 60).match


def disputed_after_two_reports() -> Match:
    """Alice reported ALICE_WINS, Bob reported BOB_WINS."""
    return rules.report_result(pending(ALICE_WINS, by="alice"), BOB, BOB_WINS, T0 + 60).match


@pytest.mark.parametrize("make", [disputed_after_one_report, disputed_after_two_reports],
                         ids=["one_report", "two_reports"])
def test_resolve_with_scores(make: Callable[[], Match]) -> None:
    """Resolving decides the result from the organizer's scores and closes the dispute."""
    outcome = rules.resolve(make(), open_dispute(), ORGANIZER, reject=False, scores=BOB_WINS,
                            resolution="video replay", now=NOW)
    after = outcome.match
    assert after.state is S.COMPLETED
    assert after.result == Report(scores=BOB_WINS, winner_id="bob")
    assert after.winner_id == "bob"
    assert after.ended_at == NOW
    closed = outcome.dispute
    assert closed is not None
    assert closed.status is DisputeStatus.RESOLVED
    assert (closed.resolution, closed.resolved_by, closed.resolved_at) == ("video replay", "org", NOW)
    assert outcome.events == [
        (ev.DISPUTE_RESOLVED, {"dispute": closed.to_json()}),
        (ev.MATCH_COMPLETED, {"result": {"scores": BOB_WINS, "winner_id": "bob"},
                              "winner_id": "bob", "decided_by": "org"}),
    ]


def test_reject_keeps_the_single_report() -> None:
    """Rejecting a dispute completes the match with the one reported result."""
    outcome = rules.resolve(disputed_after_one_report(), open_dispute(), ORGANIZER, reject=True,
                            scores=None, resolution="score stands", now=NOW)
    assert outcome.match.state is S.COMPLETED
    assert outcome.match.result == Report(scores=ALICE_WINS, winner_id="alice")
    assert outcome.match.winner_id == "alice"
    closed = outcome.dispute
    assert closed is not None
    assert closed.status is DisputeStatus.REJECTED
    assert [name for name, _ in outcome.events] == [ev.DISPUTE_RESOLVED, ev.MATCH_COMPLETED]


def test_reject_of_conflicting_reports_is_refused() -> None:
    """Two different reports cannot be rejected: one of them must be chosen with scores."""
    with pytest.raises(InvalidValueError) as info:
        rules.resolve(disputed_after_two_reports(), open_dispute(), ORGANIZER, reject=True,
                      scores=None, resolution="", now=NOW)
    assert info.value.code == "invalid_value"
    assert info.value.details == {"field": "status"}


def test_reject_with_scores_is_refused() -> None:
    """A rejection keeps the reported result, so it takes no scores."""
    with pytest.raises(InvalidValueError) as info:
        rules.resolve(disputed_after_one_report(), open_dispute(), ORGANIZER, reject=True,
                      scores=BOB_WINS, resolution="", now=NOW)
    assert info.value.details == {"field": "status"}


def test_resolve_without_scores_is_refused() -> None:
    """Resolving (not rejecting) needs the final scores."""
    with pytest.raises(InvalidValueError) as info:
        rules.resolve(disputed_after_one_report(), open_dispute(), ORGANIZER, reject=False,
                      scores=None, resolution="", now=NOW)
    assert info.value.code == "invalid_value"
    assert info.value.details == {"field": "scores"}


def test_resolve_with_a_tie_is_refused() -> None:
    """Resolved scores follow the result rules: no tie."""
    with pytest.raises(InvalidValueError) as info:
        rules.resolve(disputed_after_one_report(), open_dispute(), ORGANIZER, reject=False,
                      scores={"alice": 1, "bob": 1}, resolution="", now=NOW)
    assert info.value.details == {"field": "scores"}


# --- forfeit and cancel --------------------------------------------------------------------

@pytest.mark.parametrize(("loser", "winner"), [("alice", "bob"), ("bob", "alice")])
def test_forfeit_gives_the_win_to_the_opponent(loser: str, winner: str) -> None:
    """A forfeit ends the match with the opponent as winner and no result."""
    outcome = rules.forfeit(make_match(S.LIVE, scores={"alice": 1, "bob": 0}), loser, ORGANIZER, None, NOW)
    after = outcome.match
    assert after.state is S.FORFEIT
    assert after.winner_id == winner
    assert after.result is None
    assert after.ended_at == NOW
    assert outcome.dispute is None
    assert outcome.events == [(ev.MATCH_COMPLETED, {"result": None, "winner_id": winner,
                                                    "forfeited_by": loser})]


def test_forfeit_closes_the_open_dispute() -> None:
    """Forfeiting a disputed match resolves the dispute first, then completes the match."""
    outcome = rules.forfeit(disputed_after_one_report(), "bob", ORGANIZER, open_dispute(), NOW)
    assert outcome.match.state is S.FORFEIT
    assert outcome.match.winner_id == "alice"
    closed = outcome.dispute
    assert closed is not None
    assert closed.status is DisputeStatus.RESOLVED
    assert (closed.resolution, closed.resolved_by, closed.resolved_at) == ("bob forfeited", "org", NOW)
    assert outcome.events == [
        (ev.DISPUTE_RESOLVED, {"dispute": closed.to_json()}),
        (ev.MATCH_COMPLETED, {"result": None, "winner_id": "alice", "forfeited_by": "bob"}),
    ]


def test_forfeit_by_a_stranger_is_refused() -> None:
    """Only a player of the match can forfeit it: invalid_value on participant_id."""
    with pytest.raises(InvalidValueError) as info:
        rules.forfeit(make_match(S.LIVE), "carol", ORGANIZER, None, NOW)
    assert info.value.details == {"field": "participant_id"}


def test_cancel() -> None:
    """Cancelling ends the match with no winner and announces the reason."""
    outcome = rules.cancel(make_match(S.READY), ORGANIZER, "venue closed", None, NOW)
    after = outcome.match
    assert after.state is S.CANCELLED
    assert after.ended_at == NOW
    assert after.winner_id is None
    assert outcome.dispute is None
    assert outcome.events == [(ev.MATCH_STATE_CHANGED, {"from": "ready", "to": "cancelled",
                                                        "reason": "venue closed"})]


def test_cancel_rejects_the_open_dispute() -> None:
    """Cancelling a disputed match rejects the dispute first, then announces the cancel."""
    outcome = rules.cancel(disputed_after_one_report(), ORGANIZER, "no show", open_dispute(), NOW)
    assert outcome.match.state is S.CANCELLED
    closed = outcome.dispute
    assert closed is not None
    assert closed.status is DisputeStatus.REJECTED
    assert (closed.resolution, closed.resolved_by, closed.resolved_at) == ("match cancelled", "org", NOW)
    assert outcome.events == [
        (ev.DISPUTE_RESOLVED, {"dispute": closed.to_json()}),
        (ev.MATCH_STATE_CHANGED, {"from": "disputed", "to": "cancelled", "reason": "no show"}),
    ]


def test_moves_leave_the_input_match_unchanged() -> None:
    """Moves are pure: the match passed in is not modified."""
    match = make_match(S.LIVE, scores={"alice": 0, "bob": 0})
    rules.report_result(match, ALICE, ALICE_WINS, NOW)
    assert match == make_match(S.LIVE, scores={"alice": 0, "bob": 0})
