"""The call queue, pure: which matches wait for a station and in what order, which free
station takes which match, and when each queued match should start.

Order: the earliest round first (a match's depth: one more than the deepest match that feeds
it, so a losers-bracket round follows the winners round whose losers it takes), then bracket
order (winners, losers, third place, grand final), then position. A match is ready when both
players are known and neither is playing or called elsewhere. ETAs replay the queue on the
stations with the durations measured on the tournament's finished matches.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tournament import calls
from tournament.calls import CALLABLE, PLAYING, is_called
from tournament.models import FINAL_STATES, CallPolicy, Match, SeriesFormat, Station, iso

BRACKET_ORDER = {"winners": 0, "round_robin": 0, "swiss": 0, "losers": 1, "third_place": 2, "grand_final": 3}
DEFAULT_GAME_S = 600.0  # a game's length until the tournament has measured some
STREAM_FIRST = ("none", "top_seeds")
QUEUE_ROWS_MAX = 100  # rows of the queue a view carries: what a board or a desk can show (later ETAs: `etas`)


def _key(match: Match) -> str | None:
    return match.slot.key if match.slot else None


def depths(matches: Sequence[Match]) -> dict[str, int]:
    """match id -> its place in play order: its round, or one more than its deepest feeder."""
    feeders: dict[str, list[Match]] = {}
    for m in matches:
        if m.slot:
            for target in (m.slot.winner_to, m.slot.loser_to):
                if target:
                    feeders.setdefault(target[0], []).append(m)
    memo: dict[str, int] = {}

    def depth(m: Match) -> int:
        if m.id not in memo:
            memo[m.id] = m.round or 1  # a guard against a cycle a broken bracket could hold
            fed = [depth(f) + 1 for f in feeders.get(_key(m) or "", []) if f.id != m.id]
            memo[m.id] = max([m.round or 1, *fed])
        return memo[m.id]

    for m in matches:
        depth(m)
    return memo


def order(matches: Sequence[Match], depth: Mapping[str, int] | None = None) -> list[Match]:
    """The tournament's matches in play order (`depth`: their `depths`, when known)."""
    depth = depth or depths(matches)
    return sorted(matches, key=lambda m: (depth[m.id], BRACKET_ORDER.get(m.slot.bracket, 4) if m.slot else 5,
                                          m.slot.position if m.slot else 0, m.created_at, m.id))


def _unplayed(matches: Sequence[Match], depth: Mapping[str, int] | None) -> list[Match]:
    """Matches still to be played or walked over, in play order: not started, not called."""
    return [m for m in order(matches, depth)
            if m.state in CALLABLE and not is_called(m) and not (m.slot and m.slot.walkover)]


def _bye(match: Match) -> bool:
    """A match with a slot known to stay empty: a walkover once its other player is known."""
    return match.slot is not None and any(match.slot.byes)


def waiting(matches: Sequence[Match], depth: Mapping[str, int] | None = None) -> list[Match]:
    """The matches that wait for a station, in play order: not started, not called, not a
    walkover (nor one to come: a bye)."""
    return [m for m in _unplayed(matches, depth) if not _bye(m)]


def occupied(matches: Iterable[Match]) -> dict[str, Match]:
    """station id -> the open match called to it."""
    return {m.call.station_id: m for m in matches if is_called(m) and m.call is not None}


def plan(matches: Sequence[Match], stations: Sequence[Station], policy: CallPolicy,
         seeds: Mapping[str, int] | None = None) -> list[tuple[str, str]]:
    """(match id, station id) for every free enabled station the queue can fill now: never two
    matches on one station, never a player in two. Stream stations choose first; with
    `stream_first` "top_seeds" they take, of the earliest round ready, the match of the best
    seeds (`seeds`: participant id -> seed; the most watched match), else the queue's next."""
    taken = occupied(matches)
    free = [s for s in stations if s.enabled and s.id not in taken]
    if not free:
        return []
    free.sort(key=lambda s: not s.stream)  # stable: stream stations first, then in their order
    busy = calls.busy_players(matches)
    depth = depths(matches)
    ready = [m for m in waiting(matches, depth) if len(m.players) == 2 and not m.held]
    assigned: list[tuple[str, str]] = []
    chosen_ids: set[str] = set()
    next_index = 0  # ready[:next_index] were all taken or blocked: a queue station looks further on
    for station in free:
        if station.stream and policy.stream_first == "top_seeds":
            candidates = [m for m in ready if m.id not in chosen_ids and not busy & set(m.players)]
            if not candidates:
                continue
            earliest = min(depth[m.id] for m in candidates)
            unseeded = len(seeds or {}) + 1
            chosen: Match | None = min((m for m in candidates if depth[m.id] == earliest),  # the first of equals
                                       key=lambda m: sum((seeds or {}).get(p, unseeded) for p in m.players))
        else:
            chosen = None
            while next_index < len(ready) and chosen is None:
                m = ready[next_index]
                next_index += 1
                if m.id not in chosen_ids and not busy & set(m.players):
                    chosen = m
            if chosen is None:
                break
        assert chosen is not None
        assigned.append((chosen.id, station.id))
        busy.update(chosen.players)
        chosen_ids.add(chosen.id)
    return assigned


# -- ETAs ------------------------------------------------------------------------------------

def expected_games(fmt: SeriesFormat) -> float:
    """Games a series lasts on average, roughly: halfway between clinching and going the distance."""
    return float(fmt.best_of) if fmt.play_all else (fmt.best_of + fmt.to_win) / 2


def occupancy(match: Match) -> float | None:
    """Seconds a finished match held its station (from its call, or its start)."""
    begin = match.call.called_at if match.call else match.started_at
    if match.state not in FINAL_STATES or begin is None or match.ended_at is None or match.started_at is None:
        return None
    if match.slot and match.slot.walkover:
        return None
    return max(0.0, match.ended_at - begin)


@dataclasses.dataclass(frozen=True)
class Durations:
    """How long a match lasts, from the tournament's finished ones: the median per format, or
    the median of all scaled by games, or DEFAULT_GAME_S a game."""

    by_format: dict[str, float]
    per_game: float
    samples: int

    @classmethod
    def measure(cls, matches: Iterable[Match]) -> Durations:
        by: dict[str, list[float]] = {}
        per_game: list[float] = []
        for m in matches:
            held = occupancy(m)
            if held is not None:
                by.setdefault(m.format.name, []).append(held)
                per_game.append(held / expected_games(m.format))
        return cls({k: statistics.median(v) for k, v in by.items()},
                   statistics.median(per_game) if per_game else DEFAULT_GAME_S, len(per_game))

    def of(self, fmt: SeriesFormat) -> float:
        return self.by_format.get(fmt.name, self.per_game * expected_games(fmt))

    def to_json(self) -> dict[str, Any]:
        return {"by_format_s": {k: round(v, 1) for k, v in self.by_format.items()},
                "per_game_s": round(self.per_game, 1), "samples": self.samples}


def etas(matches: Sequence[Match], stations: Sequence[Station], now: float,
         durations: Durations | None = None, depth: Mapping[str, int] | None = None) -> dict[str, float]:
    """match id -> estimated start of every queued match (none without an enabled station);
    `depth` is `depths(matches)` when the caller has it already.

    Replays the queue in play order on the stations: a match starts when a station is free,
    its known players are done with their current match, and the matches feeding it are over.
    """
    durations = durations or Durations.measure(matches)
    enabled = [s for s in stations if s.enabled]
    if not enabled:
        return {}
    taken = occupied(matches)
    player_free: dict[str, float] = {}
    end_at: dict[str, float] = {}  # by bracket key: when the match should be over
    # (when free, station id): the earliest free station gives the earliest start
    free_at = [(now if s.id not in taken else _end(taken[s.id], durations, now), s.id) for s in enabled]
    heapq.heapify(free_at)
    for m in matches:
        if m.state in FINAL_STATES:
            if m.slot:
                end_at[m.slot.key] = now
        elif m.state in PLAYING or is_called(m):
            end = _end(m, durations, now)
            for p in m.players:
                player_free[p] = end
            if m.slot:
                end_at[m.slot.key] = end
    feeders: dict[str, list[str]] = {}
    for m in matches:
        if m.slot:
            for target in (m.slot.winner_to, m.slot.loser_to):
                if target:
                    feeders.setdefault(target[0], []).append(m.slot.key)
    result: dict[str, float] = {}
    for m in _unplayed(matches, depth):
        key = _key(m)
        fed_by = feeders.get(key or "", []) if len(m.players) < 2 else []
        if any(k not in end_at for k in fed_by):
            continue  # its feeders have no estimate (an open match off every station)
        ready = max([now, *(player_free.get(p, now) for p in m.players), *(end_at[k] for k in fed_by)])
        if _bye(m):  # walked over the moment its player is known: no station, no time
            if key:
                end_at[key] = ready
            continue
        free, station = heapq.heappop(free_at)
        start = max(free, ready)
        end = start + durations.of(m.format)
        heapq.heappush(free_at, (end, station))
        for p in m.players:
            player_free[p] = end
        if key:
            end_at[key] = end
        result[m.id] = start
    return result


def _end(match: Match, durations: Durations, now: float) -> float:
    """When a match being played (or called) should be over; never before now."""
    begin = match.call.called_at if match.call else match.started_at or now
    return max(now, begin + durations.of(match.format))


# -- the view --------------------------------------------------------------------------------

def view(matches: Sequence[Match], stations: Sequence[Station], policy: CallPolicy, now: float,
         rows_max: int = QUEUE_ROWS_MAX) -> dict[str, Any]:
    """The queue as boards and desks show it: every station with its match, the first
    `rows_max` of the queue in order with each match's ETA and why it waits (`queue_total`
    says how many wait in all), the ETAs of the queued matches past those rows that have a
    player known (`etas`, match id -> ETA: a player's page finds its own match there, however
    far down the queue it is), and the measured durations."""
    durations = Durations.measure(matches)
    depth = depths(matches)
    queued = waiting(matches, depth)
    starts = etas(matches, stations, now, durations, depth)
    taken = occupied(matches)
    busy = calls.busy_players(matches)
    minute = functools.cache(_minute)  # queued matches start in waves, a station count at a time
    rows = []
    for m in queued[:rows_max]:
        missing = [feed for pid, feed in zip(m.participant_ids, m.slot.feeds if m.slot else ("", ""))
                   if pid is None]
        rows.append({"match_id": m.id, "key": _key(m), "label": m.label, "round": m.round,
                     "participant_ids": list(m.participant_ids), "state": m.state.value,
                     "format": m.format.to_json(), "ready": len(m.players) == 2 and not busy & set(m.players),
                     "waiting_for": missing, "busy": sorted(busy & set(m.players)), "held": m.held,
                     "eta": minute(starts.get(m.id))})
    # Only matches with a player known: nobody's page looks for the others, and a big
    # bracket's later rounds (no player known yet) would swell every queue_updated several times.
    later = {m.id: minute(starts[m.id]) for m in queued[rows_max:] if m.id in starts and m.players}
    return {
        "stations": [{**s.to_json(), "match": _called(taken[s.id]) if s.id in taken else None,
                      "free_at": _minute(_end(taken[s.id], durations, now)) if s.id in taken else None}
                     for s in stations],
        "queue": rows,
        "queue_total": len(queued),
        "etas": later,
        "calling": policy.to_json(),
        "durations": durations.to_json(),
    }


def _minute(ts: float | None) -> str | None:
    """An estimate to the minute: finer would be false precision, and would make every view
    differ from the last (the queue is announced only when it changed)."""
    return None if ts is None else iso(round(ts / 60) * 60)


def _called(m: Match) -> dict[str, Any]:
    return {"match_id": m.id, "key": _key(m), "label": m.label, "round": m.round,
            "participant_ids": list(m.participant_ids), "state": m.state.value,
            "checked_in": list(m.checked_in), "format": m.format.to_json(), "series": m.series_json(),
            "scores": dict(m.scores), "call": m.call.to_json() if m.call else None}
