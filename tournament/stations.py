"""StationService: a tournament's stations, calling matches to them (by hand, or the queue by
itself), the players' check-in timers, no-shows, and the live queue.

Stations are kept in the tournament record; a call is kept in its match (see `calls`), so a
station is busy exactly while an open match is called to it. Every decision about one
tournament's stations (a call, auto-assign, a station added or removed) takes that
tournament's calling lock, so two matches are never called to one station, nor one player
to two matches, by this process. Auto-assign wakes on the `CallBell`: a Publisher beside the
hub that notes which tournaments had a match move that may free a station or ready a match.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from tournament import callqueue, calls
from tournament import events as ev
from tournament.errors import AlreadyExistsError, InvalidTransitionError, InvalidValueError, ShuttingDownError
from tournament.events import Publisher
from tournament.locks import InFlight, KeyedLocks
from tournament.matches import MatchService
from tournament.models import (CallPolicy, Event, Match, MatchState, Station, Tournament, TournamentState,
                               new_id, tournament_stream)
from tournament.roles import SYSTEM, Principal
from tournament.scheduler import Scheduler, Timers
from tournament.store import NotFoundError, Store
from tournament.tournaments import require_organizer
from tournament.writer import MatchWriter

log = logging.getLogger(__name__)

MAX_STATIONS = 256
MAX_CHECK_IN_S = 3600.0
# Match events after which the queue may move: a station freed, a match ready, a player free.
RINGS = frozenset({ev.MATCH_STATE_CHANGED, ev.MATCH_STARTED, ev.MATCH_COMPLETED, ev.BRACKET_UPDATED,
                   ev.BRACKET_GENERATED, ev.CHECKIN_UPDATED, ev.MATCH_CALLED, ev.MATCH_UNCALLED,
                   ev.CALL_EXPIRED, ev.RESULT_CORRECTED, ev.SERIES_UPDATED, ev.TOURNAMENT_STATE_CHANGED,
                   ev.TOURNAMENT_COMPLETED})


class CallBell:
    """A Publisher that notes the tournaments whose queue may have moved; `rung` waits for some."""

    def __init__(self) -> None:
        self._due: set[str] = set()
        self._rang = asyncio.Event()

    def publish(self, event: Event) -> None:
        tournament_id = event.data.get("tournament_id")
        if event.type in RINGS and isinstance(tournament_id, str):
            self._due.add(tournament_id)
            self._rang.set()

    def wake(self) -> None:
        """Wake the waiter with nothing due (it is told to stop)."""
        self._rang.set()

    async def rung(self) -> set[str]:
        """The tournaments noted since the last call (waits for at least one)."""
        await self._rang.wait()
        self._rang.clear()
        due, self._due = self._due, set()
        return due


class StationService:
    def __init__(self, store: Store, writer: MatchWriter, matches: MatchService, publisher: Publisher,
                 scheduler: Scheduler, bell: CallBell, clock: Callable[[], float] = time.time,
                 locks: KeyedLocks | None = None) -> None:
        self._store = store
        self._writer = writer
        self._matches = matches
        self._publisher = publisher
        self._scheduler = scheduler
        self._bell = bell
        self._clock = clock
        self._tournament_locks = locks or KeyedLocks()  # shared with registration and the bracket
        self._calling = KeyedLocks()  # per tournament: one decision about its stations at a time
        self._timers = Timers(scheduler)  # match id -> its call's check-in timer
        self._views: dict[str, dict[str, Any]] = {}  # tournament id -> the queue last announced
        self._work = InFlight()  # calls, fills and timeouts under way (close() waits for them)
        self.closing = False

    # -- stations ----------------------------------------------------------------------------

    async def add_station(self, tournament_id: str, user: Principal, name: str, *, stream: bool = False,
                          enabled: bool = True) -> Station:
        """Raises ForbiddenError, NotFoundError, AlreadyExistsError (the name), InvalidValueError (too many)."""
        require_organizer(user, "add stations")
        station = Station(id=new_id("st"), name=name, stream=stream, enabled=enabled)

        def change(t: Tournament) -> Tournament:
            if len(t.stations) >= MAX_STATIONS:
                raise InvalidValueError(f"a tournament has at most {MAX_STATIONS} stations", field="name")
            _unique_name(t, name, None)
            return dataclasses.replace(t, stations=(*t.stations, station))

        await self._change_tournament(tournament_id, change, ev.STATION_UPDATED, {"station": station.to_json()})
        return station

    async def update_station(self, tournament_id: str, station_id: str, user: Principal, *,
                             name: str | None = None, stream: bool | None = None,
                             enabled: bool | None = None) -> Station:
        """Rename, mark for the stream, enable or disable (a disabled station keeps the match
        called to it and gets no other). Raises ForbiddenError, NotFoundError, AlreadyExistsError."""
        require_organizer(user, "change stations")
        changed: list[Station] = []

        def change(t: Tournament) -> Tournament:
            old = _station_of(t, station_id)
            if name is not None:
                _unique_name(t, name, station_id)
            new = dataclasses.replace(old, name=old.name if name is None else name,
                                      stream=old.stream if stream is None else stream,
                                      enabled=old.enabled if enabled is None else enabled)
            changed.append(new)
            return dataclasses.replace(t, stations=tuple(new if s.id == station_id else s for s in t.stations))

        await self._change_tournament(tournament_id, change, ev.STATION_UPDATED,
                                      lambda: {"station": changed[0].to_json()})
        return changed[0]

    async def remove_station(self, tournament_id: str, station_id: str, user: Principal) -> None:
        """Raises ForbiddenError, NotFoundError, InvalidTransitionError (station_busy: a match
        is called to it; take it off or let it end first)."""
        require_organizer(user, "remove stations")

        def change(t: Tournament, matches: list[Match]) -> Tournament:
            _station_of(t, station_id)
            busy = callqueue.occupied(matches)
            if station_id in busy:
                match = busy[station_id]
                raise InvalidTransitionError(
                    f"{match.label or match.id} is called to this station: take it off the station first",
                    code="station_busy", match_id=match.id, state=match.state.value)
            return dataclasses.replace(t, stations=tuple(s for s in t.stations if s.id != station_id))

        await self._change_tournament(tournament_id, change, ev.STATION_REMOVED, {"station_id": station_id},
                                      with_matches=True)

    async def set_calling(self, tournament_id: str, user: Principal, **changes: Any) -> CallPolicy:
        """Change how the tournament calls matches (the fields of CallPolicy). Raises
        ForbiddenError, NotFoundError, InvalidValueError."""
        require_organizer(user, "change how matches are called")
        if changes.get("stream_first") not in (None, *callqueue.STREAM_FIRST):
            raise InvalidValueError(f"stream_first must be one of {', '.join(callqueue.STREAM_FIRST)}",
                                    field="stream_first")
        check_in_s = changes.get("check_in_s")
        if check_in_s is not None and not 10 <= check_in_s <= MAX_CHECK_IN_S:
            raise InvalidValueError(f"check_in_s must be between 10 and {MAX_CHECK_IN_S:.0f} seconds (or null: "
                                    "no timer)", field="check_in_s")
        policy: list[CallPolicy] = []
        if not changes:
            return (await self._store.get_tournament(tournament_id)).calling

        def change(t: Tournament) -> Tournament:
            policy.append(dataclasses.replace(t.calling, **changes))
            return dataclasses.replace(t, calling=policy[0])

        await self._change_tournament(tournament_id, change, ev.CALLING_UPDATED,
                                      lambda: {"calling": policy[0].to_json()})
        return policy[0]

    async def _change_tournament(self, tournament_id: str, change: Callable[..., Tournament], kind: str,
                                 data: dict[str, Any] | Callable[[], dict[str, Any]], *,
                                 with_matches: bool = False) -> None:
        """Change the tournament record under its calling and tournament locks (`change` is
        given the tournament, and with `with_matches` its matches, read under them), then
        announce `kind` and fill the stations."""
        self._refuse_when_closing()
        with self._work.hold():
            async with self._calling.hold(tournament_id), self._tournament_locks.hold(tournament_id):
                tournament = await self._store.get_tournament(tournament_id)
                if with_matches:
                    after = change(tournament, await self._store.list_matches(tournament_id))
                else:
                    after = change(tournament)
                saved = dataclasses.replace(after, version=tournament.version + 1)
                await self._store.save_tournament(saved)
            self._announce(tournament_id, kind, {"stations": [s.to_json() for s in saved.stations],
                                                 **(data() if callable(data) else data)})
            await self.fill(tournament_id)

    # -- the queue ---------------------------------------------------------------------------

    async def queue(self, tournament_id: str) -> dict[str, Any]:
        """The stations with their matches, the queue with ETAs, the calling policy. Raises NotFoundError."""
        tournament = await self._store.get_tournament(tournament_id)
        return self._view(tournament, await self._store.list_matches(tournament_id))

    def _view(self, tournament: Tournament, matches: list[Match]) -> dict[str, Any]:
        return {"tournament_id": tournament.id,
                **callqueue.view(matches, tournament.stations, tournament.calling, self._clock())}

    def welcome_queue(self, tournament: Tournament, matches: list[Match]) -> dict[str, Any] | None:
        """The queue a tournament socket's welcome carries: the one last announced (which the
        room's events follow), else made now; None without stations. Not made per welcome:
        a reconnecting hall would make it thousands of times."""
        if not tournament.stations:
            return None
        return self._views.get(tournament.id) or self._view(tournament, matches)

    async def call(self, match_id: str, user: Principal, station_id: str) -> Match:
        """Call a match to a free station (organizers). Raises ForbiddenError, NotFoundError,
        InvalidTransitionError (station_busy, station_disabled, player_busy, not_callable,
        already_called, players_missing)."""
        require_organizer(user, "call matches to stations")
        self._refuse_when_closing()
        with self._work.hold():
            match = await self._store.get_match(match_id)
            async with self._calling.hold(match.tournament_id):
                tournament = await self._store.get_tournament(match.tournament_id)
                station = _station_of(tournament, station_id)
                matches = await self._store.list_matches(match.tournament_id)
                taken = callqueue.occupied(matches)
                if station_id in taken and taken[station_id].id != match_id:
                    other = taken[station_id]
                    raise InvalidTransitionError(f"{station.name} is busy with {other.label or other.id}",
                                                 code="station_busy", match_id=other.id, state=match.state.value)
                if not station.enabled:
                    raise InvalidTransitionError(f"{station.name} is disabled", code="station_disabled",
                                                 state=match.state.value)
                calls.refuse_double_booking(match, matches)
                called = await self._call(match_id, station, user.user_id, tournament.calling)
            await self._refresh(match.tournament_id)
            return called

    async def uncall(self, match_id: str, user: Principal, reason: str = "", *, hold: bool = True) -> Match:
        """Take a match that has not started off its station (organizers); it waits in the
        queue again, held from auto-assign unless `hold` is false. Raises ForbiddenError,
        NotFoundError, InvalidTransitionError (not_called, match_under_way)."""
        require_organizer(user, "take matches off stations")
        self._refuse_when_closing()
        with self._work.hold():
            match = await self._store.get_match(match_id)
            async with self._calling.hold(match.tournament_id):
                outcome = await self._writer.write(match_id, lambda m: calls.uncall(m, self._clock(), user.user_id,
                                                                                      reason, hold=hold))
            self._timers.disarm(match_id)
            await self.fill(match.tournament_id)
            return outcome.match

    async def fill(self, tournament_id: str) -> list[Match]:
        """With auto-assign on, call the queue's next matches to every free station; then
        announce the queue if it changed. Returns the matches called."""
        called: list[Match] = []
        if self.closing:
            return called
        with self._work.hold():
            async with self._calling.hold(tournament_id):
                tournament = await self._store.get_tournament(tournament_id)
                if not tournament.stations and tournament_id not in self._views:
                    return called
                matches = await self._store.list_matches(tournament_id)
                if tournament.calling.auto_assign and tournament.state not in (TournamentState.COMPLETED,
                                                                               TournamentState.CANCELLED):
                    seeds = {pid: i for i, pid in enumerate(tournament.seed_order, start=1)}
                    for match_id, station_id in callqueue.plan(matches, tournament.stations, tournament.calling,
                                                               seeds):
                        station = _station_of(tournament, station_id)
                        try:
                            called.append(await self._call(match_id, station, calls.AUTO, tournament.calling))
                        except InvalidTransitionError as e:  # it moved meanwhile (started by hand, say)
                            log.info("auto-assign skipped %s: %s", match_id, e.message)
            if called:  # the calls changed those matches: the queue is read again
                await self._refresh(tournament_id)
            else:
                await self._refresh(tournament_id, tournament, matches)
            return called

    async def _call(self, match_id: str, station: Station, by: str, policy: CallPolicy) -> Match:
        outcome = await self._writer.write(
            match_id, lambda m: calls.call(m, station, self._clock(), by, policy.check_in_s))
        self._arm(outcome.match)
        return outcome.match

    async def _refresh(self, tournament_id: str, tournament: Tournament | None = None,
                       matches: list[Match] | None = None) -> None:
        """Announce the queue (queue_updated) when it is not what was announced last (from
        `tournament` and `matches` when the caller has just read them)."""
        if tournament is None or matches is None:
            view = await self.queue(tournament_id)
        else:
            view = self._view(tournament, matches)
        if self._views.get(tournament_id) != view:
            self._views[tournament_id] = view
            self._announce(tournament_id, ev.QUEUE_UPDATED, {"queue": view})

    def _announce(self, tournament_id: str, kind: str, data: dict[str, Any]) -> None:
        self._publisher.publish(Event(stream=tournament_stream(tournament_id), seq=0, type=kind,
                                      data={"tournament_id": tournament_id, **data}, ts=self._clock()))

    # -- check-in timers ---------------------------------------------------------------------

    def _arm(self, match: Match) -> None:
        self._timers.disarm(match.id)
        call = match.call
        if call is None or call.deadline is None or call.expired or self.closing:
            return
        if match.state is not MatchState.CHECK_IN:
            return
        self._timers.arm(match.id, call.deadline - self._clock(), lambda: self._timed_out(match.id, call.called_at))

    async def _timed_out(self, match_id: str, called_at: float) -> None:
        """A call's check-in time ran out: its absent players are no-shows, and a one-sided
        no-show forfeits when the tournament says so. Never raises."""
        self._timers.fired(match_id)
        if self.closing:
            return
        with self._work.hold():
            try:
                outcome = await self._writer.write(match_id, lambda m: calls.expire(m, called_at, self._clock()))
                after = outcome.match
                if not outcome.events or after.call is None:
                    return
                tournament = await self._store.get_tournament(after.tournament_id)
                if tournament.calling.forfeit_no_show and len(after.call.no_show) == 1:
                    await self._matches.forfeit(match_id, SYSTEM, after.call.no_show[0])
                await self._refresh(after.tournament_id)
            except NotFoundError:
                pass  # the match went with a bracket reset
            except Exception:
                log.exception("the check-in timeout of %s failed", match_id)

    async def resume(self, tournament_id: str) -> None:
        """After a restart: arm the check-in timers of the tournament's calls (a deadline
        already past runs out at once), and fill its free stations."""
        for match in await self._store.list_matches(tournament_id):
            if calls.is_called(match):
                self._arm(match)
        await self.fill(tournament_id)

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        """Begin answering the bell (auto-assign), through the scheduler, until close()."""
        self._scheduler.call_later(0, self._answer_bell)

    async def _answer_bell(self) -> None:
        while not self.closing:
            for tournament_id in await self._bell.rung():
                if self.closing:
                    return
                try:
                    await self.fill(tournament_id)
                except NotFoundError:
                    self._views.pop(tournament_id, None)
                except Exception:
                    log.exception("the queue of %s could not be filled", tournament_id)

    async def close(self) -> None:
        """Call no more matches, stop the timers (a restart re-arms them from the matches), and
        wait for the calls, fills and timeouts under way: once this returns, none writes."""
        self.closing = True
        self._timers.clear()
        self._bell.wake()  # the bell's waiter sees `closing` and ends
        await self._work.idle()

    def _refuse_when_closing(self) -> None:
        if self.closing:
            raise ShuttingDownError("the server is shutting down; retry once it is back")


def _station_of(tournament: Tournament, station_id: str) -> Station:
    station = tournament.station(station_id)
    if station is None:
        raise NotFoundError("station", station_id)
    return station


def _unique_name(tournament: Tournament, name: str, station_id: str | None) -> None:
    if any(s.name.casefold() == name.casefold() and s.id != station_id for s in tournament.stations):
        raise AlreadyExistsError(f"a station named {name!r} exists already")
