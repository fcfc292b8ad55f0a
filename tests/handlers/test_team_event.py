"""A 16-team event end to end over real HTTP and sockets (issue 14): 4 round-robin groups, the
top 2 of each to a cross-seeded single elimination, every match played from the two captains'
sockets (one reports, the other confirms), and the tournament socket checked for every event:
gap-free, each match's completion seen once, the playoff opening once, the end last."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import Api
from tests.handlers.test_series import acked
from tests.wsclient import connect
from tournament import stages
from tournament.roles import Role


def captain(team: str) -> str:
    return f"{team}-cap"


@pytest.mark.gen_test(timeout=180)
async def test_sixteen_teams_groups_then_playoff_played_by_their_captains(api: Api) -> None:
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "Team League", "format": stages.FORMAT}, 201))["id"]
    teams = [f"t{i}" for i in range(1, 17)]
    csv = "name,seed,id\n" + "\n".join(f"Team {i},{i},t{i}" for i in range(1, 17))
    await api.ok("POST", f"/api/tournaments/{tid}/participants/bulk", {"csv": csv}, 201)
    for team in teams:
        await api.ok("PUT", f"/api/tournaments/{tid}/participants/{team}/roster", {"tag": team.upper(), "members": [
            {"id": captain(team), "role": "captain"}, {"id": f"{team}-a", "role": "player"},
            {"id": f"{team}-sub", "role": "substitute"}]})
    links = {link["subject"]: link["token"] for link in
             (await api.ok("POST", f"/api/tournaments/{tid}/links", {"members": True}, 201))["links"]}
    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.token("screen", Role.SPECTATOR))
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"groups": {"count": 4, "advance": 2}})

    played: list[str] = []
    while True:
        matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
        ready = [m for m in matches if m["state"] == "scheduled" and None not in m["participant_ids"]]
        if not ready:
            break
        match = ready[0]
        a, b = match["participant_ids"]
        winner, loser = sorted((a, b), key=lambda t: int(t[1:]))  # the better seed wins
        phone_a, _ = await connect(api, f"/ws/match/{match['id']}", links[captain(a)])
        phone_b, _ = await connect(api, f"/ws/match/{match['id']}", links[captain(b)])
        await api.ok("POST", f"/api/matches/{match['id']}/open-check-in")  # the organizer calls the match
        for phone in (phone_a, phone_b):
            await acked(phone, {"type": "ready_up", "id": "in"})
        await acked(phone_a, {"type": "start_match", "id": "go"})
        scores = {winner: 2, loser: 1}
        await acked(phone_a, {"type": "report_score", "id": "r", "data": {"scores": scores}})
        await acked(phone_b, {"type": "confirm_result", "id": "c"})
        done = await api.ok("GET", f"/api/matches/{match['id']}")
        assert (done["state"], done["winner_id"]) == ("completed", winner)
        phone_a.close()
        phone_b.close()
        played.append(match["id"])

    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed" and len(played) == 4 * 6 + 7
    members = final["settings"]["group_members"]
    group_of = {t: g for g, ts in members.items() for t in ts}
    order = final["settings"]["playoff_order"]
    for x, y in itertools.combinations(order, 2):
        if group_of[x] == group_of[y]:
            assert stages.earliest_meeting(order, x, y) == 3  # group mates only in the final
    assert final["placements"][0]["participant_id"] == "t1"

    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "tournament_completed":
        frames.append(await watcher.recv())
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # every event, in order, none twice
    completed = [f["data"]["match"]["id"] for f in frames if f["type"] == "match_completed"]
    assert sorted(completed) == sorted(played) and len(set(completed)) == len(completed)
    assert sum(1 for f in frames if f["type"] == "bracket_updated" and f["data"].get("stage") == "playoff") == 1
    reported = [f["data"]["match"]["reports"] for f in frames
                if f["type"] == "match_state_changed" and f["data"]["match"]["state"] == "pending_result"]
    assert len(reported) == len(played)
    assert all(len(r) == 1 and set(r) <= set(teams) for r in reported)  # recorded for the teams, not the captains

