"""A bracket in the data model of brackets-viewer.js: brackets-model's stage, group, round, match,
match_game and participant tables, filled the way brackets-manager.js fills them."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from tournament.models import Participant, Tournament

Row = dict[str, Any]
Side = Row | None  # None: a BYE


class Status(enum.IntEnum):
    """brackets-model's match `Status` (its `GameCancelled`, 6, is for match games only)."""

    LOCKED = 0  # a BYE in the match, or nobody known yet
    WAITING = 1  # one side known, the other to be decided
    READY = 2  # both sides known, not begun
    RUNNING = 3
    COMPLETED = 4
    ARCHIVED = 5  # completed, and a match it feeds has begun; also: cancelled with its tournament


# The viewer finds a group's kind by its place (ids in order), brackets-manager by its number:
# 1 the winners bracket (or the only bracket, or the round robin's one group), 2 the losers
# bracket or single elimination's consolation final, 3 double elimination's grand final.
_GROUP_NUMBERS = {"winners": 1, "round_robin": 1, "swiss": 1, "losers": 2, "third_place": 2, "grand_final": 3}
_RUNNING = frozenset({"live", "pending_result", "disputed"})
_DECIDED = frozenset({"completed", "forfeit"})


@dataclasses.dataclass(frozen=True)
class _Links:
    """What a match's export needs to know of the others."""

    number: dict[str, int]  # participant id -> participant row id
    seeds: dict[str, int]  # participant id -> seed
    drops: dict[tuple[str, int], int]  # (match key, slot) fed by a loser -> the number of the loser's match
    begun: frozenset[str]  # keys of the matches started, or decided without a bye


def brackets_viewer(tournament: Tournament, participants: list[Participant], view: dict[str, Any]) -> dict[str, Any]:
    """`BracketService.view` as brackets-model tables, numeric ids from 0 in the order
    brackets-manager inserts rows: groups by number, rounds by number, matches by number.
    `opponent.id` indexes `participant`; each match keeps its `livebracket_id`."""
    matches = [m for block in view["rounds"] for m in block["matches"]]
    links = _Links(number={p.id: i for i, p in enumerate(participants)},
                   seeds={pid: i for i, pid in enumerate(tournament.seed_order, start=1)},
                   drops={(key, slot): m["bracket"]["position"] for m in matches if m["bracket"]["loser_to"]
                          for key, slot in [m["bracket"]["loser_to"]]},
                   begun=frozenset(m["bracket"]["key"] for m in matches if m["started_at"] is not None
                                   or (m["state"] in _DECIDED and not m["bracket"]["walkover"])))
    groups: list[Row] = []
    rounds: list[Row] = []
    rows: list[Row] = []
    games: list[Row] = []
    for block in sorted(view["rounds"], key=lambda b: (_GROUP_NUMBERS[b["bracket"]], b["round"])):
        if not groups or groups[-1]["number"] != _GROUP_NUMBERS[block["bracket"]]:
            groups.append({"id": len(groups), "stage_id": 0, "number": _GROUP_NUMBERS[block["bracket"]]})
        rounds.append({"id": len(rounds), "stage_id": 0, "group_id": groups[-1]["id"], "number": block["round"]})
        for m in sorted(block["matches"], key=lambda m: m["bracket"]["position"]):
            one, two = _sides(m, links)
            status = _status(m, one, two, links)
            series = m["format"]["best_of"] if m["series"] else 0
            rows.append({"id": len(rows), "stage_id": 0, "group_id": groups[-1]["id"], "round_id": rounds[-1]["id"],
                         "number": m["bracket"]["position"], "child_count": series,
                         "status": int(status), "opponent1": one, "opponent2": two,
                         "livebracket_id": m["id"]})
            games += _games(m, rows[-1], len(games), links)
    stage = {"id": 0, "tournament_id": 0, "name": tournament.name, "number": 1,
             "type": "round_robin" if tournament.format == "swiss" else tournament.format,  # no Swiss in the model
             "settings": _stage_settings(tournament, matches)}
    return {"stage": [stage], "group": groups, "round": rounds, "match": rows, "match_game": games,
            "participant": [{"id": i, "tournament_id": 0, "name": p.name} for i, p in enumerate(participants)]}


def _games(m: Row, parent: Row, first_id: int, links: _Links) -> list[Row]:
    """brackets-model's MatchGame rows of a series, all `child_count` of them as brackets-manager
    creates them: a game played has its scores and result, the live one runs, the others
    wait (or are archived once the series was decided without them)."""
    if not m["series"]:
        return []
    played = {g["number"]: g for g in m["games"]}
    who = {number: pid for pid, number in links.number.items()}
    rows: list[Row] = []
    for number in range(1, parent["child_count"] + 1):
        game = played.get(number)
        sides: list[Side] = []
        for side in (parent["opponent1"], parent["opponent2"]):
            if side is None or side["id"] is None:
                sides.append(None if side is None else {"id": None})
                continue
            row: Row = {"id": side["id"]}
            pid = who[side["id"]]
            if game is not None:
                row["score"] = game["scores"].get(pid, 0)
                if game["state"] == "completed":
                    row["result"] = "win" if game["winner_id"] == pid else "loss"
            sides.append(row)
        if game is not None:
            status = Status.COMPLETED if game["state"] == "completed" else Status.RUNNING
        elif m["state"] in _DECIDED or m["state"] == "cancelled":
            status = Status.ARCHIVED
        else:
            status = Status(min(int(parent["status"]), int(Status.READY)))
        rows.append({"id": first_id + len(rows), "stage_id": 0, "parent_id": parent["id"], "number": number,
                     "status": int(status), "opponent1": sides[0], "opponent2": sides[1]})
    return rows


def _sides(m: Row, links: _Links) -> tuple[Side, Side]:
    """opponent1 and opponent2 as brackets-manager places them: the loser dropping into a later
    losers round is opponent1 (livebracket seats them in slot 1), and GF2 keeps GF1's sides
    (livebracket seats the GF1 winner, the losers-bracket champion, in slot 0)."""
    one, two = _side(m, 0, links), _side(m, 1, links)
    key = m["bracket"]["key"]
    dropped_second = (m["bracket"]["bracket"] == "losers" and m["round"] > 1
                      and (key, 1) in links.drops and (key, 0) not in links.drops)
    return (two, one) if dropped_second or key == "GF2" else (one, two)


def _side(m: Row, slot: int, links: _Links) -> Side:
    """brackets-model's ParticipantResult: `id` (null: to be decided), and only when they
    apply `position`, `score` (from the match's start on), `result` and `forfeit`."""
    pid = m["participant_ids"][slot]
    if pid is None and m["bracket"]["byes"][slot]:
        return None
    row: Row = {"id": None if pid is None else links.number[pid]}
    if (where := _position(m, slot, links)) is not None:
        row["position"] = where
    if pid is None:
        return row
    if pid in m["scores"]:
        row["score"] = m["scores"][pid]
    if m["state"] == "completed" and m["winner_id"] is None and None not in m["participant_ids"]:
        row["result"] = "draw"  # a series played in full that ended level
    elif m["state"] in _DECIDED and m["winner_id"] is not None:
        if pid == m["winner_id"]:
            row["result"] = "win"
        elif m["state"] == "forfeit":
            row["forfeit"] = True
        else:
            row["result"] = "loss"
    return row


def _position(m: Row, slot: int, links: _Links) -> int | None:
    """Where a side comes from, only where brackets-manager says it: the seed in the first
    winners round, the number of the match a loser drops from, 1 for the losers-bracket
    champion in GF1. Nowhere else: the viewer reads positions in a bracket's second round as
    Toornament's layout and rebuilds the first round from them."""
    pid, key = m["participant_ids"][slot], m["bracket"]["key"]
    if m["bracket"]["bracket"] == "winners" and m["round"] == 1:
        return None if pid is None else links.seeds.get(pid)
    if key == "GF1" and slot == 1:
        return 1
    return links.drops.get((key, slot))


def _status(m: Row, one: Side, two: Side, links: _Links) -> Status:
    if one is None or two is None:
        return Status.LOCKED
    if m["state"] in _DECIDED and (m["winner_id"] is not None or not m["bracket"]["walkover"]):
        fed = [target[0] for target in (m["bracket"]["winner_to"], m["bracket"]["loser_to"]) if target]
        return Status.ARCHIVED if links.begun.intersection(fed) else Status.COMPLETED
    if m["state"] == "cancelled" and not m["bracket"]["walkover"]:
        return Status.ARCHIVED  # the model has no cancelled match
    if m["state"] in _RUNNING:
        return Status.RUNNING
    return (Status.LOCKED, Status.WAITING, Status.READY)[(one["id"] is not None) + (two["id"] is not None)]


def _stage_settings(tournament: Tournament, matches: list[Row]) -> dict[str, Any]:
    """brackets-model's StageSettings; an elimination's `size` counts its lines, BYEs included;
    `matchesChildCount` is the default series' games (0: single games)."""
    default = tournament.settings.get("series") or {}
    children = default.get("best_of", 1) if default.get("best_of", 1) > 1 else 0
    if tournament.format in ("round_robin", "swiss"):
        return {"size": len(tournament.seed_order), "groupCount": 1, "roundRobinMode": "simple",
                "matchesChildCount": children}
    settings: dict[str, Any] = {
        "size": 2 * sum(m["bracket"]["bracket"] == "winners" and m["round"] == 1 for m in matches),
        "matchesChildCount": children}
    if tournament.format == "single_elimination":
        settings["consolationFinal"] = any(m["bracket"]["bracket"] == "third_place" for m in matches)
    else:
        settings["grandFinal"] = "double" if any(m["bracket"]["key"] == "GF2" for m in matches) else "simple"
    return settings
