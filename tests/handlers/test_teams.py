"""Teams over real HTTP and sockets (issue 14): rosters, member links, captains reporting for
their teams from their phones, `team_actors`, and rosters locked once started."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.handlers.test_series import acked
from tests.wsclient import Socket, connect, refused
from tournament.events import RecordingPublisher

TEAMS = {
    "red": [("ann", "captain"), ("bo", "player"), ("cy", "substitute")],
    "blue": [("dee", "captain"), ("eli", "player")],
    "green": [("gus", "captain"), ("hal", "player")],
    "gold": [("ivy", "captain"), ("jo", "player")],
}


def members(team: str) -> list[dict[str, str]]:
    return [{"id": mid, "name": mid.title(), "role": role} for mid, role in TEAMS[team]]


async def team_cup(api: Api) -> str:
    """A single elimination of the four teams, seeded in order, rosters set."""
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "Team cup"}, 201))["id"]
    for seed, team in enumerate(TEAMS, start=1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": team.title(), "id": team,
                                                                      "seed": seed}, 201)
        answer = await api.ok("PUT", f"/api/tournaments/{tid}/participants/{team}/roster",
                              {"tag": team[:3].upper(), "members": members(team)})
        assert answer["team"] == {"tag": team[:3].upper(), "members": members(team)}
    return tid


async def member_links(api: Api, tid: str) -> dict[str, dict[str, Any]]:
    minted = await api.ok("POST", f"/api/tournaments/{tid}/links", {"members": True}, 201)
    return {link["subject"]: link for link in minted["links"]}


async def refusal(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a command that must be refused; its error frame."""
    await sock.send(frame)
    while (answer := await sock.recv())["type"] not in ("ack", "error"):
        pass
    assert answer["type"] == "error", answer
    return answer


@pytest.mark.gen_test(timeout=30)
async def test_captains_report_for_their_teams_and_team_actors_any_lets_a_player(api: Api) -> None:
    """Round 1: captains report and confirm from their sockets; a player and a substitute are
    refused. With team_actors any, the final's players report it; a substitute still may not."""
    tid = await team_cup(api)
    links = await member_links(api, tid)
    assert (links["ann"]["acts_for"], links["ann"]["participant_id"], links["ann"]["code"]) == ("red", "red", None)
    assert links["red"]["acts_for"] is None and len(links) == 4 + 9
    await api.ok("POST", f"/api/tournaments/{tid}/start", {})
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    first = {m["id"]: m for m in matches if m["round"] == 1}
    assert sorted(sorted(m["participant_ids"]) for m in first.values()) == [["blue", "green"], ["gold", "red"]]

    for match in first.values():
        a, b = match["participant_ids"]
        cap_a, cap_b = (next(mid for mid, role in TEAMS[t] if role == "captain") for t in (a, b))
        player_b = next(mid for mid, role in TEAMS[b] if role == "player")
        await api.ok("POST", f"/api/matches/{match['id']}/start")
        phone_a, welcome = await connect(api, f"/ws/match/{match['id']}", links[cap_a]["token"])
        assert welcome["data"]["is_participant"] is True and welcome["data"]["can_chat"] is True
        phone_b, _ = await connect(api, f"/ws/match/{match['id']}", links[cap_b]["token"])
        player, _ = await connect(api, f"/ws/match/{match['id']}", links[player_b]["token"])
        scores = {a: 2, b: 0}
        error = await refusal(player, {"type": "report_score", "id": 1, "data": {"scores": scores}})
        assert (error["code"], error["team_actors"]) == ("insufficient_permissions", "captain")
        assert error["message"] == (f"only the captain of {b.title()} may act for the team; a player may not")
        ack = await acked(phone_a, {"type": "report_score", "id": 2, "data": {"scores": scores}})
        assert ack["data"]["state"] == "pending_result"
        ack = await acked(phone_b, {"type": "confirm_result", "id": 3})
        assert ack["data"]["state"] == "completed"
        done = await api.ok("GET", f"/api/matches/{match['id']}")
        assert (list(done["reports"]), done["winner_id"]) == ([a], a)  # recorded under the team's id

    await api.ok("PATCH", f"/api/tournaments/{tid}", {"team_actors": "any"})
    status, body = await api.request("PATCH", f"/api/tournaments/{tid}", {"team_actors": "coach"})
    assert (status, body["error"]["field"]) == (422, "team_actors")
    (final,) = [m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"] if m["round"] == 2]
    a, b = final["participant_ids"]
    assert {a, b} == {"red", "blue"}
    await api.ok("POST", f"/api/matches/{final['id']}/start")
    bo, _ = await connect(api, f"/ws/match/{final['id']}", links["bo"]["token"])
    eli, _ = await connect(api, f"/ws/match/{final['id']}", links["eli"]["token"])
    cy, _ = await connect(api, f"/ws/match/{final['id']}", links["cy"]["token"])
    error = await refusal(cy, {"type": "report_score", "id": 1, "data": {"scores": {"red": 3, "blue": 1}}})
    assert (error["code"], error["team_actors"]) == ("insufficient_permissions", "any")
    assert "a substitute may not" in error["message"]
    status, body = await api.post(f"/api/matches/{final['id']}/result", {"scores": {"red": 3, "blue": 1}},
                                  as_=links["cy"]["token"])
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")  # REST alike
    await acked(bo, {"type": "update_score", "id": 2, "data": {"scores": {"red": 1, "blue": 1}}})
    reported = await acked(bo, {"type": "report_score", "id": 3, "data": {"scores": {"red": 3, "blue": 1}}})
    assert reported["data"]["state"] == "pending_result"
    assert (await acked(eli, {"type": "confirm_result", "id": 4}))["data"]["state"] == "completed"
    tournament = await api.ok("GET", f"/api/tournaments/{tid}")
    assert tournament["state"] == "completed" and tournament["team_actors"] == "any"
    assert tournament["placements"][0] == {"place": 1, "participant_id": "red"}


@pytest.mark.gen_test(timeout=30)
async def test_a_player_in_two_teams_is_refused_and_nothing_changes(api: Api) -> None:
    """A roster naming another team's member is a 422 naming both; nothing is written."""
    tid = await team_cup(api)
    before = await api.ok("GET", f"/api/tournaments/{tid}/participants")
    status, body = await api.request("PUT", f"/api/tournaments/{tid}/participants/red/roster",
                                     {"tag": "RED", "members": [{"id": "ann", "role": "captain"},
                                                                {"id": "eli", "name": "Eli"}]})
    assert (status, body["error"]["code"]) == (422, "member_in_another_team")
    assert (body["error"]["member_id"], body["error"]["team_id"]) == ("eli", "blue")
    assert "Eli (eli)" in body["error"]["message"] and "Blue (blue)" in body["error"]["message"]
    for bad, code in [({"tag": "RED", "members": [{"id": "ann", "role": "player"}]}, "roster_invalid"),
                      ({"tag": "RED", "members": [{"id": "blue", "role": "captain"}]}, "roster_invalid"),
                      ({"tag": "RED", "members": [{"id": "ann", "role": "captain"}, {"id": "ann"}]},
                       "roster_invalid"),
                      ({"tag": "TOOLONGTAG", "members": members("red")}, "invalid_value")]:
        status, body = await api.request("PUT", f"/api/tournaments/{tid}/participants/red/roster", bad)
        assert (status, body["error"]["code"]) == (422, code), bad
    status, body = await api.request("PUT", f"/api/tournaments/{tid}/participants/nobody/roster",
                                     {"tag": "X", "members": [{"id": "zed", "role": "captain"}]})
    assert status == 404
    links = await member_links(api, tid)
    status, body = await api.request("PUT", f"/api/tournaments/{tid}/participants/red/roster",
                                     {"tag": "RED", "members": members("red")}, as_=links["ann"]["token"])
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")
    assert await api.ok("GET", f"/api/tournaments/{tid}/participants") == before


@pytest.mark.gen_test(timeout=30)
async def test_a_roster_change_after_the_start_needs_the_override_and_is_kept(api: Api,
                                                                             publisher: RecordingPublisher) -> None:
    """409 roster_locked, then with override the change is made, the replaced roster kept in
    roster_history, participant_updated announced; the dropped member's link is refused
    and their open socket closed."""
    tid = await team_cup(api)
    links = await member_links(api, tid)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {})
    (match,) = [m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
                if "red" in m["participant_ids"]]
    bo_phone, _ = await connect(api, f"/ws/match/{match['id']}", links["bo"]["token"])
    board, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    new = [{"id": "ann", "name": "Ann", "role": "captain"}, {"id": "kim", "name": "Kim", "role": "player"}]
    path = f"/api/tournaments/{tid}/participants/red/roster"
    status, body = await api.request("PUT", path, {"tag": "RED", "members": new})
    assert (status, body["error"]["code"]) == (409, "roster_locked")
    assert (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"][0]["team"]["members"] == \
        members("red")
    changed = await api.ok("PUT", path, {"tag": "RED", "members": new, "override": True})
    assert changed["team"]["members"] == new
    (kept,) = changed["roster_history"]
    assert (kept["tag"], kept["members"], kept["by"]) == ("RED", members("red"), "organizer")
    assert kept["at"].endswith("Z")
    while (frame := await board.recv())["type"] != "participant_updated":
        pass
    assert frame["data"]["participant"] == changed
    assert [e.data["participant"]["id"] for e in publisher.events if e.type == "participant_updated"][-1] == "red"

    error = await bo_phone.recv()
    assert (error["type"], error["reason"]) == ("error", "token_revoked")
    assert await bo_phone.closed() == (4503, "invalid_token")
    status, body = await api.get(f"/api/matches/{match['id']}", as_=links["bo"]["token"])
    assert (status, body["error"]["code"]) == (401, "token_revoked")
    assert await refused(api, f"/ws/match/{match['id']}", links["bo"]["token"]) == (
        "error", "invalid_token", 4503, "invalid_token", "token_revoked")
    kim = (await member_links(api, tid))["kim"]
    await api.ok("GET", f"/api/matches/{match['id']}", as_=kim["token"])  # the new member's link works
    answer = await api.ok("POST", f"/api/tournaments/{tid}/links/revoke", {"subject": "ann"})
    assert answer["revoked"] == "ann"
    status, _ = await api.get(f"/api/matches/{match['id']}", as_=links["ann"]["token"])
    assert status == 401  # a member's link is revoked on its own
