"""Stations and the call queue over real HTTP and sockets (issue 13): a 16-player double
elimination run on 4 stations by auto-assign, played from player sockets only; the routes'
refusals; the tournament welcome carrying the queue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.handlers.test_brackets_api import tournament_with
from tests.handlers.test_series import acked
from tests.wsclient import Socket, connect
from tournament.roles import Role


async def stations(api: Api, tid: str, count: int) -> list[dict[str, Any]]:
    return [await api.ok("POST", f"/api/tournaments/{tid}/stations", {"name": f"Station {i}"}, 201)
            for i in range(1, count + 1)]


async def play_called(api: Api, match: dict[str, Any], step: int) -> None:
    """The two players of a called match check in, start and report from their own sockets;
    the higher seed wins."""
    a, b = match["participant_ids"]
    socks: dict[str, Socket] = {}
    for pid in (a, b):
        socks[pid], welcome = await connect(api, f"/ws/match/{match['id']}", api.token(pid))
        assert welcome["data"]["match"]["call"]["station"] == match["call"]["station"]
    for pid in (a, b):
        await acked(socks[pid], {"type": "ready_up", "id": f"{step}-in-{pid}"})
    await acked(socks[a], {"type": "start_match", "id": f"{step}-start"})
    winner, loser = sorted((a, b), key=lambda p: int(p[1:]))
    result = {"scores": {winner: 2, loser: 1}}
    await acked(socks[a], {"type": "report_score", "id": f"{step}-a", "data": result})
    await acked(socks[b], {"type": "report_score", "id": f"{step}-b", "data": result})  # the same: confirmed
    for sock in socks.values():
        sock.close()


@pytest.mark.gen_test(timeout=120)
async def test_sixteen_player_double_elimination_on_four_stations_by_auto_assign(api: Api) -> None:
    """The organizer only sets up and watches: every match is called to a free station by the
    queue, played from its players' sockets, and frees its station; nobody is ever called
    to two matches, no station holds two; every match's log and the tournament room's
    frames are gap-free."""
    tid = await tournament_with(api, 16, "double_elimination")
    await stations(api, tid, 4)
    await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"auto_assign": True, "check_in_s": 600})
    watcher, welcome = await connect(api, f"/ws/tournament/{tid}", api.token("screen", Role.SPECTATOR))
    assert welcome["data"]["queue"]["queue"] == [] and len(welcome["data"]["queue"]["stations"]) == 4
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})

    frames: list[dict[str, Any]] = []
    on_station: dict[str, str] = {}  # station id -> match id
    engaged: dict[str, str] = {}  # player -> the match they are called to
    played: list[str] = []
    while not frames or frames[-1]["type"] != "tournament_completed":
        frame = await watcher.recv()
        frames.append(frame)
        match = frame["data"].get("match")
        if frame["type"] == "match_called":
            station = match["call"]["station_id"]
            assert station not in on_station, f"{station} holds {on_station.get(station)} and {match['id']}"
            assert not set(match["participant_ids"]) & set(engaged), (match["participant_ids"], engaged)
            on_station[station] = match["id"]
            engaged.update((p, match["id"]) for p in match["participant_ids"])
            assert frame["data"]["call"]["by"] == "auto" and match["state"] == "check_in"
            await play_called(api, match, len(played))
            played.append(match["id"])
        elif frame["type"] == "match_completed" and match and match.get("call"):
            assert on_station.pop(match["call"]["station_id"]) == match["id"]
            for p in match["participant_ids"]:
                assert engaged.pop(p) == match["id"]

    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(welcome["data"]["seq"] + 1, welcome["data"]["seq"] + 1 + len(frames)))
    everything = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    real = [m for m in everything if not m["bracket"]["walkover"]]
    assert sorted(played) == sorted(m["id"] for m in real) and len(played) in (30, 31)
    assert not on_station and not engaged
    for m in everything:
        events = (await api.ok("GET", f"/api/matches/{m['id']}/events"))["events"]
        assert [e["seq"] for e in events] == list(range(1, m["seq"] + 1))
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert final["state"] == "completed" and final["placements"][0]["participant_id"] == "p1"
    queue = await api.ok("GET", f"/api/tournaments/{tid}/queue")
    assert queue["queue"] == [] and all(s["match"] is None for s in queue["stations"])
    assert queue["durations"]["samples"] == len(played)


@pytest.mark.gen_test(timeout=30)
async def test_calling_by_hand_and_the_routes_refusals(api: Api) -> None:
    tid = await tournament_with(api, 4, "single_elimination")
    one, two = await stations(api, tid, 2)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {})
    matches = {m["bracket"]["key"]: m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]}
    w1, w2, final = matches["W1-1"], matches["W1-2"], matches["W2-1"]
    player = api.token(w1["participant_ids"][0])
    url = f"/api/matches/{w1['id']}/call"

    async def refusal(method: str, path: str, body: Any, status: int, **kw: Any) -> dict[str, Any]:
        got, answer = await api.request(method, path, body, **kw)
        assert got == status, (got, answer)
        return answer["error"]  # type: ignore[no-any-return]

    assert (await refusal("POST", url, {"station_id": one["id"]}, 403, as_=player))["code"] == "insufficient_permissions"
    assert (await refusal("POST", url, {}, 400))["code"] == "invalid_schema"
    assert (await refusal("POST", url, {"station_id": "st_nope"}, 404))["code"] == "not_found"
    assert (await refusal("POST", f"/api/matches/{final['id']}/call", {"station_id": one["id"]}, 409))["code"] \
        == "players_missing"
    called = await api.ok("POST", url, {"station_id": one["id"]})
    assert called["call"]["station"] == "Station 1" and called["call"]["by"] == "organizer"
    assert called["state"] == "check_in" and called["call"]["deadline"] is not None
    busy = await refusal("POST", f"/api/matches/{w2['id']}/call", {"station_id": one["id"]}, 409)
    assert busy["code"] == "station_busy" and busy["match_id"] == w1["id"]
    assert (await refusal("DELETE", f"/api/tournaments/{tid}/stations/{one['id']}", None, 409))["code"] == "station_busy"
    assert (await refusal("POST", f"/api/tournaments/{tid}/stations", {"name": "STATION 2"}, 409))["code"] \
        == "already_exists"
    assert (await refusal("POST", f"/api/tournaments/{tid}/stations", {"name": "\ud800"}, 422))["code"] \
        == "invalid_value"
    assert (await refusal("PATCH", f"/api/tournaments/{tid}/calling", {"check_in_s": 5}, 422))["code"] \
        == "invalid_value"
    assert (await refusal("PATCH", f"/api/tournaments/{tid}/calling", {"check_in_s": 10 ** 40}, 422))["code"] \
        == "invalid_value"
    assert (await refusal("PATCH", f"/api/tournaments/{tid}/calling", {"stream_first": "loud"}, 422))["code"] \
        == "invalid_value"
    await api.ok("PATCH", f"/api/tournaments/{tid}/stations/{two['id']}", {"enabled": False, "stream": True})
    disabled = await refusal("POST", f"/api/matches/{w2['id']}/call", {"station_id": two["id"]}, 409)
    assert disabled["code"] == "station_disabled"

    queue = await api.ok("GET", f"/api/tournaments/{tid}/queue")
    assert queue["stations"][0]["match"]["match_id"] == w1["id"]
    assert [r["key"] for r in queue["queue"]] == ["W1-2", "W2-1"]
    assert queue["queue"][0]["ready"] and queue["queue"][1]["waiting_for"] == ["winner of W1-1", "winner of W1-2"]
    back = await api.ok("POST", f"/api/matches/{w1['id']}/uncall", {"reason": "the PC is down"})
    assert back["call"] is None
    assert (await refusal("POST", f"/api/matches/{w1['id']}/uncall", {}, 409))["code"] == "not_called"
    await api.ok("DELETE", f"/api/tournaments/{tid}/stations/{one['id']}")
    assert [s["id"] for s in (await api.ok("GET", f"/api/tournaments/{tid}/stations"))["stations"]] == [two["id"]]
    events = [e["type"] for e in (await api.ok("GET", f"/api/matches/{w1['id']}/events"))["events"]]
    assert events[-3:] == ["match_called", "match_state_changed", "match_uncalled"]


@pytest.mark.gen_test(timeout=30)
async def test_a_call_reaches_the_players_match_socket_live(api: Api) -> None:
    tid = await tournament_with(api, 2, "single_elimination")
    (one,) = await stations(api, tid, 1)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {})
    (match,) = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    phone, welcome = await connect(api, f"/ws/match/{match['id']}", api.token("p2"))
    assert welcome["data"]["match"]["call"] is None
    await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"auto_assign": True})
    called = await phone.recv()
    assert called["type"] == "match_called" and called["data"]["station"]["name"] == "Station 1"
    assert called["data"]["match"]["call"]["station_id"] == one["id"]
    assert (await phone.recv())["type"] == "match_state_changed"  # check-in is open
