"""A match's whole life over real HTTP: check-in to completion, disputes, forfeits and cancels."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tournament.events import RecordingPublisher
from tournament.roles import Role


async def live_match(api: Api) -> tuple[str, str, str]:
    """A started match between alice and bob; returns its id and the two players' tokens."""
    _, match = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    return match["id"], api.token("alice"), api.token("bob")


def event_types(log: dict[str, Any]) -> list[str]:
    return [e["type"] for e in log["events"]]


@pytest.mark.gen_test
async def test_whole_match_from_check_in_to_completion(api: Api, publisher: RecordingPublisher) -> None:
    """Check-in, start, live scores, a report and its confirmation complete the match, with
    every step in the event log in sequence and published in the same order."""
    tid, match = await api.match_between("alice", "bob")
    mid, alice, bob = match["id"], api.token("alice"), api.token("bob")
    assert (await api.ok("POST", f"/api/matches/{mid}/open-check-in"))["state"] == "check_in"
    assert (await api.ok("POST", f"/api/matches/{mid}/check-in", as_=alice))["state"] == "check_in"
    ready = await api.ok("POST", f"/api/matches/{mid}/check-in", as_=bob)
    assert ready["state"] == "ready" and ready["checked_in"] == ["alice", "bob"]
    assert (await api.ok("POST", f"/api/matches/{mid}/start", as_=bob))["state"] == "live"
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1}}, as_=alice)
    scored = await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"bob": 2}})
    assert scored["scores"] == {"alice": 1, "bob": 2}
    pending = await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 13, "bob": 9}}, as_=alice)
    assert pending["state"] == "pending_result"
    done = await api.ok("POST", f"/api/matches/{mid}/confirm", as_=bob)
    assert done["state"] == "completed" and done["winner_id"] == "alice"
    assert done["result"] == {"scores": {"alice": 13, "bob": 9}, "winner_id": "alice"}

    log = await api.ok("GET", f"/api/matches/{mid}/events")
    assert event_types(log) == ["match_state_changed", "checkin_updated", "checkin_updated",
                                "match_state_changed", "match_started", "score_updated",
                                "score_updated", "match_state_changed", "match_completed"]
    assert [e["seq"] for e in log["events"]] == list(range(1, 10))
    assert log["events"][-1]["data"]["match"]["state"] == "completed"
    published = [(e.seq, e.type) for e in publisher.events if e.stream == f"match:{mid}"]
    assert published == [(e["seq"], e["type"]) for e in log["events"]]
    later = await api.ok("GET", f"/api/matches/{mid}/events?since=7")
    assert [e["seq"] for e in later["events"]] == [8, 9]
    listed = await api.ok("GET", f"/api/tournaments/{tid}/matches")
    assert [m["state"] for m in listed["matches"]] == ["completed"]


@pytest.mark.gen_test
async def test_same_result_from_both_players_completes_at_once(api: Api) -> None:
    """When the opponent reports the same scores, the match completes without a confirm."""
    mid, alice, bob = await live_match(api)
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 0}}, as_=alice)
    done = await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 0}}, as_=bob)
    assert done["state"] == "completed" and done["winner_id"] == "alice"


@pytest.mark.gen_test
async def test_conflicting_reports_open_a_dispute_an_organizer_resolves(api: Api) -> None:
    """Different reports open a dispute by themselves; resolving it completes the match."""
    mid, alice, bob = await live_match(api)
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 1}}, as_=alice)
    disputed = await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 1, "bob": 2}}, as_=bob)
    assert disputed["state"] == "disputed"
    log = await api.ok("GET", f"/api/matches/{mid}/events")
    dispute = log["events"][-1]["data"]["dispute"]
    assert log["events"][-1]["type"] == "dispute_created" and dispute["status"] == "open"
    status, body = await api.post(f"/api/disputes/{dispute['id']}/resolve",
                                  {"status": "rejected", "resolution": "no single report"})
    assert status == 422 and body["error"]["field"] == "status"
    resolved = await api.ok("POST", f"/api/disputes/{dispute['id']}/resolve",
                            {"scores": {"alice": 1, "bob": 2}, "resolution": "replay checked"})
    assert resolved["dispute"]["status"] == "resolved"
    assert resolved["match"]["state"] == "completed" and resolved["match"]["winner_id"] == "bob"
    assert (await api.ok("GET", f"/api/disputes/{dispute['id']}"))["resolution"] == "replay checked"
    status, body = await api.post(f"/api/disputes/{dispute['id']}/resolve",
                                  {"scores": {"alice": 1, "bob": 2}, "resolution": "again"})
    assert status == 409 and body["error"]["code"] == "dispute_not_open"


@pytest.mark.gen_test
async def test_opponent_disputes_and_organizer_rejects(api: Api) -> None:
    """A rejected dispute completes the match with the result that was reported."""
    mid, alice, bob = await live_match(api)
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 3, "bob": 0}}, as_=alice)
    status, body = await api.post(f"/api/matches/{mid}/disputes", {"reason": "x"}, as_=alice)
    assert status == 403 and body["error"]["code"] == "not_opponent"
    raised = await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "he used a bug"}, 201, as_=bob)
    assert raised["match"]["state"] == "disputed" and raised["dispute"]["raised_by"] == "bob"
    assert api.last_headers["Location"] == f"/api/disputes/{raised['dispute']['id']}"
    status, body = await api.post(f"/api/matches/{mid}/disputes", {"reason": "again"}, as_=bob)
    assert status == 409 and body["error"]["state"] == "disputed"
    rejected = await api.ok("POST", f"/api/disputes/{raised['dispute']['id']}/resolve",
                            {"status": "rejected", "resolution": "no bug in the demo"})
    assert rejected["dispute"]["status"] == "rejected"
    assert rejected["match"]["result"] == {"scores": {"alice": 3, "bob": 0}, "winner_id": "alice"}


@pytest.mark.gen_test
async def test_forfeit_gives_the_win_to_the_opponent(api: Api) -> None:
    """An organizer's forfeit ends the match in state forfeit with the other player winning."""
    mid, alice, _ = await live_match(api)
    status, _ = await api.post(f"/api/matches/{mid}/forfeit", {"participant_id": "bob"}, as_=alice)
    assert status == 403
    done = await api.ok("POST", f"/api/matches/{mid}/forfeit", {"participant_id": "bob"})
    assert done["state"] == "forfeit" and done["winner_id"] == "alice"
    log = await api.ok("GET", f"/api/matches/{mid}/events")
    assert log["events"][-1]["type"] == "match_completed"
    assert log["events"][-1]["data"]["forfeited_by"] == "bob"


@pytest.mark.gen_test
async def test_cancel_closes_an_open_dispute(api: Api) -> None:
    """Cancelling a disputed match rejects its dispute and ends the match."""
    mid, alice, bob = await live_match(api)
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 3, "bob": 0}}, as_=alice)
    raised = await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "lag"}, 201, as_=bob)
    cancelled = await api.ok("POST", f"/api/matches/{mid}/cancel", {"reason": "power cut"})
    assert cancelled["state"] == "cancelled"
    dispute = await api.ok("GET", f"/api/disputes/{raised['dispute']['id']}")
    assert dispute["status"] == "rejected"
    status, body = await api.post(f"/api/matches/{mid}/start")
    assert status == 409 and body["error"] == {
        "code": "invalid_state", "message": "cannot start the match while the match is cancelled",
        "state": "cancelled"}


@pytest.mark.gen_test
async def test_organizer_result_completes_directly(api: Api) -> None:
    """An organizer entering the result completes a live match in one step."""
    mid, _, _ = await live_match(api)
    done = await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 0, "bob": 16}})
    assert done["state"] == "completed" and done["winner_id"] == "bob"


@pytest.mark.gen_test
async def test_spectators_watch_but_do_not_act(api: Api) -> None:
    """A spectator reads tournaments, matches and logs, and is refused every write."""
    tid, match = await api.match_between("alice", "bob")
    viewer = api.token("viewer", Role.SPECTATOR)
    assert (await api.ok("GET", f"/api/matches/{match['id']}", as_=viewer))["id"] == match["id"]
    assert (await api.ok("GET", f"/api/tournaments/{tid}", as_=viewer))["participants"][0]["id"] == "alice"
    for path, body in [(f"/api/matches/{match['id']}/start", None), ("/api/tournaments", {"name": "X"}),
                       (f"/api/tournaments/{tid}/participants", {"name": "Eve"})]:
        status, data = await api.post(path, body, as_=viewer)
        assert (status, data["error"]["code"]) == (403, "insufficient_permissions")


@pytest.mark.gen_test
async def test_racing_writes_apply_once(api: Api) -> None:
    """Ten simultaneous starts: exactly one applies, the rest see the match already live."""
    import asyncio

    _, match = await api.match_between("alice", "bob")
    results = await asyncio.gather(*[api.post(f"/api/matches/{match['id']}/start") for _ in range(10)])
    assert sorted(status for status, _ in results) == [200] + [409] * 9
    log = await api.ok("GET", f"/api/matches/{match['id']}/events")
    assert event_types(log) == ["match_started"]


@pytest.mark.gen_test
async def test_if_match_refuses_a_stale_version(api: Api) -> None:
    """A write with If-Match of an old version is a 409 version_conflict and changes nothing."""
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    await api.ok("POST", f"/api/matches/{mid}/start", headers={"If-Match": '"1"'})
    status, body = await api.post(f"/api/matches/{mid}/cancel", headers={"If-Match": "1"})
    assert status == 409 and body["error"]["code"] == "version_conflict" and body["error"]["version"] == 2
    assert (await api.ok("GET", f"/api/matches/{mid}"))["state"] == "live"
    status, body = await api.post(f"/api/matches/{mid}/cancel", headers={"If-Match": "latest"})
    assert (status, body["error"]["code"]) == (400, "invalid_schema")


@pytest.mark.gen_test
async def test_tokens_minted_for_players_act_as_participants(api: Api) -> None:
    """An organizer mints a player token (an event link of the tournament) whose holder may
    then act for their match."""
    tid, match = await api.match_between("alice", "bob")
    minted = await api.ok("POST", "/api/tokens", {"user_id": "alice", "role": "player", "tournament_id": tid}, 201)
    assert (minted["role"], minted["username"], minted["tournament_id"]) == ("player", "alice", tid)
    assert (await api.ok("POST", f"/api/matches/{match['id']}/start"))["state"] == "live"
    scored = await api.ok("POST", f"/api/matches/{match['id']}/score", {"scores": {"alice": 4}},
                          as_=minted["token"])
    assert scored["scores"]["alice"] == 4
    status, body = await api.post("/api/tokens", {"user_id": "boss", "role": "organizer"})
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")
    status, body = await api.post("/api/tokens", {"user_id": "x"}, as_=minted["token"])
    assert status == 403


@pytest.mark.gen_test
async def test_a_guarded_score_never_lands_before_an_older_batched_one(api: Api, services: Any) -> None:
    """A score sent with If-Match first writes the batch waiting before it; its version is then
    stale, so it is refused rather than overtaken."""
    mid, _, _ = await live_match(api)
    waiting = await services.matches.update_score(mid, services.tokens.decode(api.organizer), {"alice": 3})
    version = (await api.ok("GET", f"/api/matches/{mid}"))["version"]
    status, body = await api.post(f"/api/matches/{mid}/score", {"scores": {"alice": 5}},
                                  headers={"If-Match": str(version)})
    assert (status, body["error"]["code"]) == (409, "version_conflict")
    assert (await waiting).scores["alice"] == 3
    fresh = (await api.ok("GET", f"/api/matches/{mid}"))["version"]
    done = await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 5}}, headers={"If-Match": str(fresh)})
    assert done["scores"]["alice"] == 5
