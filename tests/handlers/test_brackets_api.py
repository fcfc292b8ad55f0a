"""Brackets over real HTTP and sockets: start, advance, decide, reset, standings, export."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from server import build_services
from tests.conftest import Api
from tests.wsclient import connect


async def tournament_with(api: Api, n: int, fmt: str) -> str:
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": f"{fmt} cup", "format": fmt}, 201))["id"]
    for i in range(1, n + 1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": f"P{i}", "id": f"p{i}", "seed": i}, 201)
    return tid


async def playable(api: Api, tid: str) -> list[dict[str, Any]]:
    """Matches with both players, not yet played."""
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    return [m for m in matches if m["state"] == "scheduled" and None not in m["participant_ids"]]


async def play(api: Api, match: dict[str, Any], winner: str) -> None:
    """An organizer runs the match and enters a result that `winner` wins."""
    a, b = match["participant_ids"]
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    scores = {a: 2, b: 1} if winner == a else {a: 1, b: 2}
    await api.ok("POST", f"/api/matches/{match['id']}/result", {"scores": scores})


@pytest.mark.gen_test(timeout=60)
async def test_sixteen_player_double_elimination(api: Api) -> None:
    """A whole 16-player double elimination over REST; a tournament socket receives the bracket,
    every match's events and the final placements, in sequence."""
    tid = await tournament_with(api, 16, "double_elimination")
    watcher, welcome = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    started = await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    assert started["state"] == "live" and started["seed_order"][:2] == ["p1", "p2"]
    rng = random.Random(16)
    losses = {f"p{i}": 0 for i in range(1, 17)}
    played = 0
    while pending := await playable(api, tid):
        match = pending[0]
        winner = rng.choice(match["participant_ids"])
        await play(api, match, winner)
        losses[next(p for p in match["participant_ids"] if p != winner)] += 1
        played += 1
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed"
    assert played in (30, 31)  # 2n-2, plus the grand-final reset when the losers' champion wins GF1
    champion = final["placements"][0]["participant_id"]
    assert losses[champion] <= 1 and all(n == 2 for p, n in losses.items() if p != champion)
    assert [p["place"] for p in final["placements"]] == [1, 2, 3, 4, 5, 5, 7, 7, 9, 9, 9, 9, 13, 13, 13, 13]
    assert sorted(p["participant_id"] for p in final["placements"]) == sorted(losses)

    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "tournament_completed":
        frames.append(await watcher.recv())
    assert frames[0]["type"] == "bracket_generated"
    assert [f["seq"] for f in frames] == list(range(welcome["data"]["seq"] + 1, welcome["data"]["seq"] + 1 + len(frames)))
    kinds = {f["type"] for f in frames}
    assert {"bracket_updated", "match_started", "match_completed", "tournament_completed"} <= kinds
    assert sum(f["type"] == "match_completed" and not f["data"].get("walkover") for f in frames) == played
    assert frames[-1]["data"]["placements"] == final["placements"]


@pytest.mark.gen_test(timeout=30)
async def test_single_elimination_byes_and_third_place(api: Api) -> None:
    """Six players: seeds 1 and 2 get byes and wait in round two; the top seed winning
    everything meets seed 2 in the final; the third-place match decides third."""
    tid = await tournament_with(api, 6, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"third_place": True})
    bracket = await api.ok("GET", f"/api/tournaments/{tid}/bracket")
    first = next(r for r in bracket["rounds"] if r["bracket"] == "winners" and r["round"] == 1)
    walkovers = [m for m in first["matches"] if m["bracket"]["walkover"]]
    assert sorted(m["winner_id"] for m in walkovers) == ["p1", "p2"]
    while pending := await playable(api, tid):
        match = pending[0]
        await play(api, match, min(match["participant_ids"], key=lambda p: int(p[1:])))  # better seed wins
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["placements"] == [{"place": 1, "participant_id": "p1"}, {"place": 2, "participant_id": "p2"},
                                   {"place": 3, "participant_id": "p3"}, {"place": 4, "participant_id": "p4"},
                                   {"place": 5, "participant_id": "p5"}, {"place": 5, "participant_id": "p6"}]


@pytest.mark.gen_test(timeout=30)
async def test_round_robin_standings(api: Api) -> None:
    """Four players play each other once; standings follow the wins."""
    tid = await tournament_with(api, 4, "round_robin")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    assert len(await playable(api, tid)) == 6
    pairs = set()
    while pending := await playable(api, tid):
        match = pending[0]
        pairs.add(frozenset(match["participant_ids"]))
        await play(api, match, max(match["participant_ids"]))  # the higher number wins
    assert len(pairs) == 6
    standings = await api.ok("GET", f"/api/tournaments/{tid}/standings")
    assert [row["participant_id"] for row in standings["standings"]] == ["p4", "p3", "p2", "p1"]
    assert [row["wins"] for row in standings["standings"]] == [3, 2, 1, 0]
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "completed"


@pytest.mark.gen_test(timeout=30)
async def test_swiss_rounds_without_rematches(api: Api) -> None:
    """Five players, three rounds: each round opens when the last ends, a bye each round,
    no pairing twice."""
    tid = await tournament_with(api, 5, "swiss")
    started = await api.ok("POST", f"/api/tournaments/{tid}/start", {"rounds": 3})
    assert started["settings"]["rounds"] == 3
    met: list[frozenset[str]] = []
    while pending := await playable(api, tid):
        for match in pending:
            met.append(frozenset(match["participant_ids"]))
            await play(api, match, min(match["participant_ids"]))
    assert len(met) == 6 and len(set(met)) == 6
    done = await api.ok("GET", f"/api/tournaments/{tid}")
    assert done["state"] == "completed" and len(done["placements"]) == 5


@pytest.mark.gen_test
async def test_a_disputed_match_blocks_advancement_until_resolved(api: Api) -> None:
    """The winner of a disputed semifinal reaches the final only once the dispute is resolved."""
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    semi = (await playable(api, tid))[0]
    a, b = semi["participant_ids"]
    await api.ok("POST", f"/api/matches/{semi['id']}/start")
    await api.ok("POST", f"/api/matches/{semi['id']}/result", {"scores": {a: 2, b: 0}}, as_=api.token(a))
    raised = await api.ok("POST", f"/api/matches/{semi['id']}/disputes", {"reason": "lag"}, 201, as_=api.token(b))
    final_id = f"{tid}-{semi['bracket']['winner_to'][0]}"
    assert a not in (await api.ok("GET", f"/api/matches/{final_id}"))["participant_ids"]
    await api.ok("POST", f"/api/disputes/{raised['dispute']['id']}/resolve", {"status": "rejected", "resolution": "ok"})
    assert a in (await api.ok("GET", f"/api/matches/{final_id}"))["participant_ids"]


@pytest.mark.gen_test
async def test_forfeit_advances_the_opponent(api: Api) -> None:
    """A forfeited match sends the other player on."""
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    semi = (await playable(api, tid))[0]
    a, b = semi["participant_ids"]
    await api.ok("POST", f"/api/matches/{semi['id']}/forfeit", {"participant_id": a})
    final_id = f"{tid}-{semi['bracket']['winner_to'][0]}"
    assert b in (await api.ok("GET", f"/api/matches/{final_id}"))["participant_ids"]


@pytest.mark.gen_test
async def test_reset_before_play_and_not_after(api: Api) -> None:
    """A bracket can be thrown away and re-seeded until a match starts; registration closes
    while live."""
    tid = await tournament_with(api, 4, "single_elimination")
    first = await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "random", "rng_seed": 42})
    again_same = first["seed_order"]
    status, body = await api.post(f"/api/tournaments/{tid}/participants", {"name": "Late"})
    assert (status, body["error"]["code"]) == (409, "invalid_state")
    reset = await api.ok("POST", f"/api/tournaments/{tid}/reset")
    assert reset["state"] == "registration" and (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"] == []
    replayed = await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "random", "rng_seed": 42})
    assert replayed["seed_order"] == again_same and replayed["settings"]["rng_seed"] == 42
    match = (await playable(api, tid))[0]
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    status, body = await api.post(f"/api/tournaments/{tid}/reset")
    assert (status, body["error"]["code"]) == (409, "bracket_in_play")


@pytest.mark.gen_test
async def test_brackets_viewer_export(api: Api) -> None:
    """The export has the brackets-viewer.js tables, with numeric ids that point at each other."""
    tid = await tournament_with(api, 8, "double_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    data = await api.ok("GET", f"/api/tournaments/{tid}/bracket?format=brackets-viewer")
    assert set(data) == {"stage", "group", "round", "match", "match_game", "participant"}
    assert data["stage"][0]["type"] == "double_elimination" and len(data["participant"]) == 8
    round_ids = {r["id"] for r in data["round"]}
    assert all(m["round_id"] in round_ids for m in data["match"]) and len(data["match"]) == 15
    first = [m for m in data["match"] if m["round_id"] == 0]
    assert all(m["opponent1"]["id"] is not None and m["opponent2"]["id"] is not None for m in first)


@pytest.mark.gen_test
async def test_start_refusals(api: Api) -> None:
    """Starting needs an organizer, two participants, a known seeding; only once."""
    tid = await tournament_with(api, 1, "single_elimination")
    status, body = await api.post(f"/api/tournaments/{tid}/start")
    assert (status, body["error"]["code"]) == (422, "invalid_value")
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "P2", "id": "p2"}, 201)
    status, body = await api.post(f"/api/tournaments/{tid}/start", {"seeding": "alphabetical"})
    assert (status, body["error"]["field"]) == (422, "seeding")
    status, body = await api.post(f"/api/tournaments/{tid}/start", as_=api.token("p2"))
    assert status == 403
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    status, body = await api.post(f"/api/tournaments/{tid}/start")
    assert (status, body["error"]["state"]) == (409, "live")


async def four_player_semis(api: Api) -> tuple[str, dict[str, Any], str]:
    """A 4-player bracket with both semifinals won by the better seeds; (tid, semi 1, final id)."""
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    semis = await playable(api, tid)
    for semi in semis:
        await play(api, semi, min(semi["participant_ids"], key=lambda p: int(p[1:])))
    semi = await api.ok("GET", f"/api/matches/{semis[0]['id']}")
    return tid, semi, f"{tid}-{semi['bracket']['winner_to'][0]}"


@pytest.mark.gen_test
async def test_correction_before_the_next_match_begins_applies_freely(api: Api) -> None:
    """A new semifinal winner replaces the old one in the unstarted final; the old result is kept."""
    tid, semi, final_id = await four_player_semis(api)
    old_winner = semi["winner_id"]
    loser = next(p for p in semi["participant_ids"] if p != old_winner)
    preview = await api.ok("POST", f"/api/matches/{semi['id']}/correct",
                           {"scores": {old_winner: 0, loser: 2}, "dry_run": True})
    assert preview["applied"] is False and preview["requires_force"] is False
    assert [r["match_id"] for r in preview["resets"]] == [final_id]
    assert old_winner in (await api.ok("GET", f"/api/matches/{final_id}"))["participant_ids"]
    done = await api.ok("POST", f"/api/matches/{semi['id']}/correct", {"scores": {old_winner: 0, loser: 2}})
    assert done["applied"] is True and done["match"]["winner_id"] == loser
    assert done["match"]["history"][-1]["winner_id"] == old_winner
    final = await api.ok("GET", f"/api/matches/{final_id}")
    assert loser in final["participant_ids"] and old_winner not in final["participant_ids"]
    undone = await api.ok("POST", f"/api/matches/{semi['id']}/correct", {"undo": True})
    assert undone["match"]["winner_id"] == old_winner
    assert old_winner in (await api.ok("GET", f"/api/matches/{final_id}"))["participant_ids"]
    log = await api.ok("GET", f"/api/matches/{semi['id']}/events")
    assert [e["type"] for e in log["events"]].count("result_corrected") == 2


@pytest.mark.gen_test
async def test_correction_after_the_next_match_began_needs_force(api: Api) -> None:
    """Once the final is live, a correction that changes a finalist is refused without force,
    and with force the final starts over with the right players; a completed tournament
    goes back to live and is decided again."""
    tid, semi, final_id = await four_player_semis(api)
    old_winner = semi["winner_id"]
    loser = next(p for p in semi["participant_ids"] if p != old_winner)
    final = await api.ok("GET", f"/api/matches/{final_id}")
    await play(api, final, final["participant_ids"][0])
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "completed"
    status, body = await api.post(f"/api/matches/{semi['id']}/correct", {"scores": {old_winner: 0, loser: 2}})
    assert (status, body["error"]["code"]) == (409, "correction_needs_force")
    assert [r["match_id"] for r in body["error"]["resets"]] == [final_id]
    await api.ok("POST", f"/api/matches/{semi['id']}/correct", {"scores": {old_winner: 0, loser: 2}, "force": True})
    final = await api.ok("GET", f"/api/matches/{final_id}")
    assert final["state"] == "scheduled" and loser in final["participant_ids"]
    assert final["history"][-1]["why"] == "reset by a correction" and final["history"][-1]["state"] == "completed"
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "live"
    await play(api, final, loser)
    done = await api.ok("GET", f"/api/tournaments/{tid}")
    assert done["state"] == "completed" and done["placements"][0]["participant_id"] == loser


@pytest.mark.gen_test
async def test_correction_refusals(api: Api) -> None:
    """Only organizers correct, only decided matches, never to a tie; nothing to undo is 422."""
    tid, semi, final_id = await four_player_semis(api)
    a, b = semi["participant_ids"]
    status, _ = await api.post(f"/api/matches/{semi['id']}/correct", {"scores": {a: 1, b: 0}}, as_=api.token(a))
    assert status == 403
    status, body = await api.post(f"/api/matches/{semi['id']}/correct", {"scores": {a: 1, b: 1}})
    assert (status, body["error"]["field"]) == (422, "scores")
    status, body = await api.post(f"/api/matches/{final_id}/correct", {"scores": {a: 1, b: 0}})
    assert (status, body["error"]["code"]) == (409, "invalid_state")
    status, body = await api.post(f"/api/matches/{semi['id']}/correct", {"undo": True})
    assert (status, body["error"]["field"]) == (422, "undo")


@pytest.mark.gen_test(timeout=30)
async def test_reset_and_start_again_with_byes(api: Api) -> None:
    """A three-player bracket (one bye) can be reset and started again, and the bye winner
    reaches the final both times; ad-hoc matches of the tournament survive the reset."""
    tid = await tournament_with(api, 3, "single_elimination")
    adhoc = await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["p2", "p3"]}, 201)
    for _ in range(2):
        await api.ok("POST", f"/api/tournaments/{tid}/start")
        final = await api.ok("GET", f"/api/matches/{tid}-W2-1")
        assert "p1" in final["participant_ids"]
        await api.ok("POST", f"/api/tournaments/{tid}/reset")
    assert (await api.ok("GET", f"/api/matches/{adhoc['id']}"))["state"] == "scheduled"
    assert await api.services.store.list_events(f"match:{tid}-W1-1") == []  # the old logs went too


@pytest.mark.gen_test(timeout=60)
async def test_swiss_always_ends_even_when_no_rematch_free_round_is_left(api: Api) -> None:
    """Six players, five rounds, random results: every event completes (early when nobody can
    be paired without a rematch), and no request fails."""
    for seed in range(6):
        rng = random.Random(seed)
        tid = await tournament_with(api, 6, "swiss")
        await api.ok("POST", f"/api/tournaments/{tid}/start", {"rounds": 5})
        while pending := await playable(api, tid):
            for match in pending:
                await play(api, match, rng.choice(match["participant_ids"]))
        done = await api.ok("GET", f"/api/tournaments/{tid}")
        assert done["state"] == "completed" and len(done["placements"]) == 6
        assert done["settings"].get("rounds_played", 5) <= 5


@pytest.mark.gen_test
async def test_bracket_matches_are_forfeited_not_cancelled(api: Api) -> None:
    """Cancelling a bracket match would stall the bracket: it is refused."""
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    semi = (await playable(api, tid))[0]
    status, body = await api.post(f"/api/matches/{semi['id']}/cancel")
    assert (status, body["error"]["code"]) == (409, "bracket_match")


@pytest.mark.gen_test
async def test_correcting_a_grand_final_whose_reset_was_skipped(api: Api) -> None:
    """The skipped reset has not begun: changing the grand-final winner needs no force, and
    the reset is then played."""
    tid = await tournament_with(api, 4, "double_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    while pending := await playable(api, tid):
        match = pending[0]
        await play(api, match, match["participant_ids"][0])  # the first slot always wins
    gf1 = await api.ok("GET", f"/api/matches/{tid}-GF1")
    a, b = gf1["participant_ids"]
    assert gf1["winner_id"] == a and (await api.ok("GET", f"/api/matches/{tid}-GF2"))["state"] == "cancelled"
    done = await api.ok("POST", f"/api/matches/{tid}-GF1/correct", {"scores": {a: 0, b: 2}})
    assert done["requires_force"] is False
    gf2 = await api.ok("GET", f"/api/matches/{tid}-GF2")
    assert gf2["state"] == "scheduled" and set(gf2["participant_ids"]) == {a, b}
    await play(api, gf2, b)
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["placements"][0]["participant_id"] == b


@pytest.mark.gen_test
async def test_cancelling_a_tournament_ends_its_open_matches(api: Api) -> None:
    """A cancelled tournament leaves no match to play: open ones are cancelled (their disputes
    closed), ended ones stay as they were; it cannot be cancelled twice."""
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    first, second = await playable(api, tid)
    await play(api, first, first["participant_ids"][0])
    a, b = second["participant_ids"]
    await api.ok("POST", f"/api/matches/{second['id']}/start")
    await api.ok("POST", f"/api/matches/{second['id']}/result", {"scores": {a: 1, b: 0}}, as_=api.token(a))
    raised = await api.ok("POST", f"/api/matches/{second['id']}/disputes", {"reason": "x"}, 201, as_=api.token(b))
    cancelled = await api.ok("POST", f"/api/tournaments/{tid}/cancel")
    assert cancelled["state"] == "cancelled"
    states = {m["id"]: m["state"] for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]}
    assert states[first["id"]] == "completed" and states[second["id"]] == "cancelled"
    assert all(state in ("completed", "cancelled") for state in states.values())
    assert (await api.ok("GET", f"/api/disputes/{raised['dispute']['id']}"))["status"] == "rejected"
    status, body = await api.post(f"/api/tournaments/{tid}/cancel")
    assert (status, body["error"]["state"]) == (409, "cancelled")


@pytest.mark.gen_test(timeout=30)
async def test_a_big_bracket_is_summarised_in_the_welcome_and_its_events(services: Any, serve_app: Any) -> None:
    """Past snapshot_matches_max matches, the tournament welcome carries only the matches in
    play and bracket events carry no bracket; REST pages give every match once."""
    small = build_services(dataclasses.replace(services.config, snapshot_matches_max=4), services.store)
    api = serve_app(small)
    tid = await tournament_with(api, 8, "single_elimination")
    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    generated = await watcher.recv()
    assert (generated["type"], generated["data"]["bracket"], generated["data"]["bracket_matches"]) == (
        "bracket_generated", None, 7)
    first = (await playable(api, tid))[0]
    await api.ok("POST", f"/api/matches/{first['id']}/start")
    _, welcome = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    data = welcome["data"]
    assert (data["matches_total"], data["matches_complete"]) == (7, False)
    assert [m["id"] for m in data["matches"]] == [first["id"]]
    ids, after = [], None
    while True:
        page = await api.ok("GET", f"/api/tournaments/{tid}/matches?limit=3" + (f"&after={after}" if after else ""))
        ids += [m["id"] for m in page["matches"]]
        if (after := page["next"]) is None:
            break
    everything = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    assert ids == [m["id"] for m in everything] and len(ids) == 7
    status, body = await api.get(f"/api/tournaments/{tid}/matches?limit=3&after=m_unknown")
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.gen_test(timeout=30)
async def test_the_organizer_chooses_the_tiebreaks_and_points(api: Api) -> None:
    """A round robin started with its own tiebreak order and points records them and ranks by
    them; an unknown tiebreak, a bad points list or tiebreaks for a bracket are refused."""
    tid = await tournament_with(api, 4, "round_robin")
    for body, field in [({"tiebreaks": ["wins", "luck"]}, "tiebreaks"), ({"tiebreaks": ["seed", "wins"]}, "tiebreaks"),
                        ({"points": [3, 1, 4]}, "points")]:
        status, error = await api.post(f"/api/tournaments/{tid}/start", body)
        assert (status, error["error"]["code"], error["error"]["field"]) == (422, "invalid_value", field), body
    status, error = await api.post(f"/api/tournaments/{tid}/start", {"points": [3, 1]})
    assert (status, error["error"]["code"]) == (400, "invalid_schema")
    started = await api.ok("POST", f"/api/tournaments/{tid}/start",
                           {"tiebreaks": ["points", "score_for", "seed"], "points": [3, 1, 0]})
    assert (started["settings"]["tiebreaks"], started["settings"]["points"]) == (["points", "score_for", "seed"],
                                                                                [3, 1, 0])
    first = (await playable(api, tid))[0]
    a, b = first["participant_ids"]
    await api.ok("POST", f"/api/matches/{first['id']}/start")
    await api.ok("POST", f"/api/matches/{first['id']}/result", {"scores": {a: 5, b: 9}})
    table = (await api.ok("GET", f"/api/tournaments/{tid}/standings"))["standings"]
    assert (table[0]["participant_id"], table[0]["points"], table[0]["score_for"]) == (b, 3, 9)
    other = await tournament_with(api, 4, "single_elimination")
    status, error = await api.post(f"/api/tournaments/{other}/start", {"tiebreaks": ["wins"]})
    assert (status, error["error"]["field"]) == (422, "tiebreaks")
