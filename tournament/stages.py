"""Groups, then playoffs, as pure data: the group stage's settings, players spread over the
groups by seed (snake order), the groups' tables, and the playoff's seeding from them.

Each group plays a round robin or Swiss rounds. A group match's key is its group, an
underscore and its round robin or Swiss key ("B_R2-1": group B, round 2, match 1; "A_S3-2");
playoff matches keep the elimination keys ("W1-1", "L2-1", "GF1").

Cross-seeding: the group winners take the top seeds in group order, the runners-up the next,
and so on; within each rank the players are placed where players of their own group meet
them as late as the bracket allows (a group's winner and runner-up in opposite halves, so
they meet only in the final), the cheapest such placement found as a matching. "standings"
seeds the qualified instead by their group rank, then their record across groups.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from tournament import brackets, round_robin, swiss, veto
from tournament.errors import InvalidValueError
from tournament.tiebreaks import Points, Result, Standing

FORMAT = "groups_playoffs"
GROUP_FORMATS = ("round_robin", "swiss")
PLAYOFF_FORMATS = ("single_elimination", "double_elimination")
PLAYOFF_SEEDINGS = ("cross", "standings")
MAX_GROUPS = 26  # named A to Z
MIN_GROUP = 2
MAX_GROUP = 64  # a round robin of 64 plays 2,016 matches: past that, more groups
VETO_FIELD = "groups.veto"  # the start option of the group stage's own veto


@dataclasses.dataclass(frozen=True)
class GroupStage:
    """How the group stage is played and who goes on to the playoff."""

    groups: int = 2
    format: str = "round_robin"
    advance: int = 2  # the top this many of every group play the playoff
    playoff: str = "single_elimination"
    playoff_seeding: str = "cross"
    third_place: bool = False
    grand_final_reset: bool = True
    auto_playoff: bool = True  # the playoff opens once every group match is decided; else on the organizer's word
    rounds: int | None = None  # Swiss groups: rounds in every group (default: enough for the smallest group)
    veto: veto.VetoConfig | None = None  # the group matches' own map veto; None: the tournament's

    def to_json(self) -> dict[str, Any]:
        plain = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "veto"}
        return {**plain, "veto": self.veto.to_json() if self.veto else None}

    @staticmethod
    def from_json(value: Mapping[str, Any]) -> GroupStage:
        given = {f.name: value[f.name] for f in dataclasses.fields(GroupStage) if f.name in value}
        if given.get("veto") is not None:
            given["veto"] = veto.config_from(given["veto"], VETO_FIELD)
        return GroupStage(**given)

    def check(self, participants: int) -> None:
        """Raises InvalidValueError when `participants` cannot be played this way."""
        if not 1 <= self.groups <= MAX_GROUPS:
            raise InvalidValueError(f"groups.count must be 1 to {MAX_GROUPS}", field="groups")
        smallest = participants // self.groups
        if smallest < MIN_GROUP:
            raise InvalidValueError(f"{self.groups} groups need at least {MIN_GROUP * self.groups} participants, "
                                    f"not {participants}", field="groups")
        if -(-participants // self.groups) > MAX_GROUP:
            raise InvalidValueError(f"a group holds at most {MAX_GROUP}: use more groups", field="groups")
        if not 1 <= self.advance <= smallest:
            raise InvalidValueError(f"groups.advance must be 1 to {smallest} (the smallest group's size)",
                                    field="groups")
        if self.groups * self.advance < brackets.MIN_PARTICIPANTS:
            raise InvalidValueError("the playoff needs at least 2 players: advance more from each group",
                                    field="groups")
        if self.format == "swiss" and self.rounds is not None and not 1 <= self.rounds <= smallest - 1:
            raise InvalidValueError(f"groups.rounds must be 1 to {smallest - 1} (the smallest group's size - 1)",
                                    field="groups")

    def resolved(self, participants: int) -> GroupStage:
        """With the Swiss rounds filled in (ceil(log2) of the smallest group), as recorded at the start."""
        if self.format != "swiss" or self.rounds is not None:
            return self
        return dataclasses.replace(self, rounds=swiss.recommended_rounds(participants // self.groups))


def config_from(value: Any) -> GroupStage:
    """The start body's `groups` object as a GroupStage. Raises InvalidValueError, and for
    its `veto` as `veto.config_from` (SchemaError for a shape) on field `groups.veto`."""
    if not isinstance(value, dict):
        raise InvalidValueError("groups must be an object", field="groups")
    stage = GroupStage()
    fields: dict[str, Any] = {}
    for name, kind in (("count", int), ("advance", int), ("rounds", int), ("format", str), ("playoff", str),
                       ("playoff_seeding", str), ("third_place", bool), ("grand_final_reset", bool),
                       ("auto_playoff", bool)):
        if value.get(name) is None:
            continue
        given = value[name]
        if not isinstance(given, kind) or (kind is int and isinstance(given, bool)):
            raise InvalidValueError(f"groups.{name} must be {'a whole number' if kind is int else kind.__name__}",
                                    field="groups")
        fields["groups" if name == "count" else name] = given
    if value.get("veto") is not None:
        fields["veto"] = veto.config_from(value["veto"], VETO_FIELD)
    stage = dataclasses.replace(stage, **fields)
    for name, allowed in (("format", GROUP_FORMATS), ("playoff", PLAYOFF_FORMATS),
                          ("playoff_seeding", PLAYOFF_SEEDINGS)):
        if getattr(stage, name) not in allowed:
            raise InvalidValueError(f"groups.{name} must be one of {', '.join(allowed)}", field="groups")
    return stage


def veto_settings(settings: Mapping[str, Any], group: str | None) -> tuple[str, Mapping[str, Any]] | None:
    """The default veto of a match in `group` (None: a playoff match, or a match of another
    format), from a tournament's settings: the group stage's own for a group match, else the
    tournament's; as (the start option that set it, `veto` or `groups.veto`; its recorded
    config), or None when neither has one."""
    own = (settings.get("groups") or {}).get("veto") if group is not None else None
    if own:
        return VETO_FIELD, own
    return ("veto", settings["veto"]) if settings.get("veto") else None


def group_names(count: int) -> list[str]:
    return list(string.ascii_uppercase[:count])


def distribute(order: Sequence[str], count: int) -> dict[str, list[str]]:
    """Players in seed order spread over `count` groups in snake order: seeds 1-4 to A-D,
    5-8 to D-A, 9-12 to A-D... (each group's members in seed order)."""
    names = group_names(count)
    groups: dict[str, list[str]] = {name: [] for name in names}
    for i, pid in enumerate(order):
        lap, place = divmod(i, count)
        groups[names[place if lap % 2 == 0 else count - 1 - place]].append(pid)
    return groups


def group_key(group: str, key: str) -> str:
    return f"{group}_{key}"


def split_key(key: str) -> tuple[str | None, str]:
    """"B_R2-1" -> ("B", "R2-1"); a playoff key -> (None, key)."""
    group, sep, inner = key.partition("_")
    return (group, inner) if sep else (None, key)


def tables(groups: Mapping[str, Sequence[str]], results: Sequence[Result], *, criteria: Sequence[str],
           points: Points, fmt: str = "round_robin", byes: Sequence[str] = ()) -> dict[str, list[Standing]]:
    """Every group's table from the results of its own matches (and, in Swiss groups, byes)."""
    out: dict[str, list[Standing]] = {}
    for name, members in groups.items():
        inside = set(members)
        own = [r for r in results if r[0] in inside and r[1] in inside]
        out[name] = (swiss.swiss_standings(list(members), own, [b for b in byes if b in inside], criteria=criteria,
                                           points=points) if fmt == "swiss"
                     else round_robin.standings(list(members), own, criteria=criteria, points=points))
    return out


def qualified(group_tables: Mapping[str, Sequence[Standing]], advance: int) -> list[list[str]]:
    """The qualified by rank: [[every group's winner], [every runner-up], ...], in group order."""
    return [[table[rank].participant_id for table in group_tables.values()] for rank in range(advance)]


def playoff_order(group_tables: Mapping[str, Sequence[Standing]], advance: int, seeding: str) -> list[str]:
    """The playoff's seed order (seed 1 first) from the groups' tables."""
    tiers = qualified(group_tables, advance)
    if seeding == "standings":
        standing = {s.participant_id: s for table in group_tables.values() for s in table}
        ordered: list[str] = []
        for tier in tiers:  # a group's 1st before any 2nd; within a rank, by record
            ordered += sorted(tier, key=lambda p: (-standing[p].points, -standing[p].score_difference,
                                                   -standing[p].score_for, tier.index(p)))
        return ordered
    group_of = {s.participant_id: name for name, table in group_tables.items() for s in table}
    return cross_seed(tiers, group_of)


def cross_seed(tiers: Sequence[Sequence[str]], group_of: Mapping[str, str]) -> list[str]:
    """Seed order for players in rank tiers (tier 1: the group winners, in group order) such
    that players of one group meet as late as possible. Each tier is placed on its seed lines
    by the cheapest matching, a meeting one round earlier weighing more than any number of
    later ones."""
    n = sum(len(t) for t in tiers)
    line_of = _lines(n)
    rounds = (len(line_of) - 1).bit_length()
    placed: dict[int, str] = {}  # seed -> player
    for tier in tiers:
        first = len(placed) + 1
        seeds = list(range(first, first + len(tier)))
        if not placed:
            placed.update(zip(seeds, tier))  # the group winners: group order
            continue

        def cost(player: str, seed: int) -> int:
            total = 0
            for other_seed, other in placed.items():
                if group_of[other] == group_of[player]:
                    meets = (line_of[seed] ^ line_of[other_seed]).bit_length()  # the round they can first meet
                    total += (len(placed) + 1) ** (rounds - meets)
            return total

        graph = nx.Graph()
        costs = {(p, s): cost(p, s) for p in tier for s in seeds}
        top = 1 + max(costs.values())
        graph.add_weighted_edges_from(((("p", p), ("s", s), top - c) for (p, s), c in costs.items()))
        matching = nx.max_weight_matching(graph, maxcardinality=True)
        for u, v in matching:
            (_, p), (_, s) = (u, v) if u[0] == "p" else (v, u)
            placed[int(s)] = str(p)
    return [placed[seed] for seed in sorted(placed)]


def earliest_meeting(order: Sequence[str], a: str, b: str) -> int:
    """The round in which seeds `a` and `b` of a bracket seeded by `order` can first meet."""
    line_of = _lines(len(order))
    return (line_of[order.index(a) + 1] ^ line_of[order.index(b) + 1]).bit_length()


def _lines(n: int) -> dict[int, int]:
    """Seed -> its round-1 line in the bracket `n` players fill (byes included): two seeds can
    first meet in the round numbered by the highest bit their lines differ in."""
    size = 1 << max(1, (n - 1).bit_length())
    return {seed: line for line, seed in enumerate(brackets.standard_seeding(size))}


def non_qualified_places(group_tables: Mapping[str, Sequence[Standing]], advance: int,
                         first_place: int) -> list[dict[str, Any]]:
    """Those out after the groups, from `first_place` on: a rank's players share a place
    (every group's 3rd, then every 4th, ...), in group order."""
    places: list[dict[str, Any]] = []
    place = first_place
    deepest = max(len(t) for t in group_tables.values())
    for rank in range(advance, deepest):
        tier = [table[rank].participant_id for table in group_tables.values() if rank < len(table)]
        places += [{"place": place, "participant_id": pid} for pid in tier]
        place += len(tier)
    return places
