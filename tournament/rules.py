"""The match state machine: one transition table, and the pure moves it allows.

Every move is a function of (match, who, input, now) that returns the next match and the
events it causes; nothing here does I/O. `authorize` is the single gate: a move that has
no row in TRANSITIONS is an InvalidTransitionError (409), a row whose actors do not
include the user is a ForbiddenError (403).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tournament import events as ev
from tournament import series, veto
from tournament.errors import ForbiddenError, InvalidTransitionError, InvalidValueError
from tournament.models import Dispute, DisputeStatus, Match, MatchState, Report, SeriesFormat
from tournament.moves import MAX_SCORE as MAX_SCORE
from tournament.moves import EventSpec as EventSpec
from tournament.moves import Outcome as Outcome
from tournament.moves import check_scores as check_scores
from tournament.moves import close_dispute, corrected_entry, moved, past, report_of, require_players, state_changed
from tournament.moves import raise_dispute as raise_dispute
from tournament.roles import Principal, Role


class Action(enum.StrEnum):
    OPEN_CHECK_IN = "open_check_in"
    CHECK_IN = "check_in"
    START = "start"
    UPDATE_SCORE = "update_score"
    REPORT_RESULT = "report_result"
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    RESOLVE = "resolve"
    FORFEIT = "forfeit"
    CANCEL = "cancel"
    SET_FORMAT = "set_format"
    START_VETO = "start_veto"
    VETO = "veto"


class Actor(enum.StrEnum):
    ORGANIZER = "organizer"
    PARTICIPANT = "participant"  # either player of the match
    OPPONENT = "opponent"  # a player of the match who has not reported the pending result


@dataclasses.dataclass(frozen=True)
class Move:
    action: Action
    source: MatchState
    actors: frozenset[Actor]
    targets: frozenset[MatchState]


def _moves(action: Action, sources: Iterable[MatchState], actors: Iterable[Actor],
           targets: Iterable[MatchState]) -> list[Move]:
    return [Move(action, s, frozenset(actors), frozenset(targets)) for s in sources]


S, A = MatchState, Action
ORG, PART, OPP = Actor.ORGANIZER, Actor.PARTICIPANT, Actor.OPPONENT
OPEN_STATES = (S.SCHEDULED, S.CHECK_IN, S.READY, S.LIVE, S.PENDING_RESULT, S.DISPUTED)
BEFORE_START = (S.SCHEDULED, S.CHECK_IN, S.READY)

TRANSITIONS: dict[tuple[MatchState, Action], Move] = {
    (m.source, m.action): m
    for m in [
        *_moves(A.OPEN_CHECK_IN, [S.SCHEDULED], [ORG], [S.CHECK_IN]),
        *_moves(A.CHECK_IN, [S.CHECK_IN], [ORG, PART], [S.CHECK_IN, S.READY]),
        *_moves(A.START, [S.READY], [ORG, PART], [S.LIVE]),
        *_moves(A.START, [S.SCHEDULED, S.CHECK_IN], [ORG], [S.LIVE]),  # organizer override
        *_moves(A.UPDATE_SCORE, [S.LIVE], [ORG, PART], [S.LIVE]),
        # In a series a decided game that does not decide the series goes back to live (the next game).
        *_moves(A.REPORT_RESULT, [S.LIVE], [ORG, PART], [S.PENDING_RESULT, S.COMPLETED, S.LIVE]),
        *_moves(A.REPORT_RESULT, [S.PENDING_RESULT], [ORG, OPP], [S.COMPLETED, S.DISPUTED, S.LIVE]),
        *_moves(A.CONFIRM, [S.PENDING_RESULT], [ORG, OPP], [S.COMPLETED, S.LIVE]),
        *_moves(A.DISPUTE, [S.PENDING_RESULT], [OPP], [S.DISPUTED]),
        *_moves(A.RESOLVE, [S.DISPUTED], [ORG], [S.COMPLETED, S.LIVE]),
        *_moves(A.FORFEIT, OPEN_STATES, [ORG], [S.FORFEIT]),
        *_moves(A.CANCEL, OPEN_STATES, [ORG], [S.CANCELLED]),
        *(m for s in BEFORE_START for m in _moves(A.SET_FORMAT, [s], [ORG], [s])),
        # A map veto runs before the match starts; veto.take decides whose turn it is.
        *(m for s in BEFORE_START for m in _moves(A.START_VETO, [s], [ORG], [s])),
        *(m for s in BEFORE_START for m in _moves(A.VETO, [s], [ORG, PART], [s])),
    ]
}


def actors_of(match: Match, user: Principal) -> frozenset[Actor]:
    """Which actor kinds `user` is for `match`."""
    kinds = set()
    if user.is_organizer:
        kinds.add(ORG)
    if user.role >= Role.PLAYER and user.participant_id in match.players and user.acts_in(match.tournament_id):
        kinds.add(PART)
        if user.participant_id not in match.reports:
            kinds.add(OPP)
    return frozenset(kinds)


def authorize(match: Match, action: Action, user: Principal) -> Move:
    """The move `user` may make. Raises ForbiddenError (403) or InvalidTransitionError (409)."""
    kinds = actors_of(match, user)
    anywhere = {a for m in TRANSITIONS.values() if m.action == action for a in m.actors}
    if not kinds & anywhere and not (OPP in anywhere and PART in kinds):
        if anywhere == {ORG}:
            who = "an organizer"
        elif PART in anywhere:
            who = "a player of this match or an organizer"
        else:
            who = "the opponent" + (" or an organizer" if ORG in anywhere else " of the reporting player")
        raise ForbiddenError(f"only {who} may {_verb(action)}", code="insufficient_permissions")
    move = TRANSITIONS.get((match.state, action))
    if move is None:
        raise InvalidTransitionError(
            f"cannot {_verb(action)} while the match is {match.state.value}", state=match.state.value)
    if not kinds & move.actors:
        if OPP in move.actors:
            who = "the opponent or an organizer" if ORG in move.actors else "the opponent"
            raise ForbiddenError(
                f"the player who reported the result cannot {_verb(action)}; {who} must",
                code="not_opponent")
        raise ForbiddenError(f"only an organizer may {_verb(action)} while the match is "
                             f"{match.state.value}", code="insufficient_permissions")
    return move


def _verb(action: Action) -> str:
    return {
        A.OPEN_CHECK_IN: "open check-in", A.CHECK_IN: "check in", A.START: "start the match",
        A.UPDATE_SCORE: "update the score", A.REPORT_RESULT: "report a result",
        A.CONFIRM: "confirm the result", A.DISPUTE: "dispute the result",
        A.RESOLVE: "resolve the dispute", A.FORFEIT: "forfeit the match",
        A.CANCEL: "cancel the match", A.SET_FORMAT: "change how many games the match is",
        A.START_VETO: "start the map veto", A.VETO: "take a veto turn",
    }[action]


def open_check_in(match: Match, now: float) -> Outcome:
    require_players(match)
    after = moved(match, now, state=S.CHECK_IN)
    return Outcome(after, [state_changed(match, after)])


def check_in(match: Match, participant_id: str, now: float) -> Outcome:
    if participant_id not in match.players:
        raise InvalidValueError(f"not a player of this match: {participant_id}", field="participant_id")
    if participant_id in match.checked_in:
        raise InvalidTransitionError(f"{participant_id} has already checked in",
                                     code="already_checked_in", state=match.state.value)
    checked_in = (*match.checked_in, participant_id)
    state = S.READY if set(checked_in) == set(match.players) else S.CHECK_IN
    after = moved(match, now, checked_in=checked_in, state=state)
    events = [(ev.CHECKIN_UPDATED, {"participant_id": participant_id, "checked_in": list(checked_in)})]
    if state is S.READY:
        events.append(state_changed(match, after))
    return Outcome(after, events)


def start(match: Match, now: float) -> Outcome:
    veto.check_ready_to_start(match)
    if match.format.is_series:
        return series.start(match, now)
    require_players(match)
    scores = {pid: 0 for pid in match.players}
    after = moved(match, now, state=S.LIVE, started_at=now, scores=scores)
    return Outcome(after, [(ev.MATCH_STARTED, {"from": match.state.value})])


def check_live_score(match: Match, scores: Mapping[str, int], game: int | None = None) -> None:
    """Refuse a live score that could never be written. Raises InvalidTransitionError
    (game_over: in a series, a game not being played), InvalidValueError."""
    if match.format.is_series:
        series.check_live_score(match, scores, game)
        return
    _single_game(game)
    check_scores(match, scores, complete=False)


def update_score(match: Match, scores: Mapping[str, int], now: float, *, game: int | None = None) -> Outcome:
    """A live score: of the match, or in a series of the game being played (`game`, if given,
    must be its number)."""
    if match.format.is_series:
        return series.update_score(match, scores, game, now)
    _single_game(game)
    merged = {**match.scores, **check_scores(match, scores, complete=False)}
    after = moved(match, now, scores=merged)
    return Outcome(after, [(ev.SCORE_UPDATED, {"scores": merged})])


def _complete(match: Match, result: Report, now: float, **extra: Any) -> tuple[Match, EventSpec]:
    after = moved(match, now, state=S.COMPLETED, result=result, winner_id=result.winner_id,
                   scores=dict(result.scores), ended_at=now)
    return after, (ev.MATCH_COMPLETED, {"result": result.to_json(), "winner_id": result.winner_id,
                                        **extra})


def _single_game(game: int | None, games: object = None) -> None:
    """Refuse a game number (other than 1) or a list of games for a match of one game."""
    if games is not None:
        raise InvalidValueError("games: this match is a single game (best of 1); report its scores", field="games")
    if game not in (None, 1):
        raise InvalidValueError(f"game: this match is a single game (best of 1), it has no game {game}", field="game")


def report_result(match: Match, user: Principal, scores: Mapping[str, int] | None, now: float, *,
                  game: int | None = None, games: Sequence[Mapping[str, int]] | None = None) -> Outcome:
    """A player states the result, or an organizer decides it; in a series, of the game being
    played or of the whole series (`games`).

    The first player's report waits for the opponent; the opponent reporting the same
    scores confirms it, different scores open a dispute by themselves.
    """
    if match.format.is_series:
        return series.report(match, user, scores, game, games, now)
    _single_game(game, games)
    if scores is None:
        raise InvalidValueError("a result needs the scores of both players", field="scores")
    report = report_of(check_scores(match, scores, complete=True))
    if user.is_organizer:
        after, done = _complete(match, report, now, decided_by=user.user_id)
        return Outcome(after, [done])
    reports = {**match.reports, user.participant_id: report}
    if match.state is S.LIVE:
        after = moved(match, now, state=S.PENDING_RESULT, reports=reports, scores=dict(report.scores))
        return Outcome(after, [state_changed(match, after, reported_by=user.participant_id,
                                              report=report.to_json())])
    (first,) = match.reports.values()
    if first == report:
        after, done = _complete(dataclasses.replace(match, reports=reports), report, now,
                                confirmed_by=user.participant_id)
        return Outcome(after, [done])
    return raise_dispute(dataclasses.replace(match, reports=reports), user,
                         "the players reported different results", now)


def confirm(match: Match, user: Principal, now: float) -> Outcome:
    if match.format.is_series:
        return series.confirm(match, user, now)
    (report,) = match.reports.values()
    after, done = _complete(match, report, now, confirmed_by=user.participant_id)
    return Outcome(after, [done])


def resolve(match: Match, dispute: Dispute, user: Principal, *, reject: bool,
            scores: Mapping[str, int] | None, resolution: str, now: float,
            games: Sequence[Mapping[str, int]] | None = None) -> Outcome:
    """Close the open dispute and complete the match (in a series: decide the disputed game,
    or with `games` the whole series).

    Resolving decides the result from `scores`; rejecting keeps the single reported
    result the dispute was raised against. Raises InvalidValueError (422).
    """
    if match.format.is_series:
        return series.resolve(match, dispute, user, reject=reject, scores=scores, games=games,
                              resolution=resolution, now=now)
    _single_game(None, games)
    if reject:
        if len(match.reports) != 1 or scores is not None:
            raise InvalidValueError(
                "a dispute over conflicting reports must be resolved with scores, not rejected"
                if len(match.reports) != 1 else "a rejected dispute keeps the reported result: "
                "leave out scores", field="status")
        (result,) = match.reports.values()
        status = DisputeStatus.REJECTED
    else:
        if scores is None:
            raise InvalidValueError("resolving a dispute needs the final scores", field="scores")
        result = report_of(check_scores(match, scores, complete=True))
        status = DisputeStatus.RESOLVED
    closed = close_dispute(dispute, status, resolution, user, now)
    assert closed is not None
    after, done = _complete(match, result, now, decided_by=user.user_id)
    return Outcome(after, [(ev.DISPUTE_RESOLVED, {"dispute": closed.to_json()}), done], closed)


def forfeit(match: Match, loser_id: str, user: Principal, open_dispute: Dispute | None,
            now: float) -> Outcome:
    winner_id = match.opponent_of(loser_id)
    if winner_id is None:
        raise InvalidValueError(f"not a player of this match: {loser_id}", field="participant_id")
    closed = close_dispute(open_dispute, DisputeStatus.RESOLVED, f"{loser_id} forfeited", user, now)
    after = moved(match, now, state=S.FORFEIT, winner_id=winner_id, ended_at=now,
                  games=series.without_live_game(match), reports={})
    events: list[EventSpec] = []
    if closed:
        events.append((ev.DISPUTE_RESOLVED, {"dispute": closed.to_json()}))
    events.append((ev.MATCH_COMPLETED, {"result": None, "winner_id": winner_id,
                                        "forfeited_by": loser_id}))
    return Outcome(after, events, closed)


def cancel(match: Match, user: Principal, reason: str, open_dispute: Dispute | None,
           now: float) -> Outcome:
    closed = close_dispute(open_dispute, DisputeStatus.REJECTED, "match cancelled", user, now)
    after = moved(match, now, state=S.CANCELLED, ended_at=now, games=series.without_live_game(match))
    events: list[EventSpec] = []
    if closed:
        events.append((ev.DISPUTE_RESOLVED, {"dispute": closed.to_json()}))
    events.append(state_changed(match, after, reason=reason))
    return Outcome(after, events, closed)


def set_format(match: Match, fmt: SeriesFormat, now: float) -> Outcome:
    """An organizer changes how many games a match that has not started is. Raises
    InvalidValueError (a format that can end level, for a bracket match that needs a winner)."""
    check_format_fits(match, fmt)
    if fmt == match.format:
        return Outcome(match, [])
    after = moved(match, now, format=fmt, veto=None)  # a veto is made for a number of games: start it again
    events: list[EventSpec] = [(ev.SERIES_UPDATED, {"format": fmt.to_json(), "series": after.series_json()})]
    if match.veto is not None:
        events.append((ev.VETO_UPDATED, {"veto": None, "cleared": True}))
    return Outcome(after, events)


def check_format_fits(match: Match, fmt: SeriesFormat, field: str = "format") -> None:
    """Raises InvalidValueError when an elimination match would get a format that can end level."""
    if fmt.can_draw and match.slot is not None and match.slot.bracket not in ("round_robin", "swiss"):
        raise InvalidValueError(f"{field}: an elimination match needs a winner, and {fmt.name} games can end "
                                "level; play an odd number", field=field)


def seat(match: Match, slot: int, participant_id: str | None, now: float) -> Outcome:
    """The bracket fills a slot (None: it stays empty, a bye). No change if already so.

    Raises InvalidTransitionError when the slot holds someone else or the match has begun.
    """
    assert match.slot is not None
    current = match.participant_ids[slot]
    already = match.slot.byes[slot] if participant_id is None else current == participant_id
    if already:
        return Outcome(match, [])
    if current is not None or match.slot.byes[slot] or match.state is not S.SCHEDULED:
        raise InvalidTransitionError(f"slot {slot} of {match.slot.key} is already decided",
                                     code="slot_taken", state=match.state.value)
    if participant_id is None:
        byes = (True, match.slot.byes[1]) if slot == 0 else (match.slot.byes[0], True)
        after = moved(match, now, slot=dataclasses.replace(match.slot, byes=byes))
    else:
        ids = (participant_id, match.participant_ids[1]) if slot == 0 else (match.participant_ids[0], participant_id)
        after = moved(match, now, participant_ids=ids)
    return Outcome(after, [(ev.BRACKET_UPDATED, {"slot": slot, "participant_id": participant_id,
                                                 "bye": participant_id is None})])


def walkover(match: Match, reason: str, now: float) -> Outcome:
    """A bracket match that will not be played ends: its one player, if any, goes on as winner.

    Raises InvalidTransitionError unless the match is scheduled.
    """
    assert match.slot is not None
    if match.state is not S.SCHEDULED:
        raise InvalidTransitionError(f"{match.slot.key} is {match.state.value}", state=match.state.value)
    winner = match.players[0] if len(match.players) == 1 else None
    slot = dataclasses.replace(match.slot, walkover=True)
    if winner is None and len(match.players) == 2:
        raise InvalidTransitionError(f"{match.slot.key} has both players", state=match.state.value)
    state = S.COMPLETED if winner else S.CANCELLED
    after = moved(match, now, state=state, winner_id=winner, ended_at=now, slot=slot)
    if winner:
        return Outcome(after, [(ev.MATCH_COMPLETED, {"result": None, "winner_id": winner, "walkover": reason})])
    return Outcome(after, [state_changed(match, after, reason=reason)])


def correct(match: Match, scores: Mapping[str, int] | None, user: Principal, now: float, *,
            game: int | None = None, games: Sequence[Mapping[str, int]] | None = None) -> Outcome:
    """An organizer replaces a decided match's result (in a series: one game's, or the whole
    series'); the old one goes into its history.

    Raises InvalidTransitionError unless the match is completed or forfeited,
    InvalidValueError for bad scores.
    """
    check_correctable(match)
    if match.format.is_series:
        return series.correct(match, user, now, scores=scores, game=game, games=games)
    _single_game(game, games)
    if scores is None:
        raise InvalidValueError("a correction needs the scores of both players", field="scores")
    result = report_of(check_scores(match, scores, complete=True))
    history = (*match.history, past(match, user.user_id, now, "corrected"))
    after = moved(match, now, state=S.COMPLETED, result=result, winner_id=result.winner_id,
                   scores=dict(result.scores), history=history)
    return Outcome(after, [(ev.RESULT_CORRECTED, {"result": result.to_json(), "winner_id": result.winner_id,
                                                  "previous": history[-1]})])


def check_correctable(match: Match) -> None:
    """Raises InvalidTransitionError unless the match is decided (completed or forfeited) or a
    series being played (its decided games may be corrected)."""
    under_way = match.format.is_series and match.state is S.LIVE
    if match.state not in (S.COMPLETED, S.FORFEIT) and not under_way:
        raise InvalidTransitionError(f"only a decided match (or a game of a series being played) can be "
                                     f"corrected, not a {match.state.value} one", state=match.state.value)


def undo_correction(match: Match, user: Principal, now: float) -> Outcome:
    """An organizer puts back the result the latest correction replaced (`moves.corrected_entry`);
    in a series `series.undo`, which may send a series back to being played. Raises
    InvalidValueError (nothing to undo: field undo), and as `correct`."""
    entry = corrected_entry(match)
    check_correctable(match)
    if match.format.is_series:
        return series.undo(match, entry, user, now)
    return correct(match, dict(entry["result"]["scores"]), user, now)


def reopen(match: Match, clear: Iterable[int], user: Principal, now: float) -> Outcome:
    """A later match goes back to scheduled because a result before it changed: the slots in
    `clear` are emptied (to be filled again) and any result it had goes into its history."""
    assert match.slot is not None
    ids = list(match.participant_ids)
    for slot in clear:
        ids[slot] = None
    history = match.history
    if match.state is not S.SCHEDULED:
        history = (*history, past(match, user.user_id, now, "reset by a correction"))
    after = moved(match, now, state=S.SCHEDULED, participant_ids=(ids[0], ids[1]), scores={}, checked_in=(),
                   reports={}, result=None, winner_id=None, started_at=None, ended_at=None, history=history, games=(),
                   slot=dataclasses.replace(match.slot, walkover=False), call=None)  # its station is free again
    return Outcome(after, [(ev.BRACKET_UPDATED, {"reset": True, "cleared_slots": sorted(clear)})])
