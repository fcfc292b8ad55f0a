"""Series over real HTTP and sockets: a best of 3 played from two player sockets and watched,
a best-of-5 grand final in a double elimination, corrections and refusals (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.handlers.test_brackets_api import playable, tournament_with
from tests.wsclient import Socket, connect
from tournament.roles import Role

POOL = ["Ancient", "Anubis", "Dust2", "Inferno", "Mirage", "Nuke", "Train"]
A13 = {"alice": 13, "bob": 9}
B13 = {"alice": 8, "bob": 13}


async def series_between(api: Api, fmt: dict[str, Any]) -> tuple[str, str]:
    """A tournament of alice and bob with an ad-hoc match of the given format: (tournament id, match id)."""
    t = await api.ok("POST", "/api/tournaments", {"name": "Series cup"}, 201)
    for name in ("alice", "bob"):
        await api.ok("POST", f"/api/tournaments/{t['id']}/participants", {"name": name, "id": name}, 201)
    match = await api.ok("POST", f"/api/tournaments/{t['id']}/matches",
                         {"participant_ids": ["alice", "bob"], "format": fmt}, 201)
    assert match["format"] == {"best_of": fmt["best_of"], "play_all": fmt.get("play_all", False)}
    return t["id"], match["id"]


async def acked(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a command; its ack (the events it causes, which reach the sender too, are passed over)."""
    await sock.send(frame)
    while (answer := await sock.recv())["type"] not in ("ack", "error"):
        pass
    assert answer["type"] == "ack", answer
    return answer


async def refusal(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a command that must be refused; its error frame (the events before it are passed over)."""
    await sock.send(frame)
    while (answer := await sock.recv())["type"] not in ("ack", "error"):
        pass
    assert answer["type"] == "error", answer
    return answer


async def frames_until(sock: Socket, last: str) -> list[dict[str, Any]]:
    frames = [await sock.recv()]
    while frames[-1]["type"] != last:
        frames.append(await sock.recv())
    return frames


@pytest.mark.gen_test(timeout=30)
async def test_a_best_of_three_played_from_two_player_sockets(api: Api) -> None:
    """Alice and Bob play a BO3 from their sockets (live scores, reports, confirms); a spectator
    on the match and an organizer on the tournament see every frame, in order, and the last
    snapshot holds the whole series."""
    tid, mid = await series_between(api, {"best_of": 3})
    await api.ok("POST", f"/api/matches/{mid}/open-check-in")
    for player in ("alice", "bob"):
        await api.ok("POST", f"/api/matches/{mid}/check-in", as_=api.token(player))
    alice, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    bob, _ = await connect(api, f"/ws/match/{mid}", api.token("bob"))
    spectator, welcome = await connect(api, f"/ws/match/{mid}", api.token("sam", Role.SPECTATOR))
    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    assert (welcome["data"]["match"]["state"], welcome["data"]["match"]["games"]) == ("ready", [])

    await api.ok("POST", f"/api/matches/{mid}/start-veto", {"pool": POOL, "sides": ["CT", "T"], "first": "coin_flip",
                                                           "rng_seed": 3})
    vetoed = (await api.ok("GET", f"/api/matches/{mid}"))["veto"]
    first, second = (alice, bob) if vetoed["first"] == "alice" else (bob, alice)
    for i, (sock, key, choice) in enumerate([(first, "map", "Nuke"), (second, "map", "Train"), (first, "map", "Mirage"),
                                             (second, "side", "CT"), (second, "map", "Inferno"), (first, "side", "CT"),
                                             (first, "map", "Ancient"), (second, "map", "Anubis")]):
        if i == 3:  # a side not in the veto's sides: refused with the veto as it is
            error = await refusal(sock, {"type": "veto", "id": "bad-side", "data": {"side": "Attack"}})
            assert (error["code"], error["field"], error["turn"], error["action"], error["remaining"]) == (
                "invalid_value", "side", "bob" if sock is bob else "alice", "side",
                ["Ancient", "Anubis", "Dust2", "Inferno"])
        await acked(sock, {"type": "veto", "id": f"v{i}", "data": {key: choice}})
    await acked(alice, {"type": "start_match", "id": 1})
    await acked(alice, {"type": "update_score", "id": 2, "data": {"scores": {"alice": 7, "bob": 5}, "game": 1}})
    await acked(alice, {"type": "report_score", "id": 3, "data": {"scores": A13, "game": 1}})
    await acked(bob, {"type": "report_score", "id": 4, "data": {"scores": A13}})  # the same: confirmed
    await acked(bob, {"type": "update_score", "id": 5, "data": {"scores": {"bob": 4}}})  # game 2, the live one
    await acked(bob, {"type": "report_score", "id": 6, "data": {"scores": {"alice": 11, "bob": 13}, "game": 2}})
    await acked(alice, {"type": "confirm_result", "id": 7})
    await acked(alice, {"type": "report_score", "id": 8, "data": {"scores": {"alice": 16, "bob": 14}}})
    error = await alice.ask({"type": "update_score", "id": 9, "data": {"scores": {"alice": 1}, "game": 2}})
    assert (error["type"], error["code"]) == ("error", "invalid_state")  # pending: no live score
    await acked(bob, {"type": "confirm_result", "id": 10})

    seen = await frames_until(spectator, "match_completed")
    assert [f["type"] for f in seen[:9]] == ["veto_updated"] * 9
    assert [t["map"] for f in seen[1:9] for t in f["data"]["taken"]] == [
        "Nuke", "Train", "Mirage", "Mirage", "Inferno", "Inferno", "Ancient", "Anubis", "Dust2"]
    assert seen[8]["data"]["veto"]["maps"] == ["Mirage", "Inferno", "Dust2"]
    assert [(f["type"], f["data"].get("game")) for f in seen[9:]] == [
        ("match_started", None), ("game_started", 1), ("score_updated", 1),
        ("match_state_changed", None), ("game_completed", 1), ("series_updated", None), ("game_started", 2),
        ("score_updated", 2), ("match_state_changed", None), ("game_completed", 2), ("series_updated", None),
        ("game_started", 3),
        ("match_state_changed", None), ("game_completed", 3), ("series_updated", None), ("match_completed", None)]
    assert [f["seq"] for f in seen] == list(range(welcome["data"]["seq"] + 1, welcome["data"]["seq"] + 1 + len(seen)))
    assert [f["data"]["series"]["score"] for f in seen if f["type"] == "series_updated"] == [
        {"alice": 1, "bob": 0}, {"alice": 1, "bob": 1}, {"alice": 2, "bob": 1}]
    final = seen[-1]["data"]
    assert final["winner_id"] == "alice" and final["result"]["games"] == [A13, {"alice": 11, "bob": 13},
                                                                            {"alice": 16, "bob": 14}]
    assert [(g["number"], g["winner_id"], g["reported_by"], g["confirmed_by"]) for g in final["match"]["games"]] == [
        (1, "alice", "alice", "bob"), (2, "bob", "bob", "alice"), (3, "alice", "alice", "bob")]
    assert final["match"]["scores"] == {"alice": 2, "bob": 1}
    assert [g["map"] for g in final["match"]["games"]] == ["Mirage", "Inferno", "Dust2"]
    assert final["match"]["games"][0]["sides"] == {vetoed["first"]: "T", ("bob" if vetoed["first"] == "alice"
                                                                           else "alice"): "CT"}

    overseen = await frames_until(watcher, "match_completed")
    # the tournament room has the same frames, each live score as its window's scores_updated
    assert [f["type"] for f in overseen] == [{"score_updated": "scores_updated"}.get(f["type"], f["type"]) for f in seen]
    assert [u["scores"] for f in overseen if f["type"] == "scores_updated" for u in f["data"]["updates"]] == [
        f["data"]["scores"] for f in seen if f["type"] == "score_updated"]
    stored = await api.ok("GET", f"/api/matches/{mid}")
    assert stored["series"] == {"best_of": 3, "play_all": False, "to_win": 2, "score": {"alice": 2, "bob": 1},
                                "current_game": None, "games_played": 3}


@pytest.mark.gen_test(timeout=60)
async def test_a_best_of_five_grand_final_in_double_elimination(api: Api) -> None:
    """Every match best of 1 but the grand final, best of 5: the bracket plays through over
    REST; the grand final's players check in, start it and play it game by game to 3-2 from
    their sockets (a live score in game 5); the tournament socket sees every frame in order,
    and the final's winner is the champion."""
    tid = await tournament_with(api, 4, "double_elimination")
    started = await api.ok("POST", f"/api/tournaments/{tid}/start",
                           {"grand_final_reset": False, "series": {"best_of": 1, "rounds": {"GF": {"best_of": 5}}}})
    assert started["settings"]["series"] == {"best_of": 1, "play_all": False,
                                             "rounds": {"GF": {"best_of": 5, "play_all": False}}}
    while pending := [m for m in await playable(api, tid) if m["label"] != "GF1"]:
        match = pending[0]
        a, b = match["participant_ids"]
        await api.ok("POST", f"/api/matches/{match['id']}/start")
        await api.ok("POST", f"/api/matches/{match['id']}/result", {"scores": {a: 2, b: 1}})
    (final,) = await playable(api, tid)
    assert final["label"] == "GF1" and final["format"]["best_of"] == 5
    a, b = final["participant_ids"]
    mid = final["id"]
    watcher, welcome = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    first, _ = await connect(api, f"/ws/match/{mid}", api.token(a))
    second, _ = await connect(api, f"/ws/match/{mid}", api.token(b))

    await api.ok("POST", f"/api/matches/{mid}/open-check-in")
    await acked(first, {"type": "ready_up", "id": "c1"})
    await acked(second, {"type": "ready_up", "id": "c2"})
    await acked(first, {"type": "start_match", "id": "s"})
    for game, winner in enumerate([a, b, a, b], start=1):
        scores = {a: 2, b: 0} if winner == a else {a: 0, b: 2}
        reporter, opponent = (first, second) if game % 2 else (second, first)
        await acked(reporter, {"type": "report_score", "id": f"r{game}", "data": {"scores": scores, "game": game}})
        if game < 3:
            ack = await acked(opponent, {"type": "confirm_result", "id": f"k{game}"})
        else:  # the same report from the opponent confirms it too
            ack = await acked(opponent, {"type": "report_score", "id": f"k{game}", "data": {"scores": scores}})
        assert ack["data"]["state"] == "live"
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "live"
    await acked(second, {"type": "update_score", "id": "u5", "data": {"scores": {b: 1}, "game": 5}})
    await acked(second, {"type": "report_score", "id": "r5", "data": {"scores": {a: 0, b: 3}, "game": 5}})
    assert (await acked(first, {"type": "confirm_result", "id": "k5"}))["data"]["state"] == "completed"

    frames = await frames_until(watcher, "tournament_completed")
    since = welcome["data"]["seq"]
    assert [f["seq"] for f in frames] == list(range(since + 1, since + 1 + len(frames)))  # not one missed
    assert [(f["type"], f["data"].get("game")) for f in frames] == [
        ("match_state_changed", None), ("checkin_updated", None), ("checkin_updated", None),
        ("match_state_changed", None), ("match_started", None), ("game_started", 1),
        *[step for game in range(1, 5) for step in [
            ("match_state_changed", None), ("game_completed", game), ("series_updated", None),
            ("game_started", game + 1)]],
        ("scores_updated", None), ("match_state_changed", None), ("game_completed", 5), ("series_updated", None),
        ("match_completed", None), ("tournament_completed", None)]
    assert all(f["data"]["match_id"] == mid for f in frames[:-1] if f["type"] != "scores_updated")
    states = [(f["data"]["from"], f["data"]["to"]) for f in frames if f["type"] == "match_state_changed"]
    assert states == [("scheduled", "check_in"), ("check_in", "ready"), *[("live", "pending_result")] * 5]
    assert [f["data"]["series"]["score"] for f in frames if f["type"] == "series_updated"] == [
        {a: 1, b: 0}, {a: 1, b: 1}, {a: 2, b: 1}, {a: 2, b: 2}, {a: 2, b: 3}]
    assert [(f["data"]["reported_by"], f["data"]["confirmed_by"]) for f in frames if f["type"] == "game_completed"] == [
        (a, b), (b, a), (a, b), (b, a), (b, a)]
    # game 5's live score, before its report: the tournament room has it as its window's scores
    (live,) = frames[-6]["data"]["updates"]
    assert (live["match_id"], live["game"], live["scores"]) == (mid, 5, {a: 0, b: 1})
    assert "match" not in live and live["version"] == frames[-5]["data"]["match"]["version"] - 1
    done = frames[-2]["data"]
    assert (done["winner_id"], done["match"]["scores"], done["result"]["games"]) == (
        b, {a: 2, b: 3}, [{a: 2, b: 0}, {a: 0, b: 2}, {a: 2, b: 0}, {a: 0, b: 2}, {a: 0, b: 3}])
    assert frames[-1]["data"]["placements"][0] == {"place": 1, "participant_id": b}
    tournament = await api.ok("GET", f"/api/tournaments/{tid}")
    assert tournament["state"] == "completed" and tournament["placements"][0]["participant_id"] == b


@pytest.mark.gen_test(timeout=30)
async def test_a_series_correction_resets_what_it_changed(api: Api) -> None:
    """A semifinal won 2-1 gets its third game corrected: the other player won, so the final
    that player now reaches is reset; undo puts the first result back."""
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"series": {"best_of": 3}})
    semi = next(m for m in await playable(api, tid) if m["label"] == "W1-1")
    a, b = semi["participant_ids"]
    await api.ok("POST", f"/api/matches/{semi['id']}/start")
    done = await api.ok("POST", f"/api/matches/{semi['id']}/result",
                        {"games": [{a: 13, b: 3}, {a: 3, b: 13}, {a: 13, b: 11}]})
    assert done["winner_id"] == a
    preview = await api.ok("POST", f"/api/matches/{semi['id']}/correct",
                           {"game": 3, "scores": {a: 11, b: 13}, "dry_run": True})
    assert (preview["winner_id"], preview["applied"], [r["key"] for r in preview["resets"]]) == (b, False, ["W2-1"])
    applied = await api.ok("POST", f"/api/matches/{semi['id']}/correct", {"game": 3, "scores": {a: 11, b: 13}})
    assert applied["match"]["scores"] == {a: 1, b: 2} and applied["match"]["games"][2]["winner_id"] == b
    final = await api.ok("GET", f"/api/matches/{tid}-W2-1")
    assert b in final["participant_ids"] and a not in final["participant_ids"]
    undone = await api.ok("POST", f"/api/matches/{semi['id']}/correct", {"undo": True})
    assert undone["match"]["winner_id"] == a and undone["match"]["scores"] == {a: 2, b: 1}


@pytest.mark.gen_test(timeout=30)
async def test_refusals_name_the_game_and_the_rule(api: Api) -> None:
    """Each bad series request is refused with its status and code, and changes nothing."""
    _, mid = await series_between(api, {"best_of": 3})
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": A13})
    version = (await api.ok("GET", f"/api/matches/{mid}"))["version"]
    for body, status, code in [
        ({"scores": B13, "game": 1}, 409, "game_decided"),
        ({"scores": B13, "game": 3}, 409, "game_not_started"),
        ({"games": [A13]}, 422, "invalid_value"),
        ({"games": [A13, A13, A13]}, 422, "invalid_value"),
        ({"games": "A13"}, 400, "invalid_schema"),
        ({"game": 2}, 400, "invalid_schema"),
    ]:
        status_, error = await api.post(f"/api/matches/{mid}/result", body)
        assert (status_, error["error"]["code"]) == (status, code), body
    status, error = await api.post(f"/api/matches/{mid}/score", {"scores": {"alice": 1}, "game": 1})
    assert (status, error["error"]["code"], error["error"]["game"]) == (409, "game_over", 2)
    assert (await api.ok("GET", f"/api/matches/{mid}"))["version"] == version
    status, error = await api.post(f"/api/matches/{mid}/format", {"format": {"best_of": 5}})
    assert (status, error["error"]["code"]) == (409, "invalid_state")

    _, single = await series_between(api, {"best_of": 1})
    changed = await api.ok("POST", f"/api/matches/{single}/format", {"format": {"best_of": 7}})
    assert changed["format"] == {"best_of": 7, "play_all": False} and changed["series"]["to_win"] == 4
    for body in ({"format": {"best_of": 4}}, {"format": {"best_of": 12, "play_all": True}}):
        status, error = await api.post(f"/api/matches/{single}/format", body)
        assert (status, error["error"]["code"]) == (422, "invalid_value"), body
    status, error = await api.post(f"/api/matches/{single}/format", {"format": {"best_of": 3}},
                                   as_=api.token("alice"))
    assert (status, error["error"]["code"]) == (403, "insufficient_permissions")

    tid = await tournament_with(api, 4, "single_elimination")
    for options, words in [({"series": {"best_of": 2, "play_all": True}}, "needs a winner"),
                           ({"series": {"best_of": 3, "rounds": {"W9": {"best_of": 5}}}}, "no W9")]:
        status, error = await api.post(f"/api/tournaments/{tid}/start", options)
        assert (status, error["error"]["code"]) == (422, "invalid_value") and words in error["error"]["message"]
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] != "live"


@pytest.mark.gen_test(timeout=30)
async def test_play_all_draws_count_in_round_robin(api: Api) -> None:
    """A round robin of 2-game series: a 1-1 is a draw, worth a draw's points in the table."""
    tid = await tournament_with(api, 3, "round_robin")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"series": {"best_of": 2, "play_all": True}})
    first = (await playable(api, tid))[0]
    a, b = first["participant_ids"]
    await api.ok("POST", f"/api/matches/{first['id']}/start")
    drawn = await api.ok("POST", f"/api/matches/{first['id']}/result", {"games": [{a: 2, b: 0}, {a: 0, b: 2}]})
    assert (drawn["state"], drawn["winner_id"], drawn["scores"]) == ("completed", None, {a: 1, b: 1})
    table = {row["participant_id"]: row for row in (await api.ok("GET", f"/api/tournaments/{tid}/standings"))["standings"]}
    assert (table[a]["draws"], table[b]["draws"], table[a]["points"]) == (1, 1, 0.5)
    exported = await api.ok("GET", f"/api/tournaments/{tid}/bracket?format=brackets-viewer")
    row = next(r for r in exported["match"] if r["livebracket_id"] == first["id"])
    assert (row["status"], row["opponent1"]["result"], row["opponent2"]["result"]) == (4, "draw", "draw")


@pytest.mark.gen_test(timeout=30)
async def test_veto_refusals_over_rest(api: Api) -> None:
    """A veto's refusals over REST carry their status, code and the veto's state; the
    tournament's pool (a start option) is every match's default."""
    tid = await tournament_with(api, 4, "single_elimination")
    started = await api.ok("POST", f"/api/tournaments/{tid}/start",
                           {"series": {"best_of": 3}, "veto": {"pool": POOL, "first": "higher_seed"}})
    assert started["settings"]["veto"]["pool"] == POOL
    semi = (await playable(api, tid))[0]
    mid, (a, b) = semi["id"], semi["participant_ids"]
    status, error = await api.post(f"/api/matches/{mid}/veto", {"map": "Nuke"})
    assert (status, error["error"]["code"]) == (409, "no_veto")
    vetoed = await api.ok("POST", f"/api/matches/{mid}/start-veto")
    assert (vetoed["veto"]["first"], vetoed["veto"]["turn"]["by"]) == ("p1", "p1")  # the better seed
    for body, as_, status_, code in [
        ({"map": "Nuke"}, api.token(b), 409, "not_your_turn"),
        ({"map": "Cache"}, api.token(a), 422, "invalid_value"),
        ({"map": "Nuke", "action": "pick"}, api.token(a), 409, "wrong_action"),
        ({"map": "Nuke", "side": "CT"}, api.token(a), 400, "invalid_schema"),
        ({}, api.token(a), 400, "invalid_schema"),
    ]:
        status, error = await api.post(f"/api/matches/{mid}/veto", body, as_=as_)
        assert (status, error["error"]["code"]) == (status_, code), body
    assert error["error"]["field"] == "map"
    status, error = await api.post(f"/api/matches/{mid}/veto", {"map": "Cache"}, as_=api.token(a))
    assert (status, error["error"]["field"], error["error"]["state"], error["error"]["turn"],
            error["error"]["action"], error["error"]["remaining"]) == (422, "map", "scheduled", a, "ban", POOL)
    status, error = await api.post(f"/api/matches/{mid}/veto", {"map": "Nuke"}, as_=api.token(b))
    assert error["error"]["turn"] == a and "Nuke" in error["error"]["remaining"]
    await api.ok("POST", f"/api/matches/{mid}/veto", {"map": "Nuke"}, as_=api.token(a))
    status, error = await api.post(f"/api/matches/{mid}/veto", {"map": "nuke"}, as_=api.token(b))
    assert (status, error["error"]["code"]) == (409, "map_taken")
    status, error = await api.post(f"/api/matches/{mid}/start")
    assert (status, error["error"]["code"]) == (409, "veto_in_progress")
    status, error = await api.post(f"/api/matches/{mid}/start-veto", {"pool": ["Nuke", "Mirage"]})
    assert (status, error["error"]["code"]) == (422, "invalid_value")  # 3 games need 3 maps
    status, error = await api.post(f"/api/matches/{mid}/start-veto", as_=api.token(a))
    assert (status, error["error"]["code"]) == (403, "insufficient_permissions")
    status, error = await api.post(f"/api/matches/{mid}/veto", {"side": "CT"}, as_=api.token(b))
    assert (status, error["error"]["code"], error["error"]["action"]) == (409, "wrong_action", "ban")

    other = await tournament_with(api, 4, "single_elimination")
    status, error = await api.post(f"/api/tournaments/{other}/start", {
        "series": {"best_of": 3}, "veto": {"pool": POOL, "sequence": ["ban"] * 6}})
    assert (status, error["error"]["code"]) == (422, "invalid_value")  # six bans leave no pick for game 2


@pytest.mark.gen_test(timeout=30)
async def test_hostile_series_and_veto_input_is_refused_cleanly(api: Api) -> None:
    """Huge numbers, too many games or maps, lone surrogates, bidi overrides and control
    characters in map names: each a 400 or 422 with a code, and the match unchanged."""
    _, mid = await series_between(api, {"best_of": 3})
    before = await api.ok("GET", f"/api/matches/{mid}")
    for path, body in [
        ("format", {"format": {"best_of": 10**30}}),
        ("format", {"format": {"best_of": 3, "play_all": "yes"}}),
        ("start-veto", {"pool": [f"Map {i}" for i in range(17)]}),
        ("start-veto", {"pool": ["Mirage", "bad \ud800"]}),
        ("start-veto", {"pool": ["Mirage", "Nuke\u202e", "Dust2"]}),
        ("start-veto", {"pool": ["Mirage", "Nu\u0000ke", "Dust2"]}),
        ("start-veto", {"pool": ["Mirage", "Nuke", "Dust2"], "turn_s": 10**30}),
        ("start-veto", {"pool": ["Mirage", "Nuke", "Dust2"], "sequence": ["ban"] * 200}),
    ]:
        status, error = await api.post(f"/api/matches/{mid}/{path}", body)
        assert status in (400, 422) and error["error"]["code"] in ("invalid_schema", "invalid_value"), (path, body)
    await api.ok("POST", f"/api/matches/{mid}/start")
    for body in [{"games": [A13] * 10}, {"scores": A13, "game": 10**30}, {"games": [{"alice": 10**30, "bob": 1}]},
                 {"games": [{"alice": 13, "bob": 9, "carol": 1}]}, {"games": [[13, 9]]}]:
        status, error = await api.post(f"/api/matches/{mid}/result", body)
        assert status in (400, 422) and error["error"]["code"] in ("invalid_schema", "invalid_value"), body
    after = await api.ok("GET", f"/api/matches/{mid}")
    assert (after["version"], after["veto"], after["games"][0]["scores"]) == (
        before["version"] + 1, None, {"alice": 0, "bob": 0})
    status, error = await api.post(f"/api/tournaments/{after['tournament_id']}/matches",
                                   {"participant_ids": ["alice", "bob"], "format": {"best_of": 8}})
    assert (status, error["error"]["code"]) == (422, "invalid_value")


@pytest.mark.gen_test(timeout=30)
async def test_a_game_is_corrected_while_the_series_goes_on(api: Api) -> None:
    """Game 1 of a live best of 3 is corrected over REST (the series now 0-1, game 2 still live);
    undo puts it back; a spectator socket sees result_corrected and series_updated."""
    _, mid = await series_between(api, {"best_of": 3})
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": A13})
    watcher, _ = await connect(api, f"/ws/match/{mid}", api.token("sam", Role.SPECTATOR))
    fixed = await api.ok("POST", f"/api/matches/{mid}/correct", {"game": 1, "scores": B13})
    assert (fixed["applied"], fixed["resets"], fixed["match"]["state"]) == (True, [], "live")
    assert fixed["match"]["scores"] == {"alice": 0, "bob": 1} and fixed["match"]["series"]["current_game"] == 2
    assert [(await watcher.recv())["type"] for _ in range(2)] == ["result_corrected", "series_updated"]
    undone = await api.ok("POST", f"/api/matches/{mid}/correct", {"undo": True})
    assert undone["match"]["scores"] == {"alice": 1, "bob": 0} and undone["match"]["games"][0]["scores"] == A13


@pytest.mark.gen_test(timeout=30)
async def test_formats_by_bracket_round_and_match(api: Api) -> None:
    """A default, a whole bracket (L), a round (W2) and one match (GF2) each get their format."""
    tid = await tournament_with(api, 8, "double_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"series": {"best_of": 3, "rounds": {
        "L": {"best_of": 1}, "W3": {"best_of": 5}, "GF": {"best_of": 5}, "GF2": {"best_of": 7}}}})
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    best_of = {m["label"]: m["format"]["best_of"] for m in matches}
    assert {best_of[k] for k in best_of if k.startswith("W1") or k.startswith("W2")} == {3}
    assert {best_of[k] for k in best_of if k.startswith("L")} == {1}
    assert (best_of["W3-1"], best_of["GF1"], best_of["GF2"]) == (5, 5, 7)


@pytest.mark.gen_test(timeout=30)
async def test_undo_of_a_correction_that_ended_a_series_plays_it_again(api: Api) -> None:
    """1-1 with game 3 live at 5-3: correcting game 2 ends the series 2-0; undo (previewed first)
    puts the match back live at 1-1 with game 3 at 5-3, no result, and game 3 is played out;
    a spectator sees result_corrected, series_updated and match_state_changed."""
    _, mid = await series_between(api, {"best_of": 3})
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": A13, "game": 1})
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": B13, "game": 2})
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 5, "bob": 3}, "game": 3})
    ended = await api.ok("POST", f"/api/matches/{mid}/correct", {"game": 2, "scores": A13})
    assert (ended["state"], ended["winner_id"], ended["match"]["state"]) == ("completed", "alice", "completed")
    watcher, _ = await connect(api, f"/ws/match/{mid}", api.token("sam", Role.SPECTATOR))
    preview = await api.ok("POST", f"/api/matches/{mid}/correct", {"undo": True, "dry_run": True})
    assert preview == {"match_id": mid, "winner_id": None, "state": "live", "requires_force": False, "resets": [],
                       "applied": False}
    undone = await api.ok("POST", f"/api/matches/{mid}/correct", {"undo": True})
    back = undone["match"]
    assert (undone["applied"], undone["state"], back["state"], back["winner_id"], back["result"]) == (
        True, "live", "live", None, None)
    assert back["scores"] == {"alice": 1, "bob": 1} and back["series"]["current_game"] == 3
    assert [(g["number"], g["state"], g["scores"]) for g in back["games"]] == [
        (1, "completed", A13), (2, "completed", B13), (3, "live", {"alice": 5, "bob": 3})]
    frames = [await watcher.recv() for _ in range(3)]
    assert [f["type"] for f in frames] == ["result_corrected", "series_updated", "match_state_changed"]
    assert (frames[0]["data"]["games"], frames[2]["data"]["from"], frames[2]["data"]["to"]) == (
        [A13, B13], "completed", "live")
    done = await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 9, "bob": 13}})
    assert (done["state"], done["winner_id"], done["scores"]) == ("completed", "bob", {"alice": 1, "bob": 2})


@pytest.mark.gen_test(timeout=30)
async def test_undo_takes_back_the_winner_a_correction_seated(api: Api) -> None:
    """A BO3 semifinal at 1-1 is ended 2-0 by correcting game 2, which seats its winner in the
    final; the final starts. Undo's dry run names the final as a reset that has begun; without
    force it is refused, with force the semifinal is live again at 1-1 and the final has the
    slot emptied and is scheduled; game 3 is played and its winner seated instead."""
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"series": {"best_of": 3}})
    first_round = {m["label"]: m for m in await playable(api, tid)}
    semi, other = first_round["W1-1"], first_round["W1-2"]
    a, b = semi["participant_ids"]
    sid, fid = semi["id"], f"{tid}-W2-1"
    await api.ok("POST", f"/api/matches/{sid}/start")
    await api.ok("POST", f"/api/matches/{sid}/result", {"scores": {a: 13, b: 3}})
    await api.ok("POST", f"/api/matches/{sid}/result", {"scores": {a: 3, b: 13}})
    c, d = other["participant_ids"]
    await api.ok("POST", f"/api/matches/{other['id']}/start")
    await api.ok("POST", f"/api/matches/{other['id']}/result", {"games": [{c: 13, d: 1}, {c: 13, d: 2}]})
    corrected = await api.ok("POST", f"/api/matches/{sid}/correct", {"game": 2, "scores": {a: 13, b: 11}})
    assert (corrected["winner_id"], corrected["match"]["state"]) == (a, "completed")
    final = await api.ok("GET", f"/api/matches/{fid}")
    assert final["participant_ids"] == [a, c]
    await api.ok("POST", f"/api/matches/{fid}/start")

    preview = await api.ok("POST", f"/api/matches/{sid}/correct", {"undo": True, "dry_run": True})
    assert preview == {"match_id": sid, "winner_id": None, "state": "live", "requires_force": True,
                       "resets": [{"match_id": fid, "key": "W2-1", "state": "live"}], "applied": False}
    status, error = await api.post(f"/api/matches/{sid}/correct", {"undo": True})
    assert (status, error["error"]["code"], error["error"]["resets"]) == (409, "correction_needs_force",
                                                                          preview["resets"])
    assert (await api.ok("GET", f"/api/matches/{sid}"))["state"] == "completed"  # nothing written
    undone = await api.ok("POST", f"/api/matches/{sid}/correct", {"undo": True, "force": True})
    back = undone["match"]
    assert (back["state"], back["winner_id"], back["scores"], back["series"]["current_game"]) == (
        "live", None, {a: 1, b: 1}, 3)
    final = await api.ok("GET", f"/api/matches/{fid}")
    assert (final["state"], final["participant_ids"], final["games"]) == ("scheduled", [None, c], [])
    assert final["history"][-1]["why"] == "reset by a correction"
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "live"

    await api.ok("POST", f"/api/matches/{sid}/result", {"scores": {a: 10, b: 13}, "game": 3})
    assert (await api.ok("GET", f"/api/matches/{fid}"))["participant_ids"] == [b, c]
