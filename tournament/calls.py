"""Calling a match to a station: the pure moves on the match (call, uncall, the check-in
timer running out). Which match goes where is `callqueue`'s; the service is `stations`.

A call is kept in the match, so one write commits it, and a station is busy exactly while an
open match is called to it: nothing else has to be kept in step.
"""

from __future__ import annotations

from collections.abc import Iterable

from tournament import events as ev
from tournament.errors import InvalidTransitionError
from tournament.models import FINAL_STATES, Call, Match, MatchState, Station
from tournament.moves import Outcome, moved, require_players, state_changed

# A match can be called until it starts; a live match stays where it is.
CALLABLE = frozenset({MatchState.SCHEDULED, MatchState.CHECK_IN, MatchState.READY})
# Where a player is busy: a match being played, or one called to a station.
PLAYING = frozenset({MatchState.LIVE, MatchState.PENDING_RESULT, MatchState.DISPUTED})
AUTO = "auto"  # who called a match the queue assigned


def is_called(match: Match) -> bool:
    """Called to a station and not over: the station is busy with it."""
    return match.call is not None and match.state not in FINAL_STATES


def busy_players(matches: Iterable[Match]) -> set[str]:
    """Players being played or called: not to be called, or started, anywhere else."""
    return {p for m in matches if m.state in PLAYING or is_called(m) for p in m.players}


def refuse_double_booking(match: Match, matches: Iterable[Match]) -> None:
    """Raises InvalidTransitionError (player_busy) when a player of `match` is playing, or
    called to a station, in another of `matches`."""
    busy = busy_players(m for m in matches if m.id != match.id) & set(match.players)
    if busy:
        raise InvalidTransitionError(f"playing or called elsewhere: {', '.join(sorted(busy))}", code="player_busy",
                                     participant_ids=sorted(busy), state=match.state.value)


def call(match: Match, station: Station, now: float, by: str, check_in_s: int | None) -> Outcome:
    """Call `match` to `station`: its players are told where to go, and its check-in opens
    with `check_in_s` to check in (None: no timer). Raises InvalidTransitionError."""
    if match.state not in CALLABLE:
        raise InvalidTransitionError(f"cannot call a match that is {match.state.value}", code="not_callable",
                                     state=match.state.value)
    if is_called(match):
        assert match.call is not None
        raise InvalidTransitionError(f"the match is already called to {match.call.station}", code="already_called",
                                     state=match.state.value)
    require_players(match)
    ready = set(match.checked_in) == set(match.players)
    deadline = None if check_in_s is None or ready else now + check_in_s
    state = MatchState.READY if ready else MatchState.CHECK_IN
    after = moved(match, now, state=state, held=False,
                  call=Call(station_id=station.id, station=station.name, called_at=now, by=by, deadline=deadline))
    events = [(ev.MATCH_CALLED, {"station": station.to_json(), "call": after.call.to_json() if after.call else None})]
    if state is not match.state:
        events.append(state_changed(match, after))
    return Outcome(after, events)


def uncall(match: Match, now: float, by: str, reason: str = "", *, hold: bool = True) -> Outcome:
    """Take a called match off its station: it waits in the queue again, its check-ins kept;
    with `hold` auto-assign passes it over until an organizer calls it by hand (else the
    station it just left would take it straight back). Raises InvalidTransitionError."""
    if not is_called(match):
        raise InvalidTransitionError("the match is not called to a station", code="not_called",
                                     state=match.state.value)
    if match.state not in CALLABLE:
        raise InvalidTransitionError(f"the match is {match.state.value}: it stays on its station until it ends",
                                     code="match_under_way", state=match.state.value)
    assert match.call is not None
    after = moved(match, now, call=None, held=hold)
    return Outcome(after, [(ev.MATCH_UNCALLED, {"station_id": match.call.station_id, "station": match.call.station,
                                                "by": by, "reason": reason, "held": hold})])


def expire(match: Match, called_at: float, now: float) -> Outcome:
    """The check-in time of the call made at `called_at` ran out: whoever has not checked in
    is a no-show. Nothing changes when that call is gone, or everyone came."""
    current = match.call
    if (current is None or current.called_at != called_at or current.expired
            or match.state is not MatchState.CHECK_IN):
        return Outcome(match, [])
    missing = tuple(p for p in match.players if p not in match.checked_in)
    if not missing:
        return Outcome(match, [])
    after = moved(match, now, call=Call(station_id=current.station_id, station=current.station,
                                        called_at=current.called_at, by=current.by, deadline=current.deadline,
                                        no_show=missing, expired=True))
    return Outcome(after, [(ev.CALL_EXPIRED, {"no_show": list(missing),
                                              "call": after.call.to_json() if after.call else None})])
