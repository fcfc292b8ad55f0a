"""Standings tables: results counted into rows, and rows ranked by an ordered list of tiebreaks."""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

Result = tuple[str, str, int, int]  # (a, b, score_a, score_b) of a completed match; equal scores: a draw

WINS = "wins"
POINTS = "points"
HEAD_TO_HEAD = "head_to_head"
SCORE_DIFFERENCE = "score_difference"
SCORE_FOR = "score_for"
BUCHHOLZ = "buchholz"
MEDIAN_BUCHHOLZ = "median_buchholz"
SONNEBORN_BERGER = "sonneborn_berger"
SEED = "seed"
CRITERIA = (WINS, POINTS, HEAD_TO_HEAD, SCORE_DIFFERENCE, SCORE_FOR, BUCHHOLZ, MEDIAN_BUCHHOLZ,
            SONNEBORN_BERGER, SEED)

ROUND_ROBIN_DEFAULT = (WINS, HEAD_TO_HEAD, SCORE_DIFFERENCE, SEED)
SWISS_DEFAULT = (WINS, BUCHHOLZ, SEED)
MAX_POINTS = 100


class Points(NamedTuple):
    """What a win, a draw and a loss are worth (a bye is a win); multiples of 0.5."""

    win: float
    draw: float
    loss: float


DEFAULT_POINTS = Points(1, 0.5, 0)


@dataclasses.dataclass(frozen=True)
class Standing:
    """One row of a round-robin or Swiss table, with the value of every criterion."""

    participant_id: str
    seed: int  # 1-based
    played: int  # matches, byes not counted
    wins: int  # byes counted
    draws: int
    losses: int
    byes: int
    points: float  # wins (byes included), draws and losses at their `Points`
    score_for: int
    score_against: int
    score_difference: int
    buchholz: float  # the opponents' points, once per meeting
    median_buchholz: float  # the same without the highest and the lowest
    sonneborn_berger: float  # the points of the opponents beaten, half those of the opponents drawn
    head_to_head: float | None  # points among the tied, where head to head was applied to this row
    rank: int  # 1-based, unique: the seed breaks the last ties


def check_criteria(criteria: Sequence[str]) -> tuple[str, ...]:
    """The criteria as a tuple. Raises ValueError unless they are a non-empty list or tuple
    of names of CRITERIA, none twice, `seed` only last (it breaks every tie, so nothing
    after it could count)."""
    if not isinstance(criteria, (list, tuple)) or not criteria:
        raise ValueError(f"tiebreaks are a non-empty list of: {', '.join(CRITERIA)}")
    unknown = [c for c in criteria if c not in CRITERIA]
    if unknown:
        raise ValueError(f"unknown tiebreak {unknown[0]!r}; one of {', '.join(CRITERIA)}")
    if len(set(criteria)) != len(criteria):
        raise ValueError("a tiebreak may appear only once")
    if SEED in criteria[:-1]:
        raise ValueError("seed breaks every tie, so it can only come last")
    return tuple(criteria)


def check_points(points: Sequence[Any]) -> Points:
    """(win, draw, loss) as `Points`. Raises ValueError unless they are a list or tuple of
    three numbers, each a multiple of 0.5 from 0 to MAX_POINTS, with loss <= draw <= win
    and loss < win."""
    if not isinstance(points, (list, tuple)) or len(points) != 3:
        raise ValueError("points are three numbers: a win, a draw, a loss")
    for value in points:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError("points are three numbers: a win, a draw, a loss")
        if not 0 <= value <= MAX_POINTS or value * 2 != int(value * 2):
            raise ValueError(f"points are multiples of 0.5 from 0 to {MAX_POINTS}")
    win, draw, loss = points
    if not loss <= draw <= win or loss == win:
        raise ValueError("points need loss <= draw <= win, and a win worth more than a loss")
    return Points(win, draw, loss)


# Each criterion in words, for pages and the completion event.
WORDS = {WINS: "wins (a bye counts as a win)", POINTS: "points", HEAD_TO_HEAD: "head-to-head among the tied",
         SCORE_DIFFERENCE: "score difference", SCORE_FOR: "scores for", BUCHHOLZ: "Buchholz (opponents' points)",
         MEDIAN_BUCHHOLZ: "median Buchholz", SONNEBORN_BERGER: "Sonneborn-Berger", SEED: "seed"}


def rules_from_settings(fmt: str, settings: Mapping[str, Any]) -> tuple[tuple[str, ...], Points]:
    """The tiebreaks and points a tournament recorded at start, or the format's defaults."""
    default = SWISS_DEFAULT if fmt == "swiss" else ROUND_ROBIN_DEFAULT
    criteria = settings.get("tiebreaks")
    points = settings.get("points")
    return (tuple(criteria) if criteria else default), (Points(*points) if points else DEFAULT_POINTS)


def check_results(participant_ids: Sequence[str], results: Sequence[Result]) -> None:
    """Raises ValueError for a result naming a stranger or the same player twice, or a
    negative score. Equal scores are a draw."""
    known = set(participant_ids)
    for a, b, score_a, score_b in results:
        if a not in known or b not in known:
            raise ValueError(f"result of {a} vs {b} names someone who is not a participant")
        if a == b:
            raise ValueError(f"{a} cannot play against themselves")
        if score_a < 0 or score_b < 0:
            raise ValueError(f"the result of {a} vs {b} has a negative score")


def rank_table(participant_ids_in_seed_order: Sequence[str], results: Sequence[Result],
               byes: Sequence[str] = (), *, criteria: Sequence[str], points: Points) -> list[Standing]:
    """Every participant's row, best first, ranked by `criteria` in order, then by seed.

    Each criterion splits the rows still tied; head to head (the points of the matches
    among those tied) is applied again to any group it leaves tied but smaller, before the
    next criterion. `byes` names who had a bye, once per bye: a win without an opponent
    or a score. Raises ValueError for a duplicate id, a bye of a stranger, a result that
    `check_results` refuses, or criteria or points that `check_criteria` and
    `check_points` refuse.
    """
    ids = participant_ids_in_seed_order
    if len(set(ids)) != len(ids):
        raise ValueError("participant ids must be unique")
    check_results(ids, results)
    strangers = set(byes) - set(ids)
    if strangers:
        raise ValueError(f"a bye names someone who is not a participant: {', '.join(sorted(strangers))}")
    order = check_criteria(criteria)
    if order[-1] != SEED:
        order = (*order, SEED)
    points = check_points(points)
    tally = _Tally(ids, results, collections.Counter(byes), points)
    head_to_head: dict[str, float] = {}
    ranked = tally.ordered(list(ids), order, head_to_head)
    return [tally.row(p, head_to_head.get(p), rank) for rank, p in enumerate(ranked, start=1)]


class _Tally:
    """The counts of one table, and the ordering of its rows."""

    def __init__(self, ids: Sequence[str], results: Sequence[Result], byes: Mapping[str, int],
                 points: Points) -> None:
        self.points = points
        self.seed = {pid: i for i, pid in enumerate(ids, start=1)}
        self.byes = {pid: byes.get(pid, 0) for pid in ids}
        self.wins = dict(self.byes)
        self.draws = dict.fromkeys(ids, 0)
        self.score_for = dict.fromkeys(ids, 0)
        self.score_against = dict.fromkeys(ids, 0)
        # per player, each meeting: (opponent, 1.0 won, 0.5 drawn or 0.0 lost)
        self.meetings: dict[str, list[tuple[str, float]]] = {pid: [] for pid in ids}
        for a, b, score_a, score_b in results:
            self.score_for[a] += score_a
            self.score_against[a] += score_b
            self.score_for[b] += score_b
            self.score_against[b] += score_a
            if score_a == score_b:
                self.draws[a] += 1
                self.draws[b] += 1
            else:
                self.wins[a if score_a > score_b else b] += 1
            outcome = 0.5 if score_a == score_b else 1.0 if score_a > score_b else 0.0
            self.meetings[a].append((b, outcome))
            self.meetings[b].append((a, 1.0 - outcome))
        self.played = {pid: len(self.meetings[pid]) for pid in ids}
        self.losses = {p: self.played[p] + self.byes[p] - self.wins[p] - self.draws[p] for p in ids}
        self.total = {p: self._points(self.wins[p], self.draws[p], self.losses[p]) for p in ids}
        opponents = {p: sorted(self.total[o] for o, _ in self.meetings[p]) for p in ids}
        self.buchholz = {p: sum(opponents[p]) for p in ids}
        self.median_buchholz = {p: sum(opponents[p][1:-1]) for p in ids}
        self.sonneborn_berger = {p: sum(self.total[o] * outcome for o, outcome in self.meetings[p])
                                 for p in ids}
        self.values: dict[str, Callable[[str], float]] = {
            WINS: self.wins.__getitem__, POINTS: self.total.__getitem__,
            SCORE_DIFFERENCE: lambda p: self.score_for[p] - self.score_against[p],
            SCORE_FOR: self.score_for.__getitem__, BUCHHOLZ: self.buchholz.__getitem__,
            MEDIAN_BUCHHOLZ: self.median_buchholz.__getitem__,
            SONNEBORN_BERGER: self.sonneborn_berger.__getitem__,
            SEED: lambda p: -self.seed[p],  # the lower seed number first
        }

    def _points(self, wins: int, draws: int, losses: int) -> float:
        return wins * self.points.win + draws * self.points.draw + losses * self.points.loss

    def ordered(self, ids: list[str], criteria: tuple[str, ...], head_to_head: dict[str, float]) -> list[str]:
        """`ids` ranked, best first, recording each row's head-to-head points where applied."""
        ranked: list[str] = []
        todo = [(ids, criteria)]  # tied groups with the criteria left to split them, the next one last
        while todo:
            group, left = todo.pop()
            if len(group) < 2 or not left:
                ranked.extend(group)
                continue
            first, rest = left[0], left[1:]
            if first == HEAD_TO_HEAD:
                among = self._among(group)
                for p in group:
                    head_to_head.setdefault(p, among[p])
                tied = _split(group, among.__getitem__)
                # a mini table that separates nobody hands over to the next criterion; any
                # group it leaves tied but smaller gets a mini table of its own
                parts = [(group, rest)] if len(tied) == 1 else [(sub, left) for sub in tied]
            else:
                parts = [(sub, rest) for sub in _split(group, self.values[first])]
            todo.extend(reversed(parts))
        return ranked

    def _among(self, group: list[str]) -> dict[str, float]:
        """The points each of `group` scored in the matches among them."""
        members = set(group)
        return {p: sum(self._value(outcome) for o, outcome in self.meetings[p] if o in members) for p in group}

    def _value(self, outcome: float) -> float:
        return self.points.win if outcome == 1.0 else self.points.draw if outcome == 0.5 else self.points.loss

    def row(self, p: str, head_to_head: float | None, rank: int) -> Standing:
        return Standing(participant_id=p, seed=self.seed[p], played=self.played[p], wins=self.wins[p],
                        draws=self.draws[p], losses=self.losses[p], byes=self.byes[p], points=self.total[p],
                        score_for=self.score_for[p], score_against=self.score_against[p],
                        score_difference=self.score_for[p] - self.score_against[p],
                        buchholz=self.buchholz[p], median_buchholz=self.median_buchholz[p],
                        sonneborn_berger=self.sonneborn_berger[p], head_to_head=head_to_head, rank=rank)


def _split(group: list[str], value: Callable[[str], float]) -> list[list[str]]:
    """`group` in classes of equal value, the highest first; each keeps its order."""
    classes: dict[float, list[str]] = {}
    for p in group:
        classes.setdefault(value(p), []).append(p)
    return [classes[v] for v in sorted(classes, reverse=True)]
