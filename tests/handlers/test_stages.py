"""Groups, then playoffs, over real HTTP and a tournament socket (issue 14): 16 players in 4
round-robin groups, the top 2 of each to a cross-seeded single elimination that opens by
itself; the organizer's word instead of auto; formats per stage; the refusals."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import Api
from tests.handlers.test_brackets_api import play, playable, tournament_with
from tests.wsclient import connect
from tournament import stages


def seed_no(pid: str) -> int:
    return int(pid[1:])


async def play_out(api: Api, tid: str, stop: Any = None) -> int:
    """Every playable match, the better seed winning; `stop(match)` ends early. How many were played."""
    played = 0
    while pending := await playable(api, tid):
        match = pending[0]
        if stop and stop(match):
            break
        winner = min(match["participant_ids"], key=seed_no)
        if match["format"]["best_of"] > 1:  # a series: decided whole, the winner taking every game needed
            loser = next(p for p in match["participant_ids"] if p != winner)
            await api.ok("POST", f"/api/matches/{match['id']}/start")
            games = [{winner: 13, loser: 7}] * (match["format"]["best_of"] // 2 + 1)
            await api.ok("POST", f"/api/matches/{match['id']}/result", {"games": games})
        else:
            await play(api, match, winner)
        played += 1
    return played


@pytest.mark.gen_test(timeout=120)
async def test_sixteen_players_four_groups_top_two_to_a_cross_seeded_playoff(api: Api) -> None:
    tid = await tournament_with(api, 16, stages.FORMAT)
    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    started = await api.ok("POST", f"/api/tournaments/{tid}/start", {
        "seeding": "given", "groups": {"count": 4, "advance": 2, "playoff": "single_elimination"},
        "series": {"best_of": 1, "rounds": {"W3": {"best_of": 3}}}})
    members = started["settings"]["group_members"]
    assert members["A"] == ["p1", "p8", "p9", "p16"] and members["D"] == ["p4", "p5", "p12", "p13"]  # snake
    assert started["settings"]["stage"] == "groups"
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    assert len(matches) == 4 * 6 and {m["bracket"]["group"] for m in matches} == {"A", "B", "C", "D"}
    assert matches[0]["bracket"]["key"] == "A_R1-1"

    await play_out(api, tid)
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed"
    order = final["settings"]["playoff_order"]
    assert order[:4] == ["p1", "p2", "p3", "p4"]  # the group winners (the best seed of each group)
    group_of = {p: g for g, ps in members.items() for p in ps}
    assert {group_of[p] for p in order[4:]} == {"A", "B", "C", "D"}  # every runner-up
    for a, b in itertools.combinations(order, 2):
        if group_of[a] == group_of[b]:
            assert stages.earliest_meeting(order, a, b) == 3  # group mates only in the final
    playoff = [m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
               if m["bracket"]["group"] is None]
    assert sorted(m["bracket"]["key"] for m in playoff) == ["W1-1", "W1-2", "W1-3", "W1-4", "W2-1", "W2-2", "W3-1"]
    assert next(m for m in playoff if m["bracket"]["key"] == "W3-1")["format"]["best_of"] == 3
    for m in playoff:
        if m["round"] == 1:
            assert group_of[m["participant_ids"][0]] != group_of[m["participant_ids"][1]]
    places = [(p["place"], p["participant_id"]) for p in final["placements"]]
    assert places[:2] == [(1, "p1"), (2, "p2")]
    assert [p for p, _ in places] == [1, 2, 3, 3, 5, 5, 5, 5, 9, 9, 9, 9, 13, 13, 13, 13]
    assert {pid for place, pid in places if place >= 9} == {p for ps in members.values() for p in ps[2:]}

    standings = await api.ok("GET", f"/api/tournaments/{tid}/standings")
    assert [g["group"] for g in standings["groups"]] == ["A", "B", "C", "D"]
    assert [row["participant_id"] for row in standings["groups"][0]["standings"]] == ["p1", "p8", "p9", "p16"]
    view = await api.ok("GET", f"/api/tournaments/{tid}/bracket")
    assert {(r.get("group"), r["bracket"]) for r in view["rounds"]} >= {("A", "round_robin"), (None, "winners")}

    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "tournament_completed":
        frames.append(await watcher.recv())
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gap-free
    opened = [f for f in frames if f["type"] == "bracket_updated" and f["data"].get("stage") == "playoff"]
    assert len(opened) == 1 and opened[0]["data"]["tournament"]["settings"]["stage"] == "playoff"


@pytest.mark.gen_test(timeout=60)
async def test_the_playoff_waits_for_the_organizer_when_asked(api: Api) -> None:
    tid = await tournament_with(api, 6, stages.FORMAT)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {
        "seeding": "given", "groups": {"count": 2, "advance": 2, "auto_playoff": False,
                                       "playoff": "double_elimination", "playoff_seeding": "standings"}})
    status, body = await api.post(f"/api/tournaments/{tid}/start-playoff")
    assert (status, body["error"]["code"]) == (409, "groups_in_play")
    await play_out(api, tid)
    waiting = await api.ok("GET", f"/api/tournaments/{tid}")
    assert (waiting["state"], waiting["settings"]["stage"]) == ("live", "groups")  # not completed: the playoff waits
    assert (await api.post(f"/api/tournaments/{tid}/start-playoff", as_=api.token("p1")))[0] == 403
    opened = await api.ok("POST", f"/api/tournaments/{tid}/start-playoff")
    assert opened["settings"]["stage"] == "playoff" and opened["settings"]["playoff_order"][:2] == ["p1", "p2"]
    status, body = await api.post(f"/api/tournaments/{tid}/start-playoff")
    assert status == 409 and "started already" in body["error"]["message"]
    await play_out(api, tid)
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed" and len(final["placements"]) == 6


@pytest.mark.gen_test(timeout=30)
async def test_refusals_change_nothing(api: Api) -> None:
    tid = await tournament_with(api, 7, stages.FORMAT)
    for body, field, words in [
        ({"groups": {"count": 4}}, "groups", "4 groups need at least 8 participants"),
        ({"groups": {"count": 2, "advance": 4}}, "groups", "groups.advance must be 1 to 3"),
        ({"groups": {"count": 2, "playoff": "swiss"}}, "groups", "groups.playoff must be one of"),
        ({"groups": {"count": 2}, "series": {"best_of": 1, "rounds": {"W9": {"best_of": 3}}}}, "series", "no W9"),
    ]:
        status, answer = await api.post(f"/api/tournaments/{tid}/start", body)
        assert (status, answer["error"]["field"]) == (422, field), answer
        assert words in answer["error"]["message"]
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "draft"
    assert (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"] == []
    other = await tournament_with(api, 4, "single_elimination")
    status, answer = await api.post(f"/api/tournaments/{other}/start", {"groups": {"count": 2}})
    assert (status, answer["error"]["field"]) == (422, "groups")
    status, answer = await api.post(f"/api/tournaments/{other}/start-playoff")
    assert status == 409
    # formats by stage: G (every group match) and W (the playoff's winners bracket) are known keys
    started = await api.ok("POST", f"/api/tournaments/{tid}/start", {
        "groups": {"count": 2, "advance": 2}, "series": {"best_of": 1, "rounds": {"G": {"best_of": 3}}}})
    assert started["state"] == "live"
    assert {m["format"]["best_of"] for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]} == {3}


@pytest.mark.gen_test(timeout=60)
async def test_a_playoff_cut_off_between_its_matches_and_its_stage_is_finished_by_the_next_settle(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The playoff's matches are stored, then the stage (the commit point). A failure between
    the two leaves matches that the next settle finds: it records the stage, creates nothing twice."""
    tid = await tournament_with(api, 4, stages.FORMAT)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"groups": {"count": 2, "advance": 1}})
    store = api.services.store
    save = store.save_tournament
    failed: list[str] = []

    async def cut_off(tournament: Any) -> None:
        if tournament.settings.get("stage") == "playoff" and not failed:
            failed.append(tournament.id)
            raise RuntimeError("the power went out")
        await save(tournament)

    monkeypatch.setattr(store, "save_tournament", cut_off)
    await play_out(api, tid, stop=lambda m: m["bracket"]["group"] is None)
    assert failed == [tid]
    stuck = await api.ok("GET", f"/api/tournaments/{tid}")
    assert stuck["settings"]["stage"] == "groups"
    assert [m.slot.key for m in await store.list_matches(tid) if m.slot and not m.slot.group] == ["W1-1"]
    await api.services.brackets.settle(tid)
    settled = await api.ok("GET", f"/api/tournaments/{tid}")
    assert settled["settings"]["stage"] == "playoff" and settled["settings"]["playoff_order"] == ["p1", "p2"]
    await play_out(api, tid)
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "completed"


@pytest.mark.gen_test(timeout=30)
async def test_the_brackets_viewer_export_of_two_stages_is_refused_clearly(api: Api) -> None:
    tid = await tournament_with(api, 4, stages.FORMAT)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"groups": {"count": 2, "advance": 1}})
    status, body = await api.get(f"/api/tournaments/{tid}/bracket?format=brackets-viewer")
    assert (status, body["error"]["field"]) == (422, "format") and "one stage" in body["error"]["message"]
    assert (await api.get(f"/api/tournaments/{tid}/bracket"))[0] == 200


@pytest.mark.gen_test(timeout=60)
async def test_swiss_groups_pair_round_by_round_then_the_playoff(api: Api) -> None:
    """Two Swiss groups of 5 (a bye a round), 3 rounds each, each group pairing its next round
    when its own last one is decided; the top 2 of each to the playoff."""
    tid = await tournament_with(api, 10, stages.FORMAT)
    started = await api.ok("POST", f"/api/tournaments/{tid}/start", {
        "groups": {"count": 2, "advance": 2, "format": "swiss", "rounds": 3},
        "series": {"best_of": 1, "rounds": {"S3": {"best_of": 1}}}})
    assert started["settings"]["groups"]["rounds"] == 3 and started["settings"]["tiebreaks"][:2] == ["wins", "buchholz"]
    first = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    assert sorted({m["bracket"]["key"].split("-")[0] for m in first}) == ["A_S1", "B_S1"]

    group_a = [m for m in first if m["bracket"]["group"] == "A" and not m["bracket"]["walkover"]]
    for match in group_a:  # group A's round 1 only: A pairs round 2, B waits for its own
        await play(api, match, min(match["participant_ids"], key=seed_no))
    keys = {m["bracket"]["key"].split("-")[0] for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]}
    assert keys == {"A_S1", "B_S1", "A_S2"}

    await play_out(api, tid)
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed" and final["settings"]["stage"] == "playoff"
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    for group in "AB":
        rounds = {m["round"] for m in matches if m["bracket"]["group"] == group}
        assert rounds == {1, 2, 3}
        met = [frozenset(m["participant_ids"]) for m in matches if m["bracket"]["group"] == group
               and None not in m["participant_ids"]]
        assert len(met) == len(set(met))  # no rematch within a group
    standings = await api.ok("GET", f"/api/tournaments/{tid}/standings")
    assert [len(g["standings"]) for g in standings["groups"]] == [5, 5]
    assert standings["groups"][0]["standings"][0]["byes"] + standings["groups"][0]["standings"][0]["played"] == 3
    assert len(final["placements"]) == 10 and [p["place"] for p in final["placements"]][:4] == [1, 2, 3, 3]


GROUP_POOL = ["Ascent", "Bind", "Haven", "Icebox", "Lotus", "Split", "Sunset"]
PLAYOFF_POOL = ["Mirage", "Inferno", "Nuke"]


@pytest.mark.gen_test(timeout=60)
async def test_the_groups_veto_their_own_pool_and_the_playoff_the_tournaments(api: Api) -> None:
    """BO1 groups on a 7-map pool of their own, a BO3 playoff on the tournament's 3 maps: over
    REST a group match's start-veto takes the groups' pool (its body's other fields changing
    it), the final's the tournament's; the settings read back hold both."""
    tid = await tournament_with(api, 4, stages.FORMAT)
    started = await api.ok("POST", f"/api/tournaments/{tid}/start", {
        "groups": {"count": 2, "advance": 1, "veto": {"pool": GROUP_POOL, "sides": ["Attack", "Defense"]}},
        "veto": {"pool": PLAYOFF_POOL, "sides": ["CT", "T"]}, "series": {"best_of": 1, "rounds": {"W": {"best_of": 3}}}})
    assert started["settings"]["groups"]["veto"] == {"pool": GROUP_POOL, "sides": ["Attack", "Defense"],
                                                     "first": "higher_seed", "turn_s": None,
                                                     "on_timeout": "random", "sequence": None}
    assert started["settings"]["veto"]["pool"] == PLAYOFF_POOL
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["settings"] == started["settings"]

    group_a = await api.ok("POST", f"/api/matches/{tid}-A_R1-1/start-veto")
    assert (group_a["veto"]["pool"], group_a["veto"]["sides"]) == (GROUP_POOL, ["Attack", "Defense"])
    assert [s["action"] for s in group_a["veto"]["steps"]] == ["ban"] * 6  # best of 1 from 7 maps
    group_b = await api.ok("POST", f"/api/matches/{tid}-B_R1-1/start-veto", {"turn_s": 30})
    assert (group_b["veto"]["pool"], group_b["veto"]["turn_s"]) == (GROUP_POOL, 30)
    for mid, loser in ((f"{tid}-A_R1-1", "p4"), (f"{tid}-B_R1-1", "p3")):
        await api.ok("POST", f"/api/matches/{mid}/forfeit", {"participant_id": loser})

    final = await api.ok("POST", f"/api/matches/{tid}-W1-1/start-veto")
    assert (final["participant_ids"], final["format"]["best_of"]) == (["p1", "p2"], 3)
    assert (final["veto"]["pool"], final["veto"]["sides"]) == (PLAYOFF_POOL, ["CT", "T"])
    assert [s["action"] for s in final["veto"]["steps"]] == ["pick", "side", "pick", "side"]


@pytest.mark.gen_test(timeout=30)
async def test_a_bad_groups_veto_is_refused_and_changes_nothing(api: Api) -> None:
    """groups.veto of the wrong shape is a 400 on its field, a bad value a 422, and a pool too
    small for the group matches' format a 422 naming groups.veto; the tournament stays a draft
    without matches."""
    tid = await tournament_with(api, 4, stages.FORMAT)
    before = await api.ok("GET", f"/api/tournaments/{tid}")
    best_of_3 = {"best_of": 1, "rounds": {"G": {"best_of": 3}}}
    for veto, series, status_, field in [
        ("Mirage", None, 400, "groups.veto"), (["Mirage", "Nuke"], None, 400, "groups.veto"),
        ({"pool": "Mirage"}, None, 400, "groups.veto.pool"), ({"pool": [1, 2]}, None, 400, "groups.veto.pool"),
        ({"pool": ["Mirage"], "sequence": "ban"}, None, 400, "groups.veto"),
        ({"pool": ["Mirage"], "turn_s": "30"}, None, 400, "groups.veto"),
        ({"pool": []}, None, 422, "groups.veto.pool"), ({"pool": ["Mirage", "mirage"]}, None, 422, "groups.veto.pool"),
        ({"pool": ["Mira\u0000ge"]}, None, 422, "groups.veto.pool"), ({"pool": ["Mirage"], "first": "loser"}, None,
                                                                        422, "groups.veto"),
        ({"pool": [f"Map {i}" for i in range(17)]}, None, 422, "groups.veto.pool"),
        ({"pool": ["Mirage", "Nuke"]}, best_of_3, 422, "groups.veto"),
    ]:
        body: dict[str, Any] = {"groups": {"count": 2, "advance": 1, "veto": veto}}
        if series:
            body["series"] = series
        status, answer = await api.post(f"/api/tournaments/{tid}/start", body)
        assert (status, answer["error"]["field"]) == (status_, field), (veto, answer)
    assert "groups.veto.pool: 3 games need at least 3 maps, not 2" in answer["error"]["message"]
    after = await api.ok("GET", f"/api/tournaments/{tid}")
    assert (after["state"], after["version"], after["settings"]) == ("draft", before["version"], before["settings"])
    assert (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"] == []
