"""Match chat over real sockets: who writes, refusals with their codes, order and recovery,
moderation, typing (issue 19, part 2)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.wsclient import Socket, connect
from tournament.roles import Role


async def chatting(api: Api) -> tuple[str, str, Socket, Socket, dict[str, Any]]:
    """A live match of alice and bob, each on a socket: (tournament id, match id, alice, bob, bob's welcome)."""
    tid, match = await api.match_between("alice", "bob")
    mid = match["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    alice, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))
    bob, welcome = await connect(api, f"/ws/match/{mid}", api.token("bob"))
    return tid, mid, alice, bob, welcome


CHAT_EVENTS = ("presence", "ping", "chat_message", "chat_message_deleted", "chat_user_muted")


async def answer(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a frame; the ack or error that answers it (chat events, the sender's own ones
    first, are passed over)."""
    await sock.send(frame)
    return await sock.recv(skip=CHAT_EVENTS)


async def said(sock: Socket, text: str, ref: Any = "c") -> dict[str, Any]:
    """Send a chat message; the ack or error that answers it."""
    return await answer(sock, {"type": "chat_send", "id": ref, "data": {"text": text}})


@pytest.mark.gen_test(timeout=30)
async def test_the_two_sides_chat_in_order_and_the_match_keeps_its_version(api: Api) -> None:
    """Messages of both players reach the room as numbered events, in order; the match's
    version does not move, so an If-Match taken before still works."""
    _, mid, alice, bob, welcome = await chatting(api)
    assert welcome["data"]["chat"] == {"messages": [], "muted": []}
    version = (await api.ok("GET", f"/api/matches/{mid}"))["version"]
    ack = await said(alice, "glhf")
    assert (ack["type"], ack["data"]["command"]) == ("ack", "chat_send") and ack["data"]["message_id"]
    heard = await bob.recv()
    assert (heard["type"], heard["data"]["message"]["text"], heard["data"]["message"]["user_id"]) == (
        "chat_message", "glhf", "alice")
    assert "match" not in heard["data"]
    await said(bob, "you too\nsee you in round 2")
    assert (await alice.recv())["data"]["message"]["text"] == "you too\nsee you in round 2"
    match = await api.ok("GET", f"/api/matches/{mid}")
    assert match["version"] == version and match["seq"] == heard["seq"] + 1
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1}}, headers={"If-Match": str(version)})


@pytest.mark.gen_test(timeout=30)
async def test_refusals_have_their_own_codes(api: Api) -> None:
    """Empty and too-long messages, spectators, outsiders and a chat flood are refused, each
    with its code, and nothing is written."""
    _, mid, alice, _, _ = await chatting(api)
    seq = (await api.ok("GET", f"/api/matches/{mid}"))["seq"]
    for text, code in [("   ", "chat_empty"), ("x" * 401, "chat_too_long"), ("bad \ud800", "invalid_value")]:
        error = await said(alice, text)
        assert (error["type"], error["code"]) == ("error", code), text
    spectator, _ = await connect(api, f"/ws/match/{mid}", api.token("sam", Role.SPECTATOR))
    assert (await said(spectator, "hi"))["code"] == "chat_forbidden"
    outsider, _ = await connect(api, f"/ws/match/{mid}", api.token("carol"))
    assert (await said(outsider, "hi"))["code"] == "chat_forbidden"
    assert (await api.ok("GET", f"/api/matches/{mid}"))["seq"] == seq
    sock, _ = await connect(api, f"/ws/match/{mid}", api.token("alice"))  # a socket of its own: a full bucket
    answers = [await said(sock, f"spam {i}", i) for i in range(6)]
    assert [a["type"] for a in answers[:5]] == ["ack"] * 5
    assert (answers[5]["code"], answers[5]["retry_after_ms"] > 0) == ("chat_rate_limited", True)


@pytest.mark.gen_test(timeout=30)
async def test_moderation_and_recovery(api: Api) -> None:
    """An organizer deletes a message and mutes a player (both events); the muted player is
    refused; a socket that reconnects with since gets the messages and moderation in order."""
    tid, mid, alice, bob, welcome = await chatting(api)
    since, epoch = welcome["data"]["seq"], welcome["data"]["epoch"]
    bob.close()
    await bob.closed()
    organizer, _ = await connect(api, f"/ws/match/{mid}", api.organizer)
    first = (await said(alice, "one"))["data"]["message_id"]
    await said(alice, "two")
    assert (await answer(organizer, {"type": "chat_delete", "id": "d", "data": {"message_id": first}}))["type"] == "ack"
    assert (await answer(organizer, {"type": "chat_mute", "id": "m", "data": {"user_id": "alice"}}))["type"] == "ack"
    assert (await said(alice, "three"))["code"] == "chat_muted"
    again, resumed = await connect(api, f"/ws/match/{mid}?since={since}&epoch={epoch}", api.token("bob"))
    assert resumed["data"]["recovered"] is True
    assert resumed["data"]["chat"] == {"messages": [resumed["data"]["chat"]["messages"][0]], "muted": ["player:alice"]}
    assert resumed["data"]["chat"]["messages"][0]["text"] == "two"
    replayed = [await again.recv() for _ in range(4)]
    assert [f["type"] for f in replayed] == ["chat_message", "chat_message", "chat_message_deleted", "chat_user_muted"]
    assert [f["seq"] for f in replayed] == list(range(since + 1, since + 5))
    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    await said(organizer, "organizers still talk")
    await watcher.quiet()  # chats stay in their match room


@pytest.mark.gen_test(timeout=30)
async def test_typing_shows_for_players_only(api: Api) -> None:
    """A player's typing indicator reaches the room unnumbered; a spectator's is refused."""
    _, mid, alice, bob, _ = await chatting(api)
    await alice.send({"type": "chat_typing"})
    typing = await bob.recv()
    assert (typing["type"], typing["data"]["user_id"], "seq" in typing) == ("chat_typing", "alice", False)
    spectator, _ = await connect(api, f"/ws/match/{mid}", api.token("sam", Role.SPECTATOR))
    error = await spectator.ask({"type": "chat_typing", "id": 1})
    assert (error["type"], error["code"]) == ("error", "chat_forbidden")


@pytest.mark.gen_test(timeout=30)
async def test_a_tournament_may_let_spectators_write(api: Api) -> None:
    """With spectator_chat, a spectator's message is taken like a player's."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Open", "spectator_chat": True}, 201))["id"]
    for name in ("alice", "bob"):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name.title(), "id": name}, 201)
    match = await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"]}, 201)
    spectator, _ = await connect(api, f"/ws/match/{match['id']}", api.token("sam", Role.SPECTATOR))
    assert (await said(spectator, "go alice!"))["type"] == "ack"
