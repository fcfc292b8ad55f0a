"""Map veto (pick and ban): the standard sequences, each turn's rules, the timer's rule.

A veto runs before its match starts. Its turns alternate between the two players from the
one who starts (chosen by higher seed, a recorded coin flip, or an organizer): bans and
picks of maps from the pool, each pick followed (when the pool has sides) by the opponent
choosing a side on it. The last map left is the decider. The picks, then the decider, become
the games' maps. A turn is taken by its player or by an organizer for them; when a turn has
a timer, its running out takes it at random (from the recorded seed) or just waits.
`rules.TRANSITIONS` gates which match states allow a veto; this module decides the turns.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from tournament import events as ev
from tournament.errors import InvalidTransitionError, InvalidValueError, SchemaError
from tournament.models import Match, Veto, VetoStep, VetoTaken
from tournament.moves import Outcome, moved, require_players
from tournament.roles import Principal

BAN, PICK, SIDE, DECIDER = "ban", "pick", "side", "decider"
FIRST = ("higher_seed", "coin_flip", "organizer")
ON_TIMEOUT = ("random", "wait")
MAX_POOL = 16
CONFIG_FIELDS = ("pool", "sides", "first", "turn_s", "on_timeout", "sequence")
MAX_TURN_S = 3600


@dataclasses.dataclass(frozen=True)
class VetoConfig:
    """How a veto runs: a tournament's default (its settings), a group stage's, or one match's."""

    pool: tuple[str, ...]
    sides: tuple[str, ...] = ()
    first: str = "higher_seed"
    turn_s: int | None = None
    on_timeout: str = "random"
    sequence: tuple[str, ...] | None = None  # ban/pick turns alternating from the first player; None: standard

    def to_json(self) -> dict[str, Any]:
        return {"pool": list(self.pool), "sides": list(self.sides), "first": self.first, "turn_s": self.turn_s,
                "on_timeout": self.on_timeout, "sequence": list(self.sequence) if self.sequence else None}


def _names(value: Any, field: str, low: int, high: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError(f"{field} must be a list of names", field=field)
    names = tuple(v.strip() for v in value)
    if not low <= len(names) <= high:
        raise InvalidValueError(f"{field}: {low} to {high} names, not {len(names)}", field=field)
    for name in names:
        if not 1 <= len(name) <= 40 or not name.isprintable():
            raise InvalidValueError(f"{field}: {name!r} must be 1 to 40 printable characters", field=field)
    if len({n.casefold() for n in names}) != len(names):
        raise InvalidValueError(f"{field}: a name appears twice", field=field)
    return names


def config_from(value: Any, field: str = "veto") -> VetoConfig:
    """`{"pool": [...], "sides": ["CT", "T"], "first": "higher_seed", "turn_s": 30,
    "on_timeout": "random", "sequence": ["ban", "ban", "pick", ...]}` as a VetoConfig.
    Raises SchemaError (shapes) or InvalidValueError (values)."""
    if not isinstance(value, dict):
        raise SchemaError(f'{field} must be an object such as {{"pool": ["Mirage", "Inferno", ...]}}', field=field)
    pool = _names(value.get("pool"), f"{field}.pool", 1, MAX_POOL)
    sides = _names(value["sides"], f"{field}.sides", 2, 2) if value.get("sides") not in (None, []) else ()
    first = value.get("first", "higher_seed")
    if first not in FIRST:
        raise InvalidValueError(f"{field}.first: one of {', '.join(FIRST)}", field=field)
    on_timeout = value.get("on_timeout", "random")
    if on_timeout not in ON_TIMEOUT:
        raise InvalidValueError(f"{field}.on_timeout: one of {', '.join(ON_TIMEOUT)}", field=field)
    turn_s = value.get("turn_s")
    if turn_s is not None and (not isinstance(turn_s, int) or isinstance(turn_s, bool)):
        raise SchemaError(f"{field}.turn_s must be a whole number of seconds", field=field)
    if turn_s is not None and not 5 <= turn_s <= MAX_TURN_S:
        raise InvalidValueError(f"{field}.turn_s: 5 to {MAX_TURN_S} seconds", field=field)
    sequence = value.get("sequence")
    if sequence is not None:
        if not isinstance(sequence, list) or not all(s in (BAN, PICK) for s in sequence):
            raise SchemaError(f'{field}.sequence must be a list of "ban" and "pick"', field=field)
        if len(sequence) >= MAX_POOL:
            raise InvalidValueError(f"{field}.sequence: at most {MAX_POOL - 1} turns (one map is left)", field=field)
        sequence = tuple(sequence)
    return VetoConfig(pool, sides, first, turn_s, on_timeout, sequence)


def standard_sequence(games: int, pool: int, field: str = "veto") -> tuple[str, ...]:
    """The usual turns for `games` maps from a pool of `pool`: two bans, the picks, then the
    bans left, so one map remains (CS2 and Valorant: BO1 ban x6; BO3 ban, ban, pick, pick,
    ban, ban; BO5 ban, ban, pick x4). Raises InvalidValueError (on `field`, the config's
    name) when the pool is too small."""
    if pool < games:
        raise InvalidValueError(f"{field}.pool: {games} games need at least {games} maps, not {pool}", field=field)
    bans = pool - games
    first_bans = min(2, bans)
    return (BAN,) * first_bans + (PICK,) * (games - 1) + (BAN,) * (bans - first_bans)


def check_sequence(sequence: Sequence[str], games: int, pool: int, field: str = "veto") -> tuple[str, ...]:
    """A custom sequence must pick a map for every game but the decider and leave one map.
    Raises InvalidValueError (on `field`, the config's name)."""
    picks = sum(1 for s in sequence if s == PICK)
    if picks != games - 1 or len(sequence) != pool - 1:
        raise InvalidValueError(f"{field}.sequence: {games} games from {pool} maps need {games - 1} picks and "
                                f"{pool - games} bans (the last map is the decider)", field=field)
    return tuple(sequence)


def sequence_for(config: VetoConfig, games: int, field: str = "veto") -> tuple[str, ...]:
    """The turns of a veto run with `config` for `games` games: its own sequence, checked, or
    the standard one. Raises InvalidValueError (on `field`) when they do not fit."""
    if config.sequence:
        return check_sequence(config.sequence, games, len(config.pool), field)
    return standard_sequence(games, len(config.pool), field)


def _steps(sequence: Sequence[str], first: str, second: str, sides: bool) -> tuple[VetoStep, ...]:
    steps: list[VetoStep] = []
    for i, action in enumerate(sequence):
        by, other = (first, second) if i % 2 == 0 else (second, first)
        steps.append(VetoStep(action, by))
        if action == PICK and sides:
            steps.append(VetoStep(SIDE, other))  # the opponent of the picker chooses a side on it
    return tuple(steps)


def begin(match: Match, config: VetoConfig, first: str, chosen_by: str, rng_seed: int, now: float) -> Outcome:
    """Start (or start again) the match's veto, `first` taking the first turn. Raises
    InvalidTransitionError (players missing), InvalidValueError (pool or sequence)."""
    require_players(match)
    if first not in match.players:
        raise InvalidValueError(f"first_id: not a player of this match: {first}", field="first_id")
    sequence = sequence_for(config, match.format.best_of)
    second = match.opponent_of(first)
    assert second is not None
    veto = Veto(pool=config.pool, steps=_steps(sequence, first, second, bool(config.sides)), first=first,
                chosen_by=chosen_by, rng_seed=rng_seed, sides=config.sides, turn_s=config.turn_s,
                on_timeout=config.on_timeout, deadline=now + config.turn_s if config.turn_s else None)
    veto = _with_decider(veto, now)
    after = moved(match, now, veto=veto)
    return Outcome(after, [(ev.VETO_UPDATED, {"veto": veto.to_json(), "started": True,
                                              "restarted": match.veto is not None})])


def _with_decider(veto: Veto, now: float) -> Veto:
    """Once every turn is taken, the one map left is the decider."""
    if len(veto.taken) < len(veto.steps) or veto.complete:
        return veto
    (decider,) = veto.remaining
    return dataclasses.replace(veto, taken=(*veto.taken, VetoTaken(DECIDER, None, decider, at=now)), deadline=None)


def first_of(match: Match, how: str, seeds: dict[str, int], rng_seed: int, named: str | None) -> str:
    """Who takes the first turn: the better seed (lower number; the first slot if unseeded),
    a coin flip from `rng_seed`, or the player an organizer names. Raises InvalidValueError."""
    a, b = match.players
    if how == "organizer":
        if named is None:
            raise InvalidValueError("first_id: name the player who starts the veto", field="first_id")
        return named
    if how == "coin_flip":
        return random.Random(rng_seed).choice((a, b))
    return min((a, b), key=lambda pid: (seeds.get(pid, 1 << 30), match.players.index(pid)))


def _veto_of(match: Match) -> Veto:
    if match.veto is None:
        raise InvalidTransitionError("this match has no veto: an organizer starts one", code="no_veto",
                                     state=match.state.value)
    if match.veto.complete:
        raise InvalidTransitionError("the veto is complete", code="veto_complete", state=match.state.value,
                                     maps=list(match.veto.maps))
    return match.veto


def take(match: Match, user: Principal, choice: str, action: str | None, now: float, *,
         side: bool | None = None) -> Outcome:
    """The current turn taken: `choice` is the map banned or picked, or (`side`) the side.
    Raises InvalidTransitionError (no veto, complete, not_your_turn, wrong_action: a map for a
    side turn, a side for a map turn, or an `action` that is not the turn's; map_taken),
    InvalidValueError (unknown map or side)."""
    veto = _veto_of(match)
    turn = veto.turn
    assert turn is not None
    details = _turn_details(match, veto, turn)
    if not user.is_organizer and user.participant_id != turn.by:
        raise InvalidTransitionError(f"it is {turn.by}'s turn to {turn.action}", code="not_your_turn", **details)
    if action is not None and action != turn.action:
        raise InvalidTransitionError(f"this turn is a {turn.action}, not a {action}", code="wrong_action", **details)
    if side is not None and side != (turn.action == SIDE):
        wanted = "a side (side)" if turn.action == SIDE else f"a map to {turn.action} (map)"
        raise InvalidTransitionError(f"this turn takes {wanted}", code="wrong_action", **details)
    return _taken(match, veto, turn, choice, now, auto=False)


def _turn_details(match: Match, veto: Veto, turn: VetoStep) -> dict[str, Any]:
    """What a refused turn carries, so a client can show the veto as it is: the match's state,
    whose turn it is, its action, the maps left."""
    return {"state": match.state.value, "turn": turn.by, "action": turn.action, "remaining": list(veto.remaining)}


def _taken(match: Match, veto: Veto, turn: VetoStep, choice: str, now: float, *, auto: bool) -> Outcome:
    if turn.action == SIDE:
        match_side = {s.casefold(): s for s in veto.sides}.get(choice.casefold())
        if match_side is None:
            raise InvalidValueError(f"side: one of {', '.join(veto.sides)}", field="side",
                                    **_turn_details(match, veto, turn))
        picked = next(t.map for t in reversed(veto.taken) if t.action == PICK)
        taken = VetoTaken(SIDE, turn.by, picked, side=match_side, auto=auto, at=now)
    else:
        by_name = {m.casefold(): m for m in veto.pool}
        name = by_name.get(choice.casefold())
        if name is None:
            raise InvalidValueError(f"map: {choice!r} is not in the pool ({', '.join(veto.pool)})", field="map",
                                    **_turn_details(match, veto, turn))
        if name not in veto.remaining:
            raise InvalidTransitionError(f"{name} is already {'banned' if _was(veto, name) == BAN else 'picked'}",
                                         code="map_taken", **_turn_details(match, veto, turn))
        taken = VetoTaken(turn.action, turn.by, name, auto=auto, at=now)
    after_veto = _with_decider(dataclasses.replace(veto, taken=(*veto.taken, taken)), now)
    if not after_veto.complete:
        after_veto = dataclasses.replace(after_veto, deadline=now + veto.turn_s if veto.turn_s else None)
    after = moved(match, now, veto=after_veto)
    return Outcome(after, [(ev.VETO_UPDATED, {"veto": after_veto.to_json(),
                                              "taken": [t.to_json() for t in after_veto.taken[len(veto.taken):]]})])


def _was(veto: Veto, name: str) -> str:
    return next(t.action for t in veto.taken if t.map == name and t.action in (BAN, PICK, DECIDER))


def timeout(match: Match, index: int, now: float) -> Outcome:
    """Turn `index`'s time ran out: taken at random (from the veto's seed, so the draw is
    replayable) or, with on_timeout "wait", left to the player with no timer. Changes
    nothing if that turn was taken meanwhile or its time has not run out."""
    veto = match.veto
    if (veto is None or veto.complete or len(veto.taken) != index or veto.deadline is None
            or now < veto.deadline):
        return Outcome(match, [])
    turn = veto.turn
    assert turn is not None
    if veto.on_timeout == "wait":
        waiting = dataclasses.replace(veto, deadline=None)
        return Outcome(moved(match, now, veto=waiting), [(ev.VETO_UPDATED, {"veto": waiting.to_json(),
                                                                            "expired": index})])
    options = veto.sides if turn.action == SIDE else veto.remaining
    choice = random.Random(f"{veto.rng_seed}:{index}").choice(options)
    return _taken(match, veto, turn, choice, now, auto=True)


def planned_map(match: Match, number: int) -> tuple[str | None, dict[str, str]]:
    """Game `number`'s map and sides from the veto, if it decided them."""
    if match.veto is None or not match.veto.complete or number > len(match.veto.maps):
        return None, {}
    name = match.veto.maps[number - 1]
    return name, match.veto.sides_on(name)


def check_ready_to_start(match: Match) -> None:
    """Raises InvalidTransitionError (veto_in_progress) while a veto is under way."""
    if match.veto is not None and not match.veto.complete:
        raise InvalidTransitionError("the map veto is not finished", code="veto_in_progress",
                                     state=match.state.value)
