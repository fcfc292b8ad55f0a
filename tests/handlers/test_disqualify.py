"""Disqualifying a participant over real HTTP (issue 14): every match left to them is forfeited,
the ones open now and the ones the bracket seats them in later; Swiss pairs without them; a
live match's waiting score is written before its forfeit; and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.handlers.test_brackets_api import play, playable, tournament_with
from tests.wsclient import connect


async def disqualify(api: Api, tid: str, pid: str, reason: str = "cheating", **kw: Any) -> tuple[int, Any]:
    return await api.post(f"/api/tournaments/{tid}/participants/{pid}/disqualify", {"reason": reason}, **kw)


async def matches_of(api: Api, tid: str, pid: str) -> list[dict[str, Any]]:
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    return [m for m in matches if pid in m["participant_ids"] and not m["bracket"]["walkover"]]


async def play_out(api: Api, tid: str) -> None:
    """Every playable match, the higher seed winning."""
    while pending := await playable(api, tid):
        match = pending[0]
        await play(api, match, min(match["participant_ids"], key=lambda p: int(p[1:])))


@pytest.mark.gen_test(timeout=60)
async def test_double_elimination_forfeits_now_and_in_the_losers_bracket(api: Api) -> None:
    """p3 is disqualified before playing: W1 is forfeited at once, and the losers-bracket match
    the bracket seats them in later is forfeited as soon as their opponent is known. The
    tournament ends with p3 having played nothing."""
    tid = await tournament_with(api, 8, "double_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    status, tournament = await disqualify(api, tid, "p3")
    assert status == 200
    assert [(d["participant_id"], d["reason"], d["by"]) for d in tournament["disqualified"]] == [
        ("p3", "cheating", "organizer")]
    frame = await watcher.recv()
    while frame["type"] != "participant_disqualified":
        frame = await watcher.recv()
    assert (frame["data"]["participant_id"], frame["data"]["reason"]) == ("p3", "cheating")

    first = (await matches_of(api, tid, "p3"))[0]
    assert (first["state"], first["winner_id"]) == ("forfeit", "p6")
    await play_out(api, tid)
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed"
    reached = await matches_of(api, tid, "p3")
    assert len(reached) == 2 and all(m["state"] == "forfeit" and m["winner_id"] != "p3" for m in reached)
    assert all(m["started_at"] is None for m in reached)  # nothing was played
    for m in reached:
        events = (await api.ok("GET", f"/api/matches/{m['id']}/events"))["events"]
        assert events[-1]["type"] == "match_completed" and events[-1]["data"]["forfeited_by"] == "p3"


@pytest.mark.gen_test(timeout=60)
async def test_round_robin_forfeits_every_match_left_and_keeps_the_played(api: Api) -> None:
    tid = await tournament_with(api, 4, "round_robin")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    played = (await matches_of(api, tid, "p2"))[0]
    await play(api, played, "p2")
    await api.ok("POST", f"/api/tournaments/{tid}/participants/p2/disqualify", {})
    left = [m for m in await matches_of(api, tid, "p2") if m["id"] != played["id"]]
    assert len(left) == 2 and all(m["state"] == "forfeit" and m["winner_id"] != "p2" for m in left)
    kept = await api.ok("GET", f"/api/matches/{played['id']}")
    assert (kept["state"], kept["winner_id"]) == ("completed", "p2")  # what was played stays
    await play_out(api, tid)
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "completed"


@pytest.mark.gen_test(timeout=60)
async def test_swiss_pairs_the_next_rounds_without_them(api: Api) -> None:
    tid = await tournament_with(api, 6, "swiss")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given", "rounds": 3})
    await api.ok("POST", f"/api/tournaments/{tid}/participants/p1/disqualify", {})
    await play_out(api, tid)
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed"
    p1 = await matches_of(api, tid, "p1")
    assert [(m["round"], m["state"]) for m in p1] == [(1, "forfeit")]  # rounds 2 and 3 without p1
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    assert {m["round"] for m in matches} == {1, 2, 3}
    byes = [m for m in matches if m["round"] > 1 and None in m["participant_ids"]]
    assert len(byes) == 2  # five players left: a bye in each later round


@pytest.mark.gen_test(timeout=30)
async def test_a_live_matchs_waiting_score_lands_before_its_forfeit(api: Api) -> None:
    tid = await tournament_with(api, 2, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    mid = f"{tid}-W1-1"
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"p1": 7}})  # waits in the batch window
    await api.ok("POST", f"/api/tournaments/{tid}/participants/p1/disqualify", {})
    events = (await api.ok("GET", f"/api/matches/{mid}/events"))["events"]
    kinds = [e["type"] for e in events]
    assert kinds.index("score_updated") < kinds.index("match_completed")
    assert next(e for e in events if e["type"] == "score_updated")["data"]["scores"]["p1"] == 7
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["placements"][0]["participant_id"] == "p2"


@pytest.mark.gen_test(timeout=30)
async def test_refusals_change_nothing(api: Api) -> None:
    tid = await tournament_with(api, 4, "single_elimination")
    status, body = await disqualify(api, tid, "p1")
    assert status == 409 and "remove the participant instead" in body["error"]["message"]
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    status, body = await disqualify(api, tid, "p1", as_=api.token("p2"))
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")
    assert (await disqualify(api, tid, "nobody"))[0] == 404
    assert (await disqualify(api, "t_unknown", "p1"))[0] == 404
    status, body = await api.post(f"/api/tournaments/{tid}/participants/p1/disqualify", {"reason": "x" * 501})
    assert status == 422 and body["error"]["field"] == "reason"
    assert (await disqualify(api, tid, "p1"))[0] == 200
    status, body = await disqualify(api, tid, "p1")
    assert (status, body["error"]["code"]) == (409, "already_disqualified")
    tournament = await api.ok("GET", f"/api/tournaments/{tid}")
    assert [d["participant_id"] for d in tournament["disqualified"]] == ["p1"]
