"""Hostile input over real HTTP and sockets: nothing half-written, nobody locked out, a clear
400/422 for every bad value (issue 11: texts, numbers of any length, keys and counts)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from handlers.services import Services
from server import build_services
from tests.conftest import Api
from tests.wsclient import connect, refused
from tournament.roles import Role

SURROGATE = "bad \ud800 text"  # valid JSON ("\ud800"), not Unicode text: no database stores it


async def reported(api: Api) -> tuple[str, str, str]:
    """A match in pending_result (alice reported): its id and the two players' tokens."""
    _, match = await api.match_between("alice", "bob")
    mid, alice, bob = match["id"], api.token("alice"), api.token("bob")
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 1}}, as_=alice)
    return mid, alice, bob


async def unchanged(api: Api, mid: str, before: dict[str, Any]) -> None:
    """The match, its event log and its disputes are exactly as they were."""
    assert await api.ok("GET", f"/api/matches/{mid}") == before
    log = await api.ok("GET", f"/api/matches/{mid}/events")
    assert [e["seq"] for e in log["events"]] == list(range(1, before["seq"] + 1))
    assert (await api.ok("GET", f"/api/matches/{mid}/disputes"))["disputes"] == (
        [before["dispute"]] if before["dispute"] else [])


@pytest.mark.gen_test
async def test_a_lone_surrogate_in_a_dispute_is_refused_and_writes_nothing(api: Api) -> None:
    """REST and socket disputes with a lone surrogate are 422 invalid_value; the match, its
    log and its disputes stay as they were, and the dispute can then be raised properly."""
    mid, _, bob = await reported(api)
    before = await api.ok("GET", f"/api/matches/{mid}")
    status, body = await api.post(f"/api/matches/{mid}/disputes", {"reason": SURROGATE}, as_=bob)
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_value", "reason")
    sock, _ = await connect(api, f"/ws/match/{mid}", bob)
    error = await sock.ask({"type": "raise_dispute", "id": 1, "data": {"reason": SURROGATE}})
    assert (error["type"], error["code"], error["id"]) == ("error", "invalid_value", 1)
    await unchanged(api, mid, before)
    opened = await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "lag\nin round 2"}, 201, as_=bob)
    assert opened["match"]["state"] == "disputed" and opened["match"]["dispute"] == opened["dispute"]


@pytest.mark.gen_test
async def test_resolve_and_cancel_refuse_bad_text_before_writing(api: Api) -> None:
    """A resolution or a cancel reason that is not text is a 422 and the dispute stays open."""
    mid, _, bob = await reported(api)
    dispute = (await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "lag"}, 201, as_=bob))["dispute"]
    before = await api.ok("GET", f"/api/matches/{mid}")
    for path, body in [(f"/api/disputes/{dispute['id']}/resolve",
                        {"scores": {"alice": 2, "bob": 1}, "resolution": SURROGATE}),
                       (f"/api/disputes/{dispute['id']}/resolve",
                        {"scores": {"alice": 2, "bob": 1}, "resolution": "ok\x00"}),
                       (f"/api/matches/{mid}/cancel", {"reason": SURROGATE})]:
        status, answer = await api.post(path, body)
        assert (status, answer["error"]["code"]) == (422, "invalid_value"), path
    await unchanged(api, mid, before)
    assert (await api.ok("GET", f"/api/disputes/{dispute['id']}"))["status"] == "open"


@pytest.mark.gen_test
async def test_names_must_be_one_line_of_text(api: Api) -> None:
    """Tournament, participant and label texts with a lone surrogate or a control character
    (a line break included) are 422 and create nothing."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201))["id"]
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Alice", "id": "alice"}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Bob", "id": "bob"}, 201)
    cases = [("/api/tournaments", {"name": SURROGATE}, "name"),
             ("/api/tournaments", {"name": "Cup", "game": "Q3\x1b[31m"}, "game"),
             (f"/api/tournaments/{tid}/participants", {"name": "Eve\nAdmin"}, "name"),
             (f"/api/tournaments/{tid}/participants", {"name": SURROGATE}, "name"),
             (f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"], "label": SURROGATE}, "label")]
    for path, body, field in cases:
        status, answer = await api.post(path, body)
        assert (status, answer["error"]["code"], answer["error"]["field"]) == (422, "invalid_value", field), body
    assert len((await api.ok("GET", "/api/tournaments"))["tournaments"]) == 1
    assert len((await api.ok("GET", f"/api/tournaments/{tid}"))["participants"]) == 2
    assert (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"] == []


@pytest.mark.gen_test
async def test_numbers_of_any_length_are_400_or_422_never_500(api: Api) -> None:
    """Digits past Python's int-parsing limit in If-Match, since and limit are 422; a space
    in since is a 400 (only digits are a whole number)."""
    mid, _, _ = await reported(api)
    huge = "9" * 5000
    status, body = await api.post(f"/api/matches/{mid}/confirm", headers={"If-Match": huge})
    assert (status, body["error"]["code"]) == (422, "invalid_value")
    for query, expected in [(f"since={huge}", (422, "invalid_value")), (f"limit={huge}", (422, "invalid_value")),
                            ("since=1%20", (400, "invalid_schema")), ("since=%EF%BC%91", (400, "invalid_schema"))]:
        status, body = await api.get(f"/api/matches/{mid}/events?{query}")
        assert (status, body["error"]["code"]) == expected, query
    status, body = await api.get(f"/api/tournaments?limit={huge}")
    assert (status, body["error"]["code"]) == (422, "invalid_value")


@pytest.mark.gen_test
async def test_a_since_of_any_length_on_a_socket_refuses_and_locks_nobody_out(services: Services,
                                                                               serve_app: Any) -> None:
    """A since of 5000 digits is refused with 4500 and takes no place in the counts: more such
    connects than the per-user limit leave the user free to connect."""
    app = serve_app(build_services(dataclasses.replace(services.config, sockets_per_user=2), services.store))
    _, match = await app.match_between("alice", "bob")
    token = app.token("alice")
    for _ in range(5):
        _, code, close, *_ = await refused(app, f"/ws/match/{match['id']}?since={'9' * 5000}", token)
        assert (code, close) == ("invalid_value", 4500)
    assert app.services.limits.sockets.open == 0
    _, welcome = await connect(app, f"/ws/match/{match['id']}", token)
    assert welcome["type"] == "connection_established"


@pytest.mark.gen_test
async def test_a_token_for_another_role_shares_no_key_with_the_organizer(api: Api) -> None:
    """A player token minted with sub "organizer" neither replays the organizer's
    Idempotency-Key answers nor shares its write rate."""
    headers = {"Idempotency-Key": "same-key"}
    mine = await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201, headers=headers)
    impostor = api.token("organizer", Role.PLAYER)
    status, body = await api.post("/api/tournaments", {"name": "Cup"}, as_=impostor, headers=headers)
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")
    assert api.last_headers.get("Idempotent-Replayed") is None and body != mine
    assert api.services.limits.writes_by_user.refused == 0
    assert len(api.services.limits.writes_by_user) == 2  # organizer:organizer and player:organizer


@pytest.mark.gen_test
async def test_a_key_left_by_a_cut_off_request_runs_once_after_its_claim_lapses(api: Api) -> None:
    """A claim left pending (the server died mid-request) answers 409 request_in_progress
    with retry_after_ms, and is taken over once idempotency_claim_s has passed: the retry
    then runs, once."""
    store, config = api.services.store, api.services.config
    headers = {"Idempotency-Key": "cut-off"}
    scope = "organizer:organizer|cut-off"
    now = api.services.clock()
    body = b'{"name": "Cup"}'
    import hashlib
    fingerprint = hashlib.sha256(b"\n".join([b"POST", b"/api/tournaments", body])).hexdigest()
    await store.claim_idempotency_key(scope, fingerprint, now - 1, 0.0)
    status, answer = await api.request("POST", "/api/tournaments", raw=body, headers=headers)
    assert (status, answer["error"]["code"]) == (409, "request_in_progress")
    assert 0 < answer["error"]["retry_after_ms"] <= config.idempotency_claim_s * 1000
    await store.release_idempotency_key(scope)
    await store.claim_idempotency_key(scope, fingerprint, now - config.idempotency_claim_s - 1, 0.0)
    created = await api.ok("POST", "/api/tournaments", raw=body, headers=headers, expect=201)
    again = await api.ok("POST", "/api/tournaments", raw=body, headers=headers, expect=201)
    assert again == created and api.last_headers["Idempotent-Replayed"] == "true"
    assert len((await api.ok("GET", "/api/tournaments"))["tournaments"]) == 1


@pytest.mark.gen_test
async def test_a_content_length_of_any_length_is_413(api: Api) -> None:
    """A Content-Length of 5000 digits is a body over the limit: 413, not a 500."""
    import asyncio

    host, port = api.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"POST /api/tournaments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api.organizer}\r\n"
                 f"Content-Length: {'9' * 5000}\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"413"
