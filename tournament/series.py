"""Series: a match played as several games (best of N, or all N games), and the pure moves
on its games.

A series goes through the match's own states, with `rules.TRANSITIONS` as its gate: live
while a game is played, pending_result while a report waits for the opponent, disputed,
completed. What differs is what a result is. A game's result completes that game and the
next one goes live at once, until someone can no longer be caught (or, with play_all, every
game is played); a report of the whole series states every game, in order. The series score
(`Match.scores`, games won) is always derived from the games, never set. A correction's
undo puts back what it replaced: a series it ended while being played is played again.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from tournament import events as ev
from tournament import veto
from tournament.errors import InvalidTransitionError, InvalidValueError, SchemaError
from tournament.models import (BEST_OF_1, Dispute, DisputeStatus, Game, GameState, Match, MatchState, Report,
                               SeriesFormat)
from tournament.moves import (EventSpec, Outcome, check_scores, close_dispute, moved, past, raise_dispute,
                              require_players, state_changed, winner_of)
from tournament.roles import Principal

MAX_BEST_OF = 9
S = MatchState


def format_from(value: Any, field: str = "format") -> SeriesFormat:
    """`{"best_of": n, "play_all": false}` as a SeriesFormat: best of an odd number from 1 to
    9, or with `play_all` every one of 2 to 9 games played. Raises SchemaError (the shape)
    or InvalidValueError (the numbers)."""
    if not isinstance(value, dict) or set(value) - {"best_of", "play_all"} or "best_of" not in value:
        raise SchemaError(f'{field} must be an object such as {{"best_of": 3}} or {{"best_of": 2, "play_all": true}}',
                          field=field)
    best_of, play_all = value["best_of"], value.get("play_all", False)
    if not isinstance(best_of, int) or isinstance(best_of, bool) or not isinstance(play_all, bool):
        raise SchemaError(f"{field}: best_of must be an integer and play_all true or false", field=field)
    if play_all and not 2 <= best_of <= MAX_BEST_OF:
        raise InvalidValueError(f"{field}: playing all games needs 2 to {MAX_BEST_OF} of them", field=field)
    if not play_all and not (1 <= best_of <= MAX_BEST_OF and best_of % 2):
        raise InvalidValueError(f"{field}: best of 1, 3, 5, 7 or 9 (or play_all for an even number)",
                                field=field)
    return SeriesFormat(best_of, play_all)


@dataclasses.dataclass(frozen=True)
class SeriesRules:
    """A tournament's formats: a default, and overrides by bracket ("W", "L", "GF"), by round
    ("W3", "L5", "3P", "R2", "S4") or by match ("GF2", "W3-1"); the most precise one applies."""

    default: SeriesFormat = BEST_OF_1
    rounds: Mapping[str, SeriesFormat] = dataclasses.field(default_factory=dict)

    def format_for(self, key: str) -> SeriesFormat:
        for candidate in candidate_keys(key):
            if candidate in self.rounds:
                return self.rounds[candidate]
        return self.default

    def to_json(self) -> dict[str, Any]:
        return {**self.default.to_json(), "rounds": {k: f.to_json() for k, f in self.rounds.items()}}


def candidate_keys(key: str) -> tuple[str, ...]:
    """The keys a match's format may be given by, the narrowest first: the match, its round,
    its bracket; a group-stage match ("B_R2-1") also by its round robin key ("R2-1", "R2",
    "R") and "G", the whole group stage."""
    group, sep, inner = key.partition("_")
    if sep:
        return key, inner, round_key(inner), bracket_key(inner), "G"
    return key, round_key(key), bracket_key(key)


def round_key(key: str) -> str:
    """The round a bracket match key is in: "W2-3" -> "W2"; "GF1", "3P" are their own."""
    return key.split("-", 1)[0]


def bracket_key(key: str) -> str:
    """The bracket a match key is in: "W2-3" -> "W", "L1-1" -> "L", "GF2" -> "GF", "R3-2" -> "R";
    "3P" is its own."""
    letters = key[:len(key) - len(key.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]
    return letters or key


def rules_from(value: Any, field: str = "series") -> SeriesRules:
    """`{"best_of": 3, "rounds": {"GF": {"best_of": 5}}}` as SeriesRules (no value: best of 1
    everywhere). Raises SchemaError or InvalidValueError."""
    if value is None:
        return SeriesRules()
    if not isinstance(value, dict):
        raise SchemaError(f'{field} must be an object such as {{"best_of": 3, "rounds": {{"GF": {{"best_of": 5}}}}}}',
                          field=field)
    rounds = {} if value.get("rounds") is None else value["rounds"]
    if not isinstance(rounds, dict) or len(rounds) > 64:
        raise SchemaError(f"{field}.rounds must be an object of at most 64 round keys to formats", field=field)
    default = format_from({k: v for k, v in value.items() if k != "rounds"} or {"best_of": 1}, field)
    for key in rounds:
        if not (isinstance(key, str) and 1 <= len(key) <= 16 and key.isascii()
                and all(c.isalnum() or c == "-" for c in key)):
            raise InvalidValueError(f"{field}.rounds: {key!r} is not a round key such as W3, L5, GF, GF2, 3P, R2, S4",
                                    field=field)
    return SeriesRules(default, {key: format_from(fmt, f"{field}.rounds.{key}") for key, fmt in rounds.items()})


# -- the arithmetic --------------------------------------------------------------------------

def score_of(match: Match, games: Sequence[Game]) -> dict[str, int]:
    """Games won by each player."""
    return {pid: sum(1 for g in games if g.state is GameState.COMPLETED and g.winner_id == pid)
            for pid in match.players}


def is_over(fmt: SeriesFormat, score: Mapping[str, int], played: int) -> bool:
    if fmt.play_all:
        return played >= fmt.best_of
    return max(score.values(), default=0) >= fmt.to_win


def series_winner(score: Mapping[str, int]) -> str | None:
    """The player with more games won; None when level (a series played in full)."""
    values = sorted(score.values())
    return None if len(values) < 2 or values[-1] == values[-2] else winner_of(score)


def describe(match: Match, score: Mapping[str, int]) -> str:
    return "-".join(str(score.get(pid, 0)) for pid in match.players)


def _new_game(match: Match, number: int, now: float) -> Game:
    """Game `number`, live at 0-0, on the map (and sides) the veto gave it, if any."""
    name, sides = veto.planned_map(match, number)
    return Game(number=number, state=GameState.LIVE, scores={pid: 0 for pid in match.players}, map=name,
                sides=sides, started_at=now)


# -- reports -----------------------------------------------------------------------------------

def game_report(match: Match, scores: Mapping[str, int], game: int | None) -> Report:
    """The result of the game being played (`game`, if given, must be its number). Raises
    InvalidTransitionError (no game live, a decided game, one not started) or InvalidValueError."""
    current = match.current_game
    if current is None:
        raise InvalidTransitionError("no game of this series is being played", code="no_game_live",
                                     state=match.state.value)
    number = current.number if game is None else game
    if number < current.number:
        raise InvalidTransitionError(f"game {number} is decided; an organizer may correct it",
                                     code="game_decided", state=match.state.value, game=current.number)
    if number > current.number:
        raise InvalidTransitionError(f"game {number} has not started: game {current.number} is being played",
                                     code="game_not_started", state=match.state.value, game=current.number)
    checked = check_scores(match, scores, complete=True)
    return Report(scores=checked, winner_id=winner_of(checked), game=number)


def series_report(match: Match, games: Sequence[Mapping[str, int]], user: Principal) -> Report:
    """The whole series, every game's scores in order from game 1. It must be won (or played
    in full), with no game after it was; a player's report must agree with the games already
    decided. Raises InvalidValueError."""
    fmt = match.format
    if not 1 <= len(games) <= fmt.best_of:
        raise InvalidValueError(f"games: a {fmt.name} has 1 to {fmt.best_of} games, not {len(games)}", field="games")
    results = [check_scores(match, g, complete=True, field="games") for g in games]
    score = {pid: 0 for pid in match.players}
    for number, result in enumerate(results, start=1):
        if is_over(fmt, score, number - 1):
            raise InvalidValueError(f"games: the series was over after game {number - 1} "
                                    f"({describe(match, score)}), so game {number} was not played", field="games")
        score[winner_of(result)] += 1
    if not is_over(fmt, score, len(results)):
        raise InvalidValueError(f"games: {describe(match, score)} does not decide a {fmt.name}; "
                                "report every game until the series is over", field="games")
    if not user.is_organizer:
        for game in match.games:
            if game.state is GameState.COMPLETED and results[game.number - 1] != game.scores:
                raise InvalidValueError(f"games: game {game.number} was decided "
                                        f"{describe(match, game.scores)}; only an organizer may change it",
                                        field="games")
    return Report(scores=score, winner_id=series_winner(score), games=tuple(results))


def game_event(game: Game) -> dict[str, Any]:
    """What game_started and game_completed carry: the game's number as `game`, as every
    event of a game does, and what an overlay shows of it (the match snapshot has the rest)."""
    return {"game": game.number, "scores": dict(game.scores), "winner_id": game.winner_id, "map": game.map,
            "sides": dict(game.sides)}


def _who(reported_by: str | None = None, confirmed_by: str | None = None,
         decided_by: str | None = None) -> dict[str, str]:
    """How a result was reached, for the events (only what applies)."""
    return {k: v for k, v in (("reported_by", reported_by), ("confirmed_by", confirmed_by),
                               ("decided_by", decided_by)) if v}


def _play(match: Match, report: Report, now: float, who: dict[str, str]) -> tuple[Match, list[EventSpec]]:
    """The match with the report's games decided: the series won (completed), or the next
    game live. Each game whose result is new is announced, then the series."""
    first, results = (1, list(report.games)) if report.games else (report.game or 1, [report.scores])
    games = list(match.games[:first - 1])
    announced: list[Game] = []
    for number, scores in enumerate(results, start=first):
        before = match.games[number - 1] if number <= len(match.games) else None
        if before is not None and before.state is GameState.COMPLETED and before.scores == scores:
            games.append(before)
            continue
        game = Game(number=number, state=GameState.COMPLETED, scores=dict(scores),
                    map=before.map if before else veto.planned_map(match, number)[0],
                    sides=dict(before.sides) if before else veto.planned_map(match, number)[1],
                    winner_id=winner_of(scores),
                    reported_by=who.get("reported_by") or who.get("decided_by"),
                    confirmed_by=who.get("confirmed_by"), decided_by=who.get("decided_by"),
                    started_at=before.started_at if before else None, ended_at=now)
        games.append(game)
        announced.append(game)
    score = score_of(match, games)
    if is_over(match.format, score, len(games)):
        winner = series_winner(score)
        result = Report(scores=score, winner_id=winner, games=tuple(dict(g.scores) for g in games))
        after = moved(match, now, state=S.COMPLETED, games=tuple(games), scores=score, result=result,
                      winner_id=winner, reports={}, ended_at=now)
        last: EventSpec = (ev.MATCH_COMPLETED, {"result": result.to_json(), "winner_id": winner, **who})
    else:
        following = _new_game(match, len(games) + 1, now)
        after = moved(match, now, state=S.LIVE, games=(*games, following), scores=score, reports={})
        last = (ev.GAME_STARTED, game_event(following))
    events: list[EventSpec] = [(ev.GAME_COMPLETED, {**game_event(g), **who}) for g in announced]
    return after, [*events, (ev.SERIES_UPDATED, {"format": after.format.to_json(), "series": after.series_json()}), last]


# -- the moves ---------------------------------------------------------------------------------

def start(match: Match, now: float) -> Outcome:
    require_players(match)
    first = _new_game(match, 1, now)
    after = moved(match, now, state=S.LIVE, started_at=now, scores={pid: 0 for pid in match.players},
                  games=(first,), reports={})
    return Outcome(after, [(ev.MATCH_STARTED, {"from": match.state.value}), (ev.GAME_STARTED, game_event(first))])


def check_live_score(match: Match, scores: Mapping[str, int], game: int | None) -> Game:
    """The game a live score is for (the one being played). Raises InvalidTransitionError
    (game_over: it ended, or another is being played) or InvalidValueError."""
    current = match.current_game
    if current is None or (game is not None and game != current.number):
        raise InvalidTransitionError(
            f"game {game} is not being played" + (f": game {current.number} is" if current else ""),
            code="game_over", state=match.state.value, game=current.number if current else None)
    check_scores(match, scores, complete=False)
    return current


def update_score(match: Match, scores: Mapping[str, int], game: int | None, now: float) -> Outcome:
    current = check_live_score(match, scores, game)
    merged = {**current.scores, **scores}
    after = moved(match, now, games=(*match.games[:-1], dataclasses.replace(current, scores=merged)))
    return Outcome(after, [(ev.SCORE_UPDATED, {"scores": merged, "game": current.number})])


def report(match: Match, user: Principal, scores: Mapping[str, int] | None, game: int | None,
           games: Sequence[Mapping[str, int]] | None, now: float) -> Outcome:
    """A player reports a game (or the whole series); an organizer decides it.

    A player's report waits for the opponent, who confirms it by reporting the same; a
    different report opens a dispute. Raises InvalidTransitionError, InvalidValueError.
    """
    if games is not None:
        stated = series_report(match, games, user)
    elif scores is not None:
        stated = game_report(match, scores, game)
    else:
        raise InvalidValueError("a series result is a game's scores (scores, and game if you like) "
                                "or the whole series (games)", field="scores")
    if user.is_organizer:
        after, events = _play(match, stated, now, _who(decided_by=user.user_id))
        return Outcome(after, events)
    reports = {**match.reports, user.participant_id: stated}
    if match.state is S.LIVE:
        games_now = match.games
        current = match.current_game
        if stated.game is not None and current is not None:
            games_now = (*match.games[:-1], dataclasses.replace(current, scores=dict(stated.scores)))
        after = moved(match, now, state=S.PENDING_RESULT, reports=reports, games=games_now)
        return Outcome(after, [state_changed(match, after, reported_by=user.participant_id,
                                              report=stated.to_json())])
    ((first_by, first),) = match.reports.items()
    if first == stated:
        after, events = _play(dataclasses.replace(match, reports=reports), stated, now,
                              _who(reported_by=first_by, confirmed_by=user.participant_id))
        return Outcome(after, events)
    return raise_dispute(dataclasses.replace(match, reports=reports), user,
                         "the players reported different results", now)


def confirm(match: Match, user: Principal, now: float) -> Outcome:
    ((reporter, stated),) = match.reports.items()
    after, events = _play(match, stated, now, _who(reported_by=reporter, confirmed_by=user.participant_id))
    return Outcome(after, events)


def resolve(match: Match, dispute: Dispute, user: Principal, *, reject: bool, scores: Mapping[str, int] | None,
            games: Sequence[Mapping[str, int]] | None, resolution: str, now: float) -> Outcome:
    """Close the open dispute: rejecting keeps the one report it was raised against;
    resolving decides the game (`scores`) or the whole series (`games`). Raises
    InvalidValueError, InvalidTransitionError."""
    if reject:
        if len(match.reports) != 1 or scores is not None or games is not None:
            raise InvalidValueError(
                "a dispute over conflicting reports must be resolved with scores, not rejected"
                if len(match.reports) != 1 else "a rejected dispute keeps the reported result: "
                "leave out scores and games", field="status")
        (stated,) = match.reports.values()
        status = DisputeStatus.REJECTED
    elif games is not None:
        stated, status = series_report(match, games, user), DisputeStatus.RESOLVED
    elif scores is not None:
        stated, status = game_report(match, scores, None), DisputeStatus.RESOLVED
    else:
        raise InvalidValueError("resolving a dispute needs the game's scores, or the whole series (games)",
                                field="scores")
    closed = close_dispute(dispute, status, resolution, user, now)
    assert closed is not None
    after, events = _play(match, stated, now, _who(decided_by=user.user_id))
    return Outcome(after, [(ev.DISPUTE_RESOLVED, {"dispute": closed.to_json()}), *events], closed)


def correct(match: Match, user: Principal, now: float, *, scores: Mapping[str, int] | None,
            game: int | None, games: Sequence[Mapping[str, int]] | None) -> Outcome:
    """An organizer replaces one decided game's scores (`game`, `scores`) or the whole series
    (`games`); the series is derived again and must still be decided. The old result goes
    into the match's history. Raises InvalidTransitionError, InvalidValueError."""
    played = [g for g in match.games if g.state is GameState.COMPLETED]
    if match.state is S.LIVE:
        return _correct_under_way(match, played, user, now, scores=scores, game=game, games=games)
    if games is None:
        if game is None or scores is None:
            raise InvalidValueError("a series is corrected game by game (game and scores) or whole (games)",
                                    field="game" if game is None else "scores")
        if not 1 <= game <= len(played):
            raise InvalidValueError(f"game {game} was not played: games 1 to {len(played)} were", field="game")
        games = [dict(g.scores) for g in played]
        games[game - 1] = check_scores(match, scores, complete=True)
    stated = series_report(match, games, user)
    history = (*match.history, past(match, user.user_id, now, "corrected"))
    rebuilt = []
    for number, result in enumerate(stated.games, start=1):
        before = played[number - 1] if number <= len(played) else None
        if before is not None and before.scores == result:
            rebuilt.append(before)
        else:
            rebuilt.append(Game(number=number, state=GameState.COMPLETED, scores=dict(result),
                                map=before.map if before else None, sides=dict(before.sides) if before else {},
                                winner_id=winner_of(result), reported_by=user.user_id, decided_by=user.user_id,
                                started_at=before.started_at if before else None,
                                ended_at=before.ended_at if before else now))
    after = moved(match, now, state=S.COMPLETED, games=tuple(rebuilt), scores=dict(stated.scores), result=stated,
                  winner_id=stated.winner_id, history=history, reports={}, ended_at=match.ended_at or now)
    return Outcome(after, [(ev.RESULT_CORRECTED, {"result": stated.to_json(), "winner_id": stated.winner_id,
                                                  "previous": history[-1]}),
                           (ev.SERIES_UPDATED, {"format": after.format.to_json(), "series": after.series_json()})])


def _correct_under_way(match: Match, played: list[Game], user: Principal, now: float, *,
                       scores: Mapping[str, int] | None, game: int | None,
                       games: Sequence[Mapping[str, int]] | None) -> Outcome:
    """A decided game of a series still being played gets new scores (`game`, `scores`), or
    every decided game does (`games`, as many as were played). The series goes on from the
    new score, or ends if it is now won (the game being played is dropped). Raises
    InvalidValueError."""
    if games is None:
        if game is None or scores is None:
            raise InvalidValueError("a game of a series under way is corrected with game and scores", field="game")
        if not 1 <= game <= len(played):
            raise InvalidValueError(f"game {game} is not decided: games 1 to {len(played)} are", field="game")
        results = [dict(g.scores) for g in played]
        results[game - 1] = check_scores(match, scores, complete=True)
    else:
        if len(games) != len(played):
            raise InvalidValueError(f"games: {len(played)} games are decided in this series under way, "
                                    f"not {len(games)}", field="games")
        results = [check_scores(match, g, complete=True, field="games") for g in games]
    score = {pid: 0 for pid in match.players}
    for number, result in enumerate(results, start=1):
        if is_over(match.format, score, number - 1):
            raise InvalidValueError(f"the correction would end the series after game {number - 1} "
                                    f"({describe(match, score)}); correct the whole series with games", field="game")
        score[winner_of(result)] += 1
    history = (*match.history, past(match, user.user_id, now, "corrected"))
    rebuilt = tuple(g if g.scores == r else dataclasses.replace(g, scores=dict(r), winner_id=winner_of(r),
                                                                decided_by=user.user_id)
                    for g, r in zip(played, results))
    events: list[EventSpec] = [(ev.RESULT_CORRECTED, {"result": None, "winner_id": None, "previous": history[-1],
                                                      "games": [dict(r) for r in results]})]
    if is_over(match.format, score, len(rebuilt)):
        winner = series_winner(score)
        final = Report(scores=score, winner_id=winner, games=tuple(dict(r) for r in results))
        after = moved(match, now, state=S.COMPLETED, games=rebuilt, scores=score, result=final, winner_id=winner,
                      history=history, ended_at=now)
        events += [(ev.SERIES_UPDATED, {"format": after.format.to_json(), "series": after.series_json()}),
                   (ev.MATCH_COMPLETED, {"result": final.to_json(), "winner_id": winner,
                                         "decided_by": user.user_id})]
    else:
        after = moved(match, now, games=(*rebuilt, *match.games[len(played):]), scores=score, history=history)
        events.append((ev.SERIES_UPDATED, {"format": after.format.to_json(), "series": after.series_json()}))
    return Outcome(after, events)


def undo(match: Match, entry: Mapping[str, Any], user: Principal, now: float) -> Outcome:
    """An organizer puts back what the latest correction replaced (`entry`, its history entry:
    `moves.corrected_entry`), on a decided series or one being played (`rules.undo_correction`
    checks which): a decided series' every game; for a series corrected while under way, its
    decided games, with the game being played going on, or, if that correction ended the
    series, the series as it was (`restore`). Raises InvalidValueError, InvalidTransitionError."""
    if entry.get("result") and entry["result"].get("games"):
        return correct(match, user, now, scores=None, game=None, games=[dict(g) for g in entry["result"]["games"]])
    if entry.get("state") == S.LIVE.value and match.state is not S.LIVE:
        return restore(match, entry, user, now)
    decided = [dict(g["scores"]) for g in entry.get("games", []) if g["state"] == GameState.COMPLETED.value]
    return correct(match, user, now, scores=None, game=None, games=decided)


def restore(match: Match, entry: Mapping[str, Any], user: Principal, now: float) -> Outcome:
    """Undo a correction that ended a series still being played: the series goes back to the
    history `entry` that correction wrote, its games as they were and the game then being
    played live again with its score, the match live with no result. What is undone goes into
    the history too, so a second undo ends the series again. Raises InvalidTransitionError
    (the match is not decided), InvalidValueError (`entry` is not of a series under way)."""
    if match.state not in (S.COMPLETED, S.FORFEIT):
        raise InvalidTransitionError(f"only a decided series goes back to being played, not a {match.state.value} one",
                                     state=match.state.value)
    games = tuple(_game_from_json(g) for g in entry.get("games") or ())
    if entry.get("state") != S.LIVE.value or not games or games[-1].state is not GameState.LIVE:
        raise InvalidValueError("the result to go back to is not a series being played", field="undo")
    history = (*match.history, past(match, user.user_id, now, "corrected"))
    after = moved(match, now, state=S.LIVE, games=games, scores=score_of(match, games), result=None, winner_id=None,
                  reports={}, history=history, ended_at=None)
    return Outcome(after, [
        (ev.RESULT_CORRECTED, {"result": None, "winner_id": None, "previous": history[-1],
                               "games": [dict(g.scores) for g in games if g.state is GameState.COMPLETED]}),
        (ev.SERIES_UPDATED, {"format": after.format.to_json(), "series": after.series_json()}),
        state_changed(match, after, reason="correction undone", game=games[-1].number)])


def _game_from_json(doc: Mapping[str, Any]) -> Game:
    """A game as a history entry holds it (`Game.to_json`: times as ISO 8601, to the millisecond)."""
    def epoch(text: str | None) -> float | None:
        return None if text is None else datetime.datetime.fromisoformat(text).timestamp()

    return Game(number=doc["number"], state=GameState(doc["state"]), scores=dict(doc["scores"]), map=doc.get("map"),
                sides=dict(doc.get("sides") or {}), winner_id=doc.get("winner_id"),
                reported_by=doc.get("reported_by"), confirmed_by=doc.get("confirmed_by"),
                decided_by=doc.get("decided_by"), started_at=epoch(doc.get("started_at")),
                ended_at=epoch(doc.get("ended_at")))


def without_live_game(match: Match) -> tuple[Game, ...]:
    """The games of a series that ends unplayed (forfeit, cancel): the decided ones."""
    return tuple(g for g in match.games if g.state is GameState.COMPLETED)
