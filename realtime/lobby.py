"""Lobby: the room of the home page and venue screens, every tournament's summary kept live.

The lobby is a Publisher beside the hub: from the events every service already publishes it
keeps, per tournament, its name, format and state, who is registered (added and removed) and
which matches are in play, and announces a summary that changed to the `lobby` room (numbered
in memory, like a tournament room, so `since`/`epoch` recovery works the same). Watcher counts
are read from the hub every `watchers_interval_s` (with `tally`, every node's, from Redis) and
announced when they moved. The summaries
of the newest `max_tournaments` are read from the store once, when the lobby is first watched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from realtime.hub import Hub, tournament_room
from tournament.events import (BRACKET_GENERATED, PARTICIPANT_ADDED, PARTICIPANT_REMOVED, PARTICIPANT_UPDATED,
                               TOURNAMENT_COMPLETED, TOURNAMENT_CREATED, TOURNAMENT_DELETED)
from tournament.models import IN_PLAY, Event, MatchState
from tournament.scheduler import Scheduler
from tournament.tournaments import TournamentService

log = logging.getLogger(__name__)

LOBBY_ROOM = "lobby"
CREATED = "tournament_listed"  # a tournament the lobby did not show yet
UPDATED = "tournament_summary"  # a shown tournament's summary changed
REMOVED = "tournament_unlisted"  # a shown tournament was deleted or archived


@dataclasses.dataclass
class Summary:
    tournament: dict[str, Any]  # the tournament's JSON (models.Tournament.to_json)
    participants: set[str] = dataclasses.field(default_factory=set)
    in_play: set[str] = dataclasses.field(default_factory=set)  # ids of its matches in play
    watchers: int = 0

    def to_json(self) -> dict[str, Any]:
        t = self.tournament
        return {"id": t["id"], "name": t["name"], "game": t["game"], "format": t["format"], "state": t["state"],
                "created_at": t["created_at"], "participants": len(self.participants),
                "matches_in_play": len(self.in_play), "watchers": self.watchers}


class Lobby:
    def __init__(self, hub: Hub, scheduler: Scheduler, clock: Callable[[], float] = time.time,
                 max_tournaments: int = 100, watchers_interval_s: float = 2.0,
                 tally: Callable[[list[str]], Awaitable[dict[str, int]]] | None = None) -> None:
        self._hub = hub
        self._scheduler = scheduler
        self._clock = clock
        self._max = max_tournaments
        self.watchers_interval_s = watchers_interval_s
        self._summaries: dict[str, Summary] = {}  # newest first
        self._loaded: asyncio.Future[None] | None = None
        self._early: list[Event] = []  # events published while the store was being read
        self._timer: object | None = None
        # with --broker: every node's watchers of these rooms (RedisCounts.watchers)
        self._tally = tally
        self._tallying: asyncio.Future[None] | None = None

    # -- what the welcome shows --------------------------------------------------------------

    async def summaries(self, tournaments: TournamentService) -> list[dict[str, Any]]:
        """Every shown tournament's summary, newest first (read from the store the first
        time). Raises StorageError, NotFoundError."""
        if self._loaded is None:
            self._loaded = asyncio.get_running_loop().create_future()
            try:
                await self._load(tournaments)
            except BaseException as e:
                self._loaded.set_exception(e)
                self._loaded.exception()  # retrieved here: the next welcome tries again
                self._loaded = None
                self._early.clear()  # the next read sees them
                raise
            self._loaded.set_result(None)
        await asyncio.shield(self._loaded)
        return [s.to_json() for s in self._summaries.values()]

    async def _load(self, tournaments: TournamentService) -> None:
        loaded: dict[str, Summary] = {}
        for tournament in await tournaments.list_tournaments(self._max):
            summary = loaded[tournament.id] = Summary(tournament.to_json())
            summary.participants = {p.id for p in await tournaments.list_participants(tournament.id)}
            if tournament.state == "live":
                summary.in_play = {m.id for m in await tournaments.list_matches(tournament.id) if m.state in IN_PLAY}
        self._summaries = loaded
        early, self._early = self._early, []
        for event in early:  # what happened while the store was read; applying twice is harmless
            self._apply(event, announce=False)
        for tid, summary in self._summaries.items():
            summary.watchers = self._hub.watchers(tournament_room(tid))

    # -- keeping it live (the Publisher interface) --------------------------------------------

    def publish(self, event: Event) -> None:
        """Fold a published event into the summaries; announce the one that changed. Never raises."""
        try:
            if self._loaded is None:  # nobody watched yet: the first watcher reads the store
                return
            if not self._loaded.done():  # being read: folded in once it is
                self._early.append(event)
                return
            self._apply(event, announce=True)
        except Exception:
            log.exception("the lobby could not take %s %s", event.stream, event.type)

    def _apply(self, event: Event, *, announce: bool) -> None:
        data = event.data
        tid = data.get("tournament_id")
        if not isinstance(tid, str):
            return
        snapshot = data.get("tournament")
        summary = self._summaries.get(tid)
        if event.type == TOURNAMENT_DELETED or (isinstance(snapshot, dict) and snapshot.get("archived")):
            if self._summaries.pop(tid, None) is not None and announce:
                self._hub.broadcast_event(LOBBY_ROOM, REMOVED, {"tournament_id": tid}, int(event.ts * 1000))
            return
        created = False
        if summary is None:
            if event.type != TOURNAMENT_CREATED or not isinstance(snapshot, dict):
                return  # a tournament older than the ones shown
            summary = Summary(snapshot)
            self._summaries = {tid: summary, **self._summaries}
            while len(self._summaries) > self._max:
                self._summaries.pop(next(reversed(self._summaries)))
            created = True
        before = summary.to_json()
        if isinstance(snapshot, dict) and snapshot.get("version", 0) >= summary.tournament.get("version", 0):
            summary.tournament = snapshot
        if event.type in (PARTICIPANT_ADDED, PARTICIPANT_UPDATED) and "participant" in data:
            entry = data["participant"]  # only the registered count (not the pending, waitlisted, dropped)
            if entry.get("status", "registered") == "registered":
                summary.participants.add(entry["id"])
            else:
                summary.participants.discard(entry["id"])
        elif event.type == PARTICIPANT_REMOVED:
            summary.participants.discard(data["participant_id"])
        match = data.get("match")
        if isinstance(match, dict):
            if MatchState(match["state"]) in IN_PLAY:
                summary.in_play.add(match["id"])
            else:
                summary.in_play.discard(match["id"])
        if event.type in (BRACKET_GENERATED, TOURNAMENT_COMPLETED) and summary.tournament.get("state") != "live":
            summary.in_play.clear()
        if announce and (created or summary.to_json() != before):
            self._announce(CREATED if created else UPDATED, summary, event.ts)

    def _announce(self, kind: str, summary: Summary, ts: float) -> None:
        self._hub.broadcast_event(LOBBY_ROOM, kind, {"tournament": summary.to_json()}, int(ts * 1000))

    # -- watcher counts -----------------------------------------------------------------------

    def start(self) -> None:
        if self._timer is None:
            self._timer = self._scheduler.call_later(self.watchers_interval_s, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._scheduler.remove_timeout(self._timer)
            self._timer = None
        if self._tallying is not None:
            self._tallying.cancel()
            self._tallying = None

    def _tick(self) -> None:
        self._timer = None
        try:
            if self._tally is None:
                self.count_watchers()
            elif self._tallying is None or self._tallying.done():
                self._tallying = asyncio.ensure_future(self.tally_watchers())
        finally:
            self.start()

    def count_watchers(self) -> None:
        """Announce every shown tournament whose watcher count (this node's hub) moved since the
        last count."""
        if self._loaded is None or not self._loaded.done():
            return
        self._announce_watchers({tid: self._hub.watchers(tournament_room(tid)) for tid in self._summaries})

    async def tally_watchers(self) -> None:
        """As count_watchers, with every node's counts (`tally`); when they cannot be read, the
        counts stay as they were until the next tick. Never raises."""
        if self._tally is None or self._loaded is None or not self._loaded.done():
            return
        tids = list(self._summaries)
        try:
            counts = await self._tally([tournament_room(tid) for tid in tids])
        except Exception as e:  # Redis away: the next tick tries again
            log.debug("the lobby could not count the watchers: %s", e)
            return
        self._announce_watchers({tid: counts.get(tournament_room(tid), 0) for tid in tids})

    def _announce_watchers(self, counts: dict[str, int]) -> None:
        for tid, watchers in counts.items():
            summary = self._summaries.get(tid)
            if summary is not None and watchers != summary.watchers:
                summary.watchers = watchers
                self._announce(UPDATED, summary, self._clock())

