"""A bracket in the data model of brackets-viewer.js: stage, group, round, match, participant."""

from __future__ import annotations

from typing import Any

from tournament.models import Participant, Tournament

_STAGE_TYPES = {"single_elimination": "single_elimination", "double_elimination": "double_elimination",
                "round_robin": "round_robin", "swiss": "round_robin"}
_GROUPS = {"winners": 1, "round_robin": 1, "swiss": 1, "losers": 2, "grand_final": 3, "third_place": 2}
_STATUS = {"scheduled": 2, "check_in": 2, "ready": 2, "live": 3, "pending_result": 3, "disputed": 3,
           "completed": 4, "forfeit": 4, "cancelled": 5}  # brackets-model Status: Ready..Archived


def brackets_viewer(tournament: Tournament, participants: list[Participant], view: dict[str, Any]) -> dict[str, Any]:
    """Numeric ids as brackets-viewer.js expects; `opponent.id` indexes `participant`."""
    number = {p.id: i for i, p in enumerate(participants)}
    groups: dict[str, int] = {}
    rounds: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    single = tournament.format == "single_elimination"
    for block in view["rounds"]:
        bracket = block["bracket"]
        group_id = groups.setdefault(bracket, len(groups))
        round_id = len(rounds)
        rounds.append({"id": round_id, "stage_id": 0, "group_id": group_id, "number": block["round"]})
        for m in block["matches"]:
            opponents: list[dict[str, Any] | None] = []
            for slot, pid in enumerate(m["participant_ids"]):
                if pid is None:  # brackets-viewer draws null as a bye, {"id": null} as to be decided
                    opponents.append(None if m["bracket"]["byes"][slot] else {"id": None})
                    continue
                won = m["winner_id"] == pid if m["winner_id"] else None
                opponents.append({"id": number.get(pid), "position": slot + 1, "score": m["scores"].get(pid),
                                  "result": None if won is None else "win" if won else "loss"})
            matches.append({"id": len(matches), "stage_id": 0, "group_id": group_id, "round_id": round_id,
                            "number": m["bracket"]["position"], "status": _STATUS[m["state"]],
                            "opponent1": opponents[0], "opponent2": opponents[1],
                            "livebracket_id": m["id"]})
    group = [{"id": gid, "stage_id": 0, "number": 2 if single and key == "third_place" else _GROUPS.get(key, 1)}
             for key, gid in groups.items()]
    stage = [{"id": 0, "tournament_id": 0, "name": tournament.name, "type": _STAGE_TYPES[tournament.format],
              "number": 1, "settings": {"size": len(tournament.seed_order),
                                        "grandFinal": "double" if tournament.settings.get("grand_final_reset")
                                        else "simple",
                                        "consolationFinal": bool(tournament.settings.get("third_place"))}}]
    participant = [{"id": i, "tournament_id": 0, "name": p.name} for i, p in enumerate(participants)]
    return {"stage": stage, "group": group, "round": rounds, "match": matches, "participant": participant}
