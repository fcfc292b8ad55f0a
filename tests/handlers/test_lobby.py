"""The lobby socket over real sockets: the tournaments list, live, with recovery (issue 19, part 1)."""

from __future__ import annotations

from typing import Any

import pytest

from server import build_services
from tests.conftest import Api
from tests.wsclient import Socket, connect, refused
from tournament.roles import Role


async def summary_frame(sock: Socket, tid: str) -> dict[str, Any]:
    """The next lobby frame about tournament `tid` (frames about others are skipped)."""
    while True:
        frame = await sock.recv()
        if frame["data"]["tournament"]["id"] == tid:
            return frame


@pytest.mark.gen_test(timeout=30)
async def test_the_lobby_follows_a_tournament_from_creation_to_its_matches(api: Api) -> None:
    """A spectator's lobby socket hears a new tournament, its registrations, its state and its
    matches in play, each a numbered frame with the whole summary."""
    sock, welcome = await connect(api, "/ws/lobby", api.token("screen", Role.SPECTATOR))
    assert welcome["type"] == "connection_established"
    assert (welcome["data"]["tournaments"], welcome["data"]["seq"]) == ([], 0)
    tid = (await api.ok("POST", "/api/tournaments", {"name": "LAN Cup", "game": "Q3"}, 201))["id"]
    listed = await summary_frame(sock, tid)
    assert (listed["type"], listed["seq"]) == ("tournament_listed", 1)
    assert listed["data"]["tournament"] == {
        "id": tid, "name": "LAN Cup", "game": "Q3", "format": "single_elimination", "state": "draft",
        "created_at": listed["data"]["tournament"]["created_at"], "participants": 0, "matches_in_play": 0,
        "watchers": 0}
    for name in ("alice", "bob"):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name.title(), "id": name}, 201)
    assert [(await summary_frame(sock, tid))["data"]["tournament"]["participants"] for _ in range(2)] == [1, 2]
    await api.ok("POST", f"/api/tournaments/{tid}/open-registration")
    assert (await summary_frame(sock, tid))["data"]["tournament"]["state"] == "registration"
    match = await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"]}, 201)
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    started = await summary_frame(sock, tid)
    assert (started["type"], started["data"]["tournament"]["matches_in_play"]) == ("tournament_summary", 1)
    await api.ok("POST", f"/api/matches/{match['id']}/result", {"scores": {"alice": 2, "bob": 1}})
    assert (await summary_frame(sock, tid))["data"]["tournament"]["matches_in_play"] == 0
    await api.ok("POST", f"/api/matches/{match['id']}/score", {"scores": {"alice": 3}}, expect=409)
    await sock.quiet()  # a refused move changes no summary: nothing more was sent


@pytest.mark.gen_test(timeout=30)
async def test_watchers_are_counted_and_a_reconnect_recovers_what_it_missed(api: Api) -> None:
    """Watcher counts come as they move; a lobby socket that reconnects with since and epoch
    gets exactly the frames it missed."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201))["id"]
    first, welcome = await connect(api, "/ws/lobby", api.organizer)
    assert [t["id"] for t in welcome["data"]["tournaments"]] == [tid]
    seq, epoch = welcome["data"]["seq"], welcome["data"]["epoch"]
    first.close()
    await first.closed()
    await connect(api, f"/ws/tournament/{tid}", api.organizer)
    api.services.lobby.count_watchers()
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Zed", "id": "zed"}, 201)
    again, resumed = await connect(api, f"/ws/lobby?since={seq}&epoch={epoch}", api.organizer)
    assert resumed["data"]["recovered"] is True
    missed = [await again.recv(), await again.recv()]
    assert [f["seq"] for f in missed] == [seq + 1, seq + 2]
    assert [(f["data"]["tournament"]["watchers"], f["data"]["tournament"]["participants"]) for f in missed] == [
        (1, 0), (1, 1)]
    await again.quiet()


@pytest.mark.gen_test
async def test_the_lobby_refuses_commands_and_bad_tokens(api: Api) -> None:
    """A command on the lobby is unsupported_message_type (the socket stays); a bad token is 4503."""
    sock, _ = await connect(api, "/ws/lobby", api.organizer)
    error = await sock.ask({"type": "start_match", "id": 1, "data": {"match_id": "m_1"}})
    assert (error["type"], error["code"], error["id"]) == ("error", "unsupported_message_type", 1)
    await sock.quiet()
    _, code, close, *_ = await refused(api, "/ws/lobby", "not-a-token")
    assert (code, close) == ("invalid_token", 4503)


@pytest.mark.gen_test
async def test_tournaments_from_before_are_summarized_from_the_store(api: Api, serve_app: Any) -> None:
    """After a restart, the first lobby welcome reads the newest tournaments, their
    registrations and their matches in play from the store."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Earlier"}, 201))["id"]
    for name in ("alice", "bob", "carol", "dave"):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name.title(), "id": name}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    await api.ok("POST", f"/api/matches/{tid}-W1-1/start")
    restarted = serve_app(build_services(api.services.config, api.services.store))
    _, welcome = await connect(restarted, "/ws/lobby", restarted.organizer)
    (summary,) = welcome["data"]["tournaments"]
    assert (summary["id"], summary["state"], summary["participants"], summary["matches_in_play"]) == (
        tid, "live", 4, 1)


@pytest.mark.gen_test
async def test_the_lobby_room_has_its_watcher_limit(services: Any, serve_app: Any) -> None:
    """Past tournament_room_max watchers, the next lobby socket is refused with room_full (4031)."""
    import dataclasses

    small = serve_app(build_services(dataclasses.replace(services.config, tournament_room_max=1), services.store))
    await connect(small, "/ws/lobby", small.organizer)
    _, code, close, *_ = await refused(small, "/ws/lobby", small.token("screen", Role.SPECTATOR))
    assert (code, close) == ("room_full", 4031)
