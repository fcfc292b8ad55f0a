"""Self-registration and check-in over real HTTP: a cap and a waitlist, approval, promotion after
a removal, check-in then start (drop and bottom), and refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.wsclient import connect
from tournament.roles import Role


async def open_cup(api: Api, **settings: Any) -> tuple[str, str]:
    """A draft tournament with registration open under `settings`: (its id, the registration code)."""
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201))["id"]
    view = await api.ok("PATCH", f"/api/tournaments/{tid}/registration", {"open": True, **settings})
    return tid, view["code"]


async def register(api: Api, tid: str, code: str, name: str, expect: int = 201) -> Any:
    return await api.ok("POST", f"/api/tournaments/{tid}/register", {"code": code, "name": name, "id": name.lower()},
                        expect, as_=None)


async def statuses(api: Api, tid: str) -> dict[str, str]:
    view = await api.ok("GET", f"/api/tournaments/{tid}/registration")
    listed = (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]
    return {p["id"]: p["status"] for p in [*listed, *view["pending"], *view["waitlisted"], *view["dropped"]]}


@pytest.mark.gen_test
async def test_self_registration_with_a_cap_and_a_waitlist(api: Api) -> None:
    """Under a cap of 2 the third player is waitlisted at place 1; each is answered a working
    event link; the organizer's add over the cap is a 409 registration_full."""
    tid, code = await open_cup(api, cap=2, waitlist=True)
    alice = await register(api, tid, code, "Alice")
    assert (alice["status"], alice["place"], alice["participant_id"], alice["role"]) == ("registered", None, "alice",
                                                                                         "player")
    assert alice["url"].endswith(f"/me/{tid}?token={alice['token']}") and len(alice["code"]) == 8
    await register(api, tid, code.lower(), "Bob")
    carol = await register(api, tid, code, "Carol")
    assert (carol["status"], carol["place"]) == ("waitlisted", 1)
    await api.ok("GET", f"/api/tournaments/{tid}", as_=carol["token"])
    joined = await api.ok("POST", f"/api/tournaments/{tid}/join", {"code": carol["code"]}, as_=None)
    assert joined["participant_id"] == "carol"
    status, body = await api.post(f"/api/tournaments/{tid}/participants", {"name": "Dan"})
    assert (status, body["error"]["code"], body["error"]["cap"]) == (409, "registration_full", 2)
    view = await api.ok("GET", f"/api/tournaments/{tid}/registration")
    assert (view["registered"], [(p["id"], p["place"]) for p in view["waitlisted"]]) == (2, [("carol", 1)])
    assert (await api.ok("GET", f"/api/tournaments/{tid}/registration", as_=alice["token"]))["code"] is None
    assert [p["id"] for p in (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]] == [
        "alice", "bob"]


@pytest.mark.gen_test
async def test_approval_registers_or_rejects_pending_players(api: Api) -> None:
    """With approval a player is pending until approved (then registered) or rejected (then gone);
    approving one that is not pending is a 409."""
    tid, code = await open_cup(api, approval=True)
    assert (await register(api, tid, code, "Alice"))["status"] == "pending"
    await register(api, tid, code, "Bob")
    approved = await api.ok("POST", f"/api/tournaments/{tid}/participants/alice/approve")
    assert approved["status"] == "registered"
    rejected = await api.ok("POST", f"/api/tournaments/{tid}/participants/bob/reject")
    assert rejected["removed"]["id"] == "bob"
    status, body = await api.post(f"/api/tournaments/{tid}/participants/alice/approve")
    assert (status, body["error"]["code"]) == (409, "invalid_state")
    status, body = await api.post(f"/api/tournaments/{tid}/participants/alice/approve", as_=api.token("alice"))
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")
    assert await statuses(api, tid) == {"alice": "registered"}


@pytest.mark.gen_test
async def test_removing_a_registered_participant_promotes_the_waitlist(api: Api) -> None:
    """DELETE of a registered participant gives the place to the first waitlisted, announced as
    participant_updated; the next one moves to place 1."""
    tid, code = await open_cup(api, cap=1, waitlist=True)
    for name in ("Alice", "Bob", "Carol"):
        await register(api, tid, code, name)
    sock, _ = await connect(api, f"/ws/tournament/{tid}", api.token("viewer", Role.SPECTATOR))
    await api.ok("DELETE", f"/api/tournaments/{tid}/participants/alice")
    frames = [await sock.recv() for _ in range(2)]
    assert [f["type"] for f in frames] == ["participant_removed", "participant_updated"]
    assert (frames[1]["data"]["participant"]["id"], frames[1]["data"]["participant"]["status"]) == ("bob",
                                                                                                    "registered")
    view = await api.ok("GET", f"/api/tournaments/{tid}/registration")
    assert (view["registered"], [(p["id"], p["place"]) for p in view["waitlisted"]]) == (1, [("carol", 1)])
    await api.ok("DELETE", f"/api/tournaments/{tid}/participants/carol")  # a waitlisted one frees no place
    assert await statuses(api, tid) == {"bob": "registered"}


async def checked_in_cup(api: Api, at_start: str) -> tuple[str, dict[str, Any]]:
    """Four registered (seeds 1 to 4: alice, bob, carol, dave) and a waitlisted erin under a cap
    of 4; alice, dave and erin check in (dave by the organizer)."""
    tid, code = await open_cup(api, cap=4, waitlist=True, check_in={"state": "open", "at_start": at_start})
    tokens = {name.lower(): (await register(api, tid, code, name))["token"]
              for name in ("Alice", "Bob", "Carol", "Dave", "Erin")}
    await api.ok("PUT", f"/api/tournaments/{tid}/seeds", {"order": ["alice", "bob", "carol", "dave"]})
    checked = await api.ok("POST", f"/api/tournaments/{tid}/check-in", as_=tokens["alice"])
    assert checked["checked_in_at"] is not None
    await api.ok("POST", f"/api/tournaments/{tid}/check-in", {"participant_id": "dave"})
    await api.ok("POST", f"/api/tournaments/{tid}/check-in", as_=tokens["erin"])
    return tid, tokens


@pytest.mark.gen_test
async def test_check_in_then_start_drops_the_absent(api: Api) -> None:
    """With drop, bob and carol (not checked in) are dropped and kept; erin, waitlisted and
    checked in, takes a freed place; the bracket seeds alice, dave, erin."""
    tid, tokens = await checked_in_cup(api, "drop")
    again = await api.ok("POST", f"/api/tournaments/{tid}/check-in", as_=tokens["alice"])
    assert again["checked_in_at"] is not None  # twice is no change
    await api.ok("PATCH", f"/api/tournaments/{tid}/registration", {"check_in": {"state": "closed"}})
    status, body = await api.post(f"/api/tournaments/{tid}/check-in", as_=tokens["bob"])
    assert (status, body["error"]["code"]) == (409, "check_in_closed")
    live = await api.ok("POST", f"/api/tournaments/{tid}/start")
    assert live["seed_order"] == ["alice", "dave", "erin"]
    assert await statuses(api, tid) == {"alice": "registered", "dave": "registered", "erin": "registered",
                                        "bob": "dropped", "carol": "dropped"}


@pytest.mark.gen_test
async def test_check_in_then_start_moves_the_absent_to_the_bottom(api: Api) -> None:
    """With bottom, bob and carol keep playing below the checked in, in their order; erin stays
    waitlisted (no place is freed); random seeding is refused first, changing nothing."""
    tid, _ = await checked_in_cup(api, "bottom")
    status, body = await api.post(f"/api/tournaments/{tid}/start", {"seeding": "random"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_value", "seeding")
    assert [p["seed"] for p in (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]] == [
        1, 2, 3, 4]
    live = await api.ok("POST", f"/api/tournaments/{tid}/start")
    assert live["seed_order"] == ["alice", "dave", "bob", "carol"]
    assert (await statuses(api, tid))["erin"] == "waitlisted"


@pytest.mark.gen_test
async def test_refusals_change_nothing(api: Api) -> None:
    """A bad code (404), a closed registration (409 registration_closed), a full one without a
    waitlist (409 registration_full), a name or id taken (409 already_exists), a bad body (400,
    422) and bad settings (400, 422): each refused, nothing registered."""
    tid, code = await open_cup(api, cap=1)
    await register(api, tid, code, "Alice")
    path = f"/api/tournaments/{tid}/register"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"code": "WRONGONE", "name": "Bob"}, 404, "not_found"),
        ({"code": code, "name": "Bob"}, 409, "registration_full"),
        ({"code": code, "name": "ALICE"}, 409, "already_exists"),
        ({"code": code}, 400, "invalid_schema"),
        ({"code": code, "name": "Bob", "id": "bad id"}, 422, "invalid_value"),
        ({"code": code, "name": "Bob", "id": "bulk"}, 422, "invalid_value")]
    for body, status, error in cases:
        got, answer = await api.post(path, body, as_=None)
        assert (got, answer["error"]["code"]) == (status, error), body
    await api.ok("PATCH", f"/api/tournaments/{tid}/registration", {"cap": None})
    got, answer = await api.post(path, {"code": code, "name": "Al", "id": "alice"}, as_=None)
    assert (got, answer["error"]["code"]) == (409, "already_exists")
    await api.ok("PATCH", f"/api/tournaments/{tid}/registration", {"open": False})
    got, answer = await api.post(path, {"code": code, "name": "Bob"}, as_=None)
    assert (got, answer["error"]["code"]) == (409, "registration_closed")
    settings_path = f"/api/tournaments/{tid}/registration"
    changes: list[tuple[Any, int, str]] = [({}, 422, "invalid_value"), ({"cap": 0}, 422, "invalid_value"),
                                ({"cap": "2"}, 400, "invalid_schema"), ({"check_in": "open"}, 400, "invalid_schema"),
                                ({"check_in": {"state": "later"}}, 422, "invalid_value"),
                                ({"check_in": {"at_start": "top"}}, 422, "invalid_value")]
    for change, status, error in changes:
        got, answer = await api.request("PATCH", settings_path, change)
        assert (got, answer["error"]["code"]) == (status, error), change
    got, answer = await api.request("PATCH", settings_path, {"open": True}, as_=api.token("alice"))
    assert (got, answer["error"]["code"]) == (403, "insufficient_permissions")
    view = await api.ok("GET", settings_path)
    assert (view["open"], view["cap"], view["check_in"]) == (False, None, {"state": "off", "at_start": "drop"})
    assert await statuses(api, tid) == {"alice": "registered"}


@pytest.mark.gen_test
async def test_a_new_code_retires_the_old_and_settings_are_announced(api: Api) -> None:
    """A new registration code works and the old one is a 404; settings changes reach the
    tournament room as registration_updated, without the code."""
    tid, code = await open_cup(api)
    sock, _ = await connect(api, f"/ws/tournament/{tid}", api.token("viewer", Role.SPECTATOR))
    await api.ok("PATCH", f"/api/tournaments/{tid}/registration", {"cap": 8, "waitlist": True})
    frame = await sock.recv()
    assert (frame["type"], frame["data"]["registration"]["cap"]) == ("registration_updated", 8)
    assert "code" not in frame["data"]["registration"]
    fresh = (await api.ok("POST", f"/api/tournaments/{tid}/registration/code"))["code"]
    assert fresh != code
    await register(api, tid, code, "Alice", expect=404)
    assert (await register(api, tid, fresh, "Alice"))["status"] == "registered"
