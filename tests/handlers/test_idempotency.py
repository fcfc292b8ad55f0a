"""Idempotency-Key: a retried or double-clicked write applies once."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Api


@pytest.mark.gen_test
async def test_retry_with_the_same_key_replays_the_first_answer(api: Api) -> None:
    """The second request with the same key gets the same 201 body and creates nothing new."""
    headers = {"Idempotency-Key": "create-cup-1"}
    first = await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201, headers=headers)
    again = await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201, headers=headers)
    assert again == first and api.last_headers["Idempotent-Replayed"] == "true"
    assert len((await api.ok("GET", "/api/tournaments"))["tournaments"]) == 1


@pytest.mark.gen_test
async def test_double_click_on_a_score_applies_once(api: Api) -> None:
    """Two simultaneous identical writes with one key: one applies, the other waits its turn
    or replays; the match log shows a single score event."""
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    headers = {"Idempotency-Key": "goal-7"}
    results = await asyncio.gather(*[
        api.post(f"/api/matches/{mid}/score", {"scores": {"alice": 7}}, headers=headers) for _ in range(5)])
    assert {status for status, _ in results} <= {200, 409}
    assert any(status == 200 for status, _ in results)
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "request_in_progress"
    log = await api.ok("GET", f"/api/matches/{mid}/events")
    assert [e["type"] for e in log["events"]] == ["match_started", "score_updated"]


@pytest.mark.gen_test
async def test_same_key_for_another_request_is_422(api: Api) -> None:
    """Reusing a key with a different body is refused and applies nothing."""
    headers = {"Idempotency-Key": "k"}
    await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201, headers=headers)
    status, body = await api.post("/api/tournaments", {"name": "Other"}, headers=headers)
    assert (status, body["error"]["code"]) == (422, "idempotency_key_reused")
    assert [t["name"] for t in (await api.ok("GET", "/api/tournaments"))["tournaments"]] == ["Cup"]


@pytest.mark.gen_test
async def test_keys_are_per_user(api: Api) -> None:
    """The same key from two users is two requests."""
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    headers = {"Idempotency-Key": "same"}
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1}}, headers=headers, as_=api.token("alice"))
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1}}, headers=headers, as_=api.token("bob"))
    log = await api.ok("GET", f"/api/matches/{mid}/events")
    assert len(log["events"]) == 3


@pytest.mark.gen_test
async def test_a_failed_write_keeps_no_key(api: Api) -> None:
    """A refused write with a key can be retried once the state allows it."""
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    headers = {"Idempotency-Key": "score-1"}
    status, _ = await api.post(f"/api/matches/{mid}/score", {"scores": {"alice": 1}}, headers=headers)
    assert status == 409
    await api.ok("POST", f"/api/matches/{mid}/start")
    assert (await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1}}, headers=headers))["scores"]["alice"] == 1


@pytest.mark.gen_test
async def test_malformed_key_is_400(api: Api) -> None:
    """A key with spaces or over 128 characters is refused."""
    for key in ["has space", "x" * 129]:
        status, body = await api.post("/api/tournaments", {"name": "Cup"}, headers={"Idempotency-Key": key})
        assert (status, body["error"]["code"]) == (400, "invalid_schema")


@pytest.mark.gen_test
async def test_replay_keeps_the_location_header(api: Api) -> None:
    """A replayed 201 carries the same Location as the first answer."""
    headers = {"Idempotency-Key": "loc"}
    created = await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201, headers=headers)
    await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201, headers=headers)
    assert api.last_headers["Location"] == f"/api/tournaments/{created['id']}"


@pytest.mark.gen_test
async def test_expired_keys_are_claimed_afresh(api: Api) -> None:
    """A key older than a day is forgotten: the same key then runs a new request."""
    store, now = api.services.store, api.services.clock()
    await store.claim_idempotency_key("organizer:organizer|old", "another request",
                                      now - api.services.config.idempotency_ttl_s - 1, 0.0)
    await store.complete_idempotency_key("organizer:organizer|old", 200, {"payload": {}, "location": None})
    await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201, headers={"Idempotency-Key": "old"})
    assert api.last_headers.get("Idempotent-Replayed") is None
