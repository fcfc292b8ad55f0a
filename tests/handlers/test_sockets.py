"""The WebSocket routes over real sockets: connect, refusals, commands, events, recovery."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from handlers.services import Services
from server import build_services, shutdown
from tests.conftest import Api
from tests.wsclient import Socket, connect, refused
from tournament.roles import Role


async def started_match(api: Api) -> tuple[str, str]:
    tid, match = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    return tid, match["id"]


@pytest.mark.gen_test
async def test_welcome_on_a_match_socket(api: Api) -> None:
    """A spectator, a participant and an organizer each get the welcome with the snapshot."""
    tid, mid = await started_match(api)
    for token, role, participant in [(api.token("viewer", Role.SPECTATOR), "spectator", False),
                                     (api.token("alice"), "player", True), (api.organizer, "organizer", False)]:
        sock, welcome = await connect(api, f"/ws/match/{mid}", token)
        data = welcome["data"]
        assert welcome["type"] == "connection_established"
        assert (data["role"], data["is_participant"], data["match_id"], data["tournament_id"]) == (role, participant, mid, tid)
        assert data["match"]["state"] == "live" and data["seq"] == 1 and data["recovered"] is False
        assert data["heartbeat_interval"] == 25000 and data["epoch"]
        sock.close()


@pytest.mark.gen_test
async def test_welcome_on_a_tournament_socket(api: Api) -> None:
    """A tournament socket's welcome carries the tournament, participants and matches."""
    tid, mid = await started_match(api)
    sock, welcome = await connect(api, f"/ws/tournament/{tid}/", api.token("viewer", Role.SPECTATOR))
    data = welcome["data"]
    assert data["tournament"]["id"] == tid and [p["id"] for p in data["participants"]] == ["alice", "bob"]
    # its creation, two registrations and the match's start were numbered in the room before we came
    assert [m["id"] for m in data["matches"]] == [mid] and data["seq"] == 4 and data["watchers"] == 1


@pytest.mark.gen_test
async def test_each_refusal_has_its_close_code(api: Api) -> None:
    """Refusals are an error frame then a close a browser can read."""
    _, mid = await started_match(api)
    expired = api.token("alice", ttl_s=-60)
    cases = [
        ("/ws/match/bad%20id", api.organizer, None, ("error", "invalid_route", 4500)),
        (f"/ws/match/{mid}", None, None, ("error", "authentication_required", 4501)),
        (f"/ws/match/{mid}", expired, None, ("error", "token_expired", 4502)),
        (f"/ws/match/{mid}", "not-a-token", None, ("error", "invalid_token", 4503)),
        (f"/ws/match/{mid}", api.organizer, "http://evil.example", ("error", "invalid_origin", 4506)),
        ("/ws/match/m_missing", api.organizer, None, ("error", "not_found", 4504)),
        ("/ws/tournament/t_missing", api.organizer, None, ("error", "not_found", 4504)),
    ]
    for path, token, origin, (kind, code, close) in cases:
        got = await refused(api, path, token, origin)
        assert got[:3] == (kind, code, close), (path, got)
    forged = api.token("alice")[:-4] + "AAAA"
    assert (await refused(api, f"/ws/match/{mid}", forged))[2:] == (4503, "invalid_token", "token_signature_invalid")
    allowed, _ = await connect(api, f"/ws/match/{mid}", api.organizer, origin="http://localhost:3000")


@pytest.mark.gen_test
async def test_ping_pong_and_subscribe(api: Api) -> None:
    """ping echoes its timestamp; subscribe answers with a fresh snapshot."""
    _, mid = await started_match(api)
    sock, _ = await connect(api, f"/ws/match/{mid}", api.token("viewer", Role.SPECTATOR))
    assert await sock.ask({"type": "ping", "timestamp": 1234}) == {"type": "pong", "timestamp": 1234, "data": {}}
    subscribed = await sock.ask({"type": "subscribe"})
    assert subscribed["type"] == "subscribed" and subscribed["data"]["match"]["id"] == mid


@pytest.mark.gen_test
async def test_bad_frames_get_errors_and_the_socket_stays_open(api: Api) -> None:
    """Malformed, unknown and ill-typed frames are answered with errors; the socket lives on."""
    _, mid = await started_match(api)
    sock, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    for raw, code in [("{nope", "invalid_json"), ("[1]", "invalid_schema"), ('{"type": 5}', "invalid_schema"),
                      ('{"type": "teleport"}', "unsupported_message_type"),
                      ('{"type": "update_score", "data": {"scores": {"alice": "x"}}, "id": 9}', "invalid_schema"),
                      ('{"type": "update_score", "data": {"scores": {"zed": 1}}}', "invalid_value"),
                      ('{"type": "subscribe", "data": {"since": -1}}', "invalid_schema")]:
        await sock.conn.write_message(raw)
        error = await sock.recv()
        assert (error["type"], error["code"]) == ("error", code), raw
    await sock.quiet()


@pytest.mark.gen_test
async def test_oversized_frame_closes_4008(api: Api) -> None:
    """A frame over 16 KiB gets payload_too_large and close 4008."""
    _, mid = await started_match(api)
    sock, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    await sock.conn.write_message("x" * (16 * 1024 + 1))
    error = await sock.recv()
    assert error["code"] == "payload_too_large"
    assert (await sock.closed())[0] == 4008


@pytest.mark.gen_test
async def test_a_whole_match_by_socket_commands(api: Api) -> None:
    """Players check in, start, score, report and confirm over their sockets, each acked;
    a spectator watching the match sees every event in sequence."""
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    await api.ok("POST", f"/api/matches/{mid}/open-check-in")
    alice, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    bob, _ = await connect(api, f"/ws/match/{mid}", api.token("bob"))
    viewer, welcome = await connect(api, f"/ws/match/{mid}", api.token("viewer", Role.SPECTATOR))
    assert welcome["data"]["seq"] == 1

    async def ack(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
        await sock.send(frame)
        while (reply := await sock.recv())["type"] not in ("ack", "error"):
            pass
        assert reply["type"] == "ack", reply
        return reply

    assert (await ack(alice, {"type": "ready_up", "id": "r1"}))["id"] == "r1"
    assert (await ack(bob, {"type": "ready_up"}))["data"]["state"] == "ready"
    assert (await ack(alice, {"type": "start_match"}))["data"]["state"] == "live"
    assert (await ack(alice, {"type": "update_score", "data": {"scores": {"alice": 5}}}))["data"]["accepted"] is True
    reported = await ack(alice, {"type": "report_score", "data": {"scores": {"alice": 13, "bob": 7}}})
    assert reported["data"]["state"] == "pending_result"
    await bob.send({"type": "confirm_result"})
    events = [await viewer.recv() for _ in range(7)]
    assert [(e["seq"], e["type"]) for e in events] == [
        (2, "checkin_updated"), (3, "checkin_updated"), (4, "match_state_changed"), (5, "match_started"),
        (6, "score_updated"), (7, "match_state_changed"), (8, "match_completed")]
    assert events[4]["data"]["scores"] == {"alice": 5, "bob": 0}
    assert events[-1]["data"]["winner_id"] == "alice"


@pytest.mark.gen_test
async def test_commands_check_roles(api: Api) -> None:
    """A spectator cannot act; the reporting player cannot confirm their own result."""
    _, mid = await started_match(api)
    viewer, _ = await connect(api, f"/ws/match/{mid}", api.token("viewer", Role.SPECTATOR))
    error = await viewer.ask({"type": "update_score", "data": {"scores": {"alice": 1}}})
    assert error["code"] == "insufficient_permissions"
    alice, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    await alice.send({"type": "report_score", "data": {"scores": {"alice": 2, "bob": 0}}})
    while (await alice.recv())["type"] != "ack":
        pass
    error = await alice.ask({"type": "confirm_result"})
    assert error["code"] == "not_opponent"
    error = await alice.ask({"type": "start_match"})
    assert (error["code"], error["state"]) == ("invalid_state", "pending_result")


@pytest.mark.gen_test
async def test_events_reach_their_rooms_and_no_other(api: Api) -> None:
    """A match's events reach its room and its tournament's room (with the tournament's own
    seq), never another match's room."""
    tid, mid = await started_match(api)
    other = (await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["bob", "alice"]}, 201))["id"]
    watcher, _ = await connect(api, f"/ws/match/{mid}", api.organizer)
    bystander, _ = await connect(api, f"/ws/match/{other}", api.organizer)
    room, welcome = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    before = welcome["data"]["seq"]
    await api.ok("POST", f"/api/matches/{mid}/cancel")
    event = await watcher.recv()
    assert (event["type"], event["seq"], event["data"]["match"]["state"]) == ("match_state_changed", 2, "cancelled")
    in_tournament = await room.recv()
    assert (in_tournament["type"], in_tournament["seq"], in_tournament["match_seq"]) == ("match_state_changed", before + 1, 2)
    await bystander.quiet()
    await api.ok("POST", f"/api/matches/{other}/start")
    assert (await room.recv())["seq"] == before + 2


@pytest.mark.gen_test
async def test_a_burst_of_scores_is_coalesced_and_the_final_score_precedes_completion(api: Api) -> None:
    """Twenty quick updates become far fewer score events with the latest scores, and the
    last score is published before the completion that follows it."""
    _, mid = await started_match(api)
    viewer, _ = await connect(api, f"/ws/match/{mid}", api.organizer)
    alice, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    for goal in range(1, 21):
        await alice.send({"type": "update_score", "data": {"scores": {"alice": goal}}})
    acks = [await alice.recv() for _ in range(20)]
    assert all(a["type"] == "ack" for a in acks)
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 21, "bob": 3}})
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] != "match_completed":
        events.append(await viewer.recv())
    scores = [e for e in events if e["type"] == "score_updated"]
    assert 1 <= len(scores) < 20 and scores[-1]["data"]["scores"]["alice"] == 20
    assert [e["seq"] for e in events] == list(range(2, 2 + len(events)))


@pytest.mark.gen_test
async def test_two_matches_batch_independently(api: Api) -> None:
    """Scores for two matches in the same window give one event in each match's room."""
    tid, first = await started_match(api)
    second = (await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"]}, 201))["id"]
    await api.ok("POST", f"/api/matches/{second}/start")
    a, _ = await connect(api, f"/ws/match/{first}", api.organizer)
    b, _ = await connect(api, f"/ws/match/{second}", api.organizer)
    await asyncio.gather(api.post(f"/api/matches/{first}/score", {"scores": {"alice": 1}}),
                         api.post(f"/api/matches/{second}/score", {"scores": {"bob": 2}}))
    got_a, got_b = await a.recv(), await b.recv()
    assert (got_a["type"], got_a["data"]["match_id"], got_a["data"]["scores"]) == ("score_updated", first, {"alice": 1, "bob": 0})
    assert (got_b["data"]["match_id"], got_b["data"]["scores"]) == (second, {"alice": 0, "bob": 2})


@pytest.mark.gen_test
async def test_reconnect_with_since_replays_what_was_missed(api: Api) -> None:
    """Events missed while disconnected are replayed in order, then live ones follow, with no
    duplicate and no gap."""
    _, mid = await started_match(api)
    sock, welcome = await connect(api, f"/ws/match/{mid}", api.organizer)
    seq, epoch = welcome["data"]["seq"], welcome["data"]["epoch"]
    sock.close()
    for goal in (1, 2, 3):
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": goal}})
    again, welcome = await connect(api, f"/ws/match/{mid}?since={seq}&epoch={epoch}", api.organizer)
    assert welcome["data"]["recovered"] is True and welcome["data"]["seq"] == seq + 3
    replayed = [await again.recv() for _ in range(3)]
    assert [(e["seq"], e["data"]["scores"]["alice"]) for e in replayed] == [(seq + 1, 1), (seq + 2, 2), (seq + 3, 3)]
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 4}})
    assert (await again.recv())["seq"] == seq + 4
    await again.quiet()


@pytest.mark.gen_test
async def test_recovery_refused_gives_a_fresh_snapshot(api: Api) -> None:
    """A since ahead of the server or another epoch gets recovered false and no replay."""
    _, mid = await started_match(api)
    for query in ("?since=99", "?since=0&epoch=other"):
        sock, welcome = await connect(api, f"/ws/match/{mid}{query}", api.organizer)
        assert welcome["data"]["recovered"] is False and welcome["data"]["match"]["state"] == "live"
        await sock.quiet()
        sock.close()


@pytest.mark.gen_test
async def test_recovery_after_a_restart_reads_the_stored_log(api: Api, services: Services, serve_app: Any) -> None:
    """A fresh server over the same store (empty memory history) replays from the event log."""
    _, mid = await started_match(api)
    for goal in (1, 2):
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"bob": goal}})
    fresh = build_services(services.config, services.store)
    restarted = serve_app(fresh)
    sock, welcome = await connect(restarted, f"/ws/match/{mid}?since=1", restarted.organizer)
    assert welcome["data"]["recovered"] is True
    assert [(await sock.recv())["seq"] for _ in range(2)] == [2, 3]


@pytest.mark.gen_test
async def test_presence_counts_watchers(api: Api) -> None:
    """Joining watchers are announced in a throttled presence frame."""
    _, mid = await started_match(api)
    first, _ = await connect(api, f"/ws/match/{mid}", api.organizer)
    second, welcome = await connect(api, f"/ws/match/{mid}", api.token("viewer", Role.SPECTATOR))
    assert welcome["data"]["watchers"] == 2
    presence = await first.recv(skip=("ping",))
    assert presence == {"type": "presence", "data": {"room": f"match:{mid}", "watchers": 2, "participants": [],
                                                     "spectators": 2}}


@contextlib.asynccontextmanager
async def quick_heartbeats(services: Services, serve_app: Any) -> AsyncIterator[tuple[Services, Socket]]:
    """An app whose heartbeat runs every 0.2 s, and the organizer's socket on a match of it."""
    quick = build_services(dataclasses.replace(services.config, ping_interval_s=0.2), services.store)
    quick.heartbeat.start()
    api = serve_app(quick)
    try:
        _, match = await api.match_between("alice", "bob")
        sock, _ = await connect(api, f"/ws/match/{match['id']}", api.organizer)
        yield quick, sock
    finally:
        quick.heartbeat.stop()


@pytest.mark.gen_test(timeout=10)
async def test_silent_client_is_closed_for_heartbeat_timeout(services: Services, serve_app: Any) -> None:
    """With a 0.2 s interval, a client that never sends a frame gets pings, then close 4005."""
    async with quick_heartbeats(services, serve_app) as (quick, sock):
        ping = await sock.recv(skip=("presence",))
        assert ping["type"] == "ping" and isinstance(ping["timestamp"], int)
        assert (await sock.closed())[0] == 4005
        assert quick.heartbeat.timeouts == 1


@pytest.mark.gen_test(timeout=10)
async def test_a_client_answering_pings_stays_and_gets_no_protocol_pings(services: Services, serve_app: Any) -> None:
    """The heartbeat alone keeps sockets honest: a client that answers four pings (past the
    two-interval timeout) is still open, and the server sent it no ping control frame."""
    async with quick_heartbeats(services, serve_app) as (quick, sock):
        control_pings: list[bytes] = []
        sock.conn.on_ping = control_pings.append  # type: ignore[method-assign,assignment]
        for _ in range(4):
            ping = await sock.recv(skip=("presence",))
            assert ping["type"] == "ping"
            await sock.send({"type": "pong", "timestamp": ping["timestamp"]})
        await sock.quiet()
        assert control_pings == [] and quick.heartbeat.timeouts == 0



@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.gen_test
async def test_frames_go_out_without_nagle(direct: bool, services: Services, serve_app: Any) -> None:
    """Every room socket, on either write path, has TCP_NODELAY: no frame waits for the
    client's ACK of the one before."""
    api = serve_app(services, direct_writes=direct)
    _, mid = await started_match(api)
    await connect(api, f"/ws/match/{mid}", api.organizer)
    members = services.hub.room(f"match:{mid}").members
    streams = [m.conn.handler.ws_connection.stream for m in members]  # type: ignore[attr-defined]
    assert [s.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in streams] == [1]


@pytest.mark.gen_test
async def test_shutdown_flushes_scores_and_closes_with_1001(api: Api, services: Services) -> None:
    """Shutdown writes waiting scores, then closes every socket with 1001."""
    _, mid = await started_match(api)
    sock, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    await sock.send({"type": "update_score", "data": {"scores": {"alice": 9}}})
    assert (await sock.recv())["type"] == "ack"
    await shutdown(services)
    assert (await sock.recv())["data"]["scores"]["alice"] == 9
    assert (await sock.closed())[0] == 1001
    assert (await services.matches.get(mid)).scores["alice"] == 9


@pytest.mark.gen_test
async def test_frame_size_counts_bytes_not_characters(api: Api) -> None:
    """A frame of 6000 three-byte characters (18000 bytes) is over the 16 KiB limit."""
    _, mid = await started_match(api)
    sock, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    await sock.conn.write_message(json.dumps({"type": "ping", "timestamp": "€" * 6000}, ensure_ascii=False))
    assert (await sock.recv())["code"] == "payload_too_large"
    assert (await sock.closed())[0] == 4008


@pytest.mark.gen_test
async def test_tournament_socket_commands_stay_in_the_tournament(api: Api) -> None:
    """A command on a tournament socket may only name a match of that tournament."""
    tid, mid = await started_match(api)
    other_tid, other = await api.match_between("carol", "dave")
    sock, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    error = await sock.ask({"type": "start_match", "data": {"match_id": other["id"]}})
    assert error["code"] == "not_found"
    assert (await api.ok("GET", f"/api/matches/{other['id']}"))["state"] == "scheduled"
    ack = await sock.ask({"type": "update_score", "data": {"match_id": mid, "scores": {"bob": 1}}})
    assert ack["type"] == "ack"


@pytest.mark.gen_test
async def test_a_spectator_token_is_never_a_participant(api: Api) -> None:
    """is_participant needs a player token, not just a matching subject."""
    _, mid = await started_match(api)
    sock, welcome = await connect(api, f"/ws/match/{mid}", api.token("alice", Role.SPECTATOR))
    assert welcome["data"]["is_participant"] is False


@pytest.mark.gen_test
async def test_raise_dispute_by_socket(api: Api) -> None:
    """The opponent raises a dispute over the socket; the reporter may not."""
    _, mid = await started_match(api)
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 1}}, as_=api.token("alice"))
    alice, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    bob, _ = await connect(api, f"/ws/match/{mid}", api.token("bob"))
    assert (await alice.ask({"type": "raise_dispute", "data": {"reason": "x"}}))["code"] == "not_opponent"
    await bob.send({"type": "raise_dispute", "data": {"reason": "wrong map"}, "id": 7})
    frames = [await bob.recv(), await bob.recv()]
    ack = next(f for f in frames if f["type"] == "ack")
    event = next(f for f in frames if f["type"] == "dispute_created")
    assert (ack["id"], ack["data"]["state"]) == (7, "disputed")
    assert event["data"]["dispute"]["reason"] == "wrong map"


@pytest.mark.gen_test
async def test_registrations_reach_the_tournament_room(api: Api) -> None:
    """Each participant added is announced to the tournament's sockets."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201))["id"]
    sock, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Zed", "id": "zed"}, 201)
    frame = await sock.recv()
    assert (frame["type"], frame["seq"], frame["data"]["participant"]["name"]) == ("participant_added", 2, "Zed")


@pytest.mark.gen_test
async def test_an_idle_socket_keeps_small_objects_and_no_token(api: Api) -> None:
    """What each open socket keeps (docs/performance.md, memory per idle socket): the handler
    and Tornado's protocol object share their attribute names with every other socket's (a
    dict of their own is 1.3 KB more each), and the upgrade request's headers and query, the
    token among them, are gone once the socket is admitted."""
    _, mid = await started_match(api)
    token = api.token("viewer", Role.SPECTATOR)
    sockets = [(await connect(api, f"/ws/match/{mid}", token))[0] for _ in range(3)]
    await sockets[0].send({"type": "ping", "id": "p1"})  # a client frame read: the protocol's per-frame state set
    await sockets[0].recv()
    handlers = [session._transport.handler for session in api.services.sockets.open_sessions]  # type: ignore[attr-defined]
    assert len(handlers) == 3
    for handler in handlers:
        assert sys.getsizeof(vars(handler)) < 600 and sys.getsizeof(vars(handler.ws_connection)) < 600
        assert token not in handler.request.uri and not handler.request.query_arguments
        assert not list(handler.request.headers.get_all())
    for sock in sockets:
        sock.close()
