"""Every error status over real HTTP: one JSON shape, the right code, nothing changed."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest

from config import Config
from server import build_services
from storage.embedded import free_port
from storage.mongo import MongoStore
from tests.conftest import Api, SECRET
from tournament.roles import Role


@pytest.mark.gen_test
async def test_malformed_json_is_400(api: Api) -> None:
    """Bodies that are not JSON, or not an object, are 400 and create nothing."""
    for raw, code in [(b"{bad", "invalid_json"), (b"[1, 2]", "invalid_schema"), (b"\xff\xfe", "invalid_json")]:
        status, body = await api.request("POST", "/api/tournaments", raw=raw)
        assert (status, body["error"]["code"]) == (400, code)
    assert (await api.ok("GET", "/api/tournaments"))["tournaments"] == []


@pytest.mark.gen_test
async def test_wrong_types_are_400_and_bad_values_422(api: Api) -> None:
    """A field of the wrong type is 400; a well-typed value the rules refuse is 422."""
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({}, 400, "invalid_schema"),
        ({"name": 5}, 400, "invalid_schema"),
        ({"name": "   "}, 422, "invalid_value"),
        ({"name": "x" * 201}, 422, "invalid_value"),
        ({"name": "Cup", "format": "ladder"}, 422, "invalid_value"),
    ]
    for body, status, code in cases:
        got, data = await api.post("/api/tournaments", body)
        assert (got, data["error"]["code"]) == (status, code), body
    mid = (await api.match_between("alice", "bob"))[1]["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    for payload, status in [({"scores": [1, 2]}, 400), ({"scores": {"alice": "3"}}, 400),
                         ({"scores": {"alice": True}}, 400), ({"scores": {"alice": -1}}, 422),
                         ({"scores": {"carol": 1}}, 422), ({"scores": {"alice": 10**7}}, 422)]:
        got, data = await api.post(f"/api/matches/{mid}/score", payload)
        assert got == status, (payload, data)
    for payload in [{"scores": {"alice": 2, "bob": 2}}, {"scores": {"alice": 2}}]:
        got, data = await api.post(f"/api/matches/{mid}/result", payload)
        assert (got, data["error"]["field"]) == (422, "scores")
    assert (await api.ok("GET", f"/api/matches/{mid}"))["scores"] == {"alice": 0, "bob": 0}


@pytest.mark.gen_test
async def test_missing_and_bad_tokens_are_401(api: Api) -> None:
    """No token, a wrong scheme and each unusable token get 401 with their own code."""
    expired, _ = api.services.tokens.issue("u", "U", Role.ORGANIZER, -100)
    forged = jwt.encode({"sub": "u", "role": "admin", "exp": 2**40}, "another-secret-of-enough-length-xx",
                        algorithm="HS256")
    cases = [({}, "authentication_required"), ({"Authorization": "Basic dTpw"}, "authentication_required"),
             ({"Authorization": f"Bearer {expired}"}, "token_expired"),
             ({"Authorization": f"Bearer {forged}"}, "token_signature_invalid"),
             ({"Authorization": "Bearer not.a.jwt"}, "token_malformed")]
    for headers, code in cases:
        status, body = await api.request("GET", "/api/tournaments", as_=None, headers=headers)
        assert (status, body["error"]["code"]) == (401, code)
        assert api.last_headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.gen_test
async def test_unknown_records_and_routes_are_404(api: Api) -> None:
    """Unknown ids and paths are JSON 404s."""
    for path in ["/api/tournaments/t_nope", "/api/matches/m_nope", "/api/disputes/d_nope",
                 "/api/matches/m_nope/events", "/api/nothing", "/api/matches/bad%20id"]:
        status, body = await api.get(path)
        assert (status, body["error"]["code"]) == (404, "not_found"), path
    status, body = await api.post("/api/matches/m_nope/start")
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.gen_test
async def test_wrong_method_is_405(api: Api) -> None:
    """A route called with a method it lacks is a JSON 405."""
    status, body = await api.request("DELETE", "/api/tournaments")
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")


@pytest.mark.gen_test
async def test_duplicates_are_409(api: Api) -> None:
    """A participant id, name or seed already taken in the tournament is a 409."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201))["id"]
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Alice", "id": "alice", "seed": 1}, 201)
    for body in [{"name": "Other", "id": "alice"}, {"name": "ALICE"}, {"name": "Bob", "seed": 1}]:
        status, data = await api.post(f"/api/tournaments/{tid}/participants", body)
        assert (status, data["error"]["code"]) == (409, "already_exists"), body
    assert len((await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]) == 1


@pytest.mark.gen_test
async def test_match_needs_two_registered_participants(api: Api) -> None:
    """Matches between unknown or identical participants are 422."""
    tid, _ = await api.match_between("alice", "bob")
    for ids in [["alice"], ["alice", "alice"], ["alice", "zed"]]:
        status, body = await api.post(f"/api/tournaments/{tid}/matches", {"participant_ids": ids})
        assert (status, body["error"]["field"]) == (422, "participant_ids")


@pytest.mark.gen_test
async def test_bodies_over_64_kib_are_413(api: Api) -> None:
    """A body over the limit is refused with 413 before it is read; one at the limit is parsed."""
    status, body = await api.request("POST", "/api/tournaments", raw=b"x" * (64 * 1024 + 1))
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    padded = b'{"name": "Cup", "game": "' + b" " * (64 * 1024 - 27) + b'"}'
    assert len(padded) == 64 * 1024
    assert (await api.request("POST", "/api/tournaments", raw=padded))[0] == 201


@pytest.mark.gen_test
async def test_chunked_body_over_the_limit_is_413(api: Api) -> None:
    """A chunked body (no Content-Length) that grows past the limit is refused too."""
    from tornado.httpclient import HTTPRequest

    async def producer(write: Any) -> None:
        for _ in range(80):
            await write(b"x" * 1024)

    request = HTTPRequest(api.base_url + "/api/tournaments", method="POST", body_producer=producer,  # type: ignore[arg-type]
                          headers={"Authorization": f"Bearer {api.organizer}"})
    response = await api.client.fetch(request, raise_error=False)
    assert response.code == 413


@pytest.mark.gen_test
async def test_health_ok(api: Api) -> None:
    """/healthz answers 200 without a token when the store answers."""
    assert await api.ok("GET", "/healthz", as_=None) == {"status": "ok", "store": "ok", "store_kind": "memory"}


@pytest.mark.gen_test(timeout=30)
async def test_store_down_is_503_and_the_server_keeps_running(http_client: Any, serve_app: Any) -> None:
    """With the database unreachable, reads and writes answer 503 store_unavailable and
    /healthz says degraded; the process keeps serving."""

    store = MongoStore(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", "x", timeout_s=0.2)
    services = build_services(Config(store="mongo", jwt_secret=SECRET), store)
    api = serve_app(services)
    try:
        for method, path in [("GET", "/api/tournaments"), ("POST", "/api/tournaments"),
                             ("GET", "/api/matches/m1")]:
            status, body = await api.request(method, path, {"name": "Cup"} if method == "POST" else None)
            assert (status, body["error"]["code"]) == (503, "store_unavailable"), path
        status, body = await api.get("/healthz", as_=None)
        assert (status, body["status"]) == (503, "degraded")
    finally:
        await store.close()
        await asyncio.sleep(0)


@pytest.mark.gen_test
async def test_authentication_comes_before_body_checks(api: Api) -> None:
    """Without a token, even a malformed body is answered 401."""
    status, body = await api.request("POST", "/api/tournaments", raw=b"{bad", as_=None)
    assert (status, body["error"]["code"]) == (401, "authentication_required")


@pytest.mark.gen_test
async def test_non_ascii_digits_are_400(api: Api) -> None:
    """Unicode digits in since or If-Match are refused, never a 500."""
    _, match = await api.match_between("alice", "bob")
    status, body = await api.get(f"/api/matches/{match['id']}/events?since=%C2%B2")
    assert (status, body["error"]["code"]) == (400, "invalid_schema")
    status, body = await api.get(f"/api/matches/{match['id']}/events?since=%D9%A3")
    assert status == 400
    status, body = await api.post(f"/api/matches/{match['id']}/start", headers={"If-Match": "\xb2"})
    assert status == 400


@pytest.mark.gen_test
async def test_spectator_token_never_acts_as_a_player(api: Api) -> None:
    """A spectator token whose subject is a participant id is still only a spectator."""
    _, match = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    status, body = await api.post(f"/api/matches/{match['id']}/score", {"scores": {"alice": 1}},
                                  as_=api.token("alice", Role.SPECTATOR))
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")


@pytest.mark.gen_test
async def test_resolve_checks_the_role_before_the_dispute(api: Api) -> None:
    """A player resolving a closed dispute is told 403, not the dispute's state."""
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 1, "bob": 0}}, as_=api.token("alice"))
    raised = await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "x"}, 201, as_=api.token("bob"))
    await api.ok("POST", f"/api/matches/{mid}/cancel")
    listed = await api.ok("GET", f"/api/matches/{mid}/disputes")
    assert [d["id"] for d in listed["disputes"]] == [raised["dispute"]["id"]]
    assert listed["disputes"][0]["status"] == "rejected" and listed["disputes"][0]["version"] == 2
    status, body = await api.post(f"/api/disputes/{raised['dispute']['id']}/resolve",
                                  {"scores": {"alice": 1, "bob": 0}, "resolution": "x"}, as_=api.token("bob"))
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")


@pytest.mark.gen_test
async def test_metrics_in_prometheus_text(api: Api) -> None:
    """/metrics reports connections, frames, batches, refusals and store latency."""
    tid, match = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    await api.ok("POST", f"/api/matches/{match['id']}/score", {"scores": {"alice": 1}})
    response = await api.client.fetch(api.base_url + "/metrics")
    text = response.body.decode()
    assert response.headers["Content-Type"].startswith("text/plain")
    for line in ['livebracket_connections{room="match"} 0.0', "livebracket_batch_flushes_total 1.0",
                 "livebracket_score_updates_total 1.0", 'livebracket_store_seconds_count{operation="save_match"} 2.0',
                 'livebracket_rate_limit_refusals_total{limit="writes_by_user"} 0.0',
                 "livebracket_store_available 1.0"]:
        assert line in text, line
