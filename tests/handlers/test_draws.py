"""A live draw of the seeding over REST and the tournament socket (issue 19, part 4)."""

from __future__ import annotations

import hashlib
import random

import pytest

from tests.conftest import Api
from tests.wsclient import connect
from tournament.roles import Role


async def registered(api: Api, n: int = 6) -> str:
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "Draw Cup"}, 201))["id"]
    for i in range(1, n + 1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": f"P{i}", "id": f"p{i}"}, 201)
    return tid


@pytest.mark.gen_test(timeout=30)
async def test_a_draw_reveals_a_fixed_order_one_place_at_a_time(api: Api) -> None:
    """Watchers see each place as it is revealed, in order; nothing unrevealed shows; the seed,
    committed at the start, is shown at the end and reproduces the order; the bracket is
    seeded from it."""
    tid = await registered(api)
    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.token("screen", Role.SPECTATOR))
    started = await api.ok("POST", f"/api/tournaments/{tid}/draw/start", {"rng_seed": 42})
    draw = started["draw"]
    assert (draw["revealed"], draw["total"], draw["complete"], draw["rng_seed"]) == ([], 6, False, None)
    assert draw["commitment"] == hashlib.sha256(b"42").hexdigest()
    frame = await watcher.recv()
    assert (frame["type"], frame["data"]["draw"]["revealed"]) == ("draw_started", [])
    expected = [f"p{i}" for i in range(1, 7)]
    random.Random(42).shuffle(expected)
    first = await api.ok("POST", f"/api/tournaments/{tid}/draw/next")
    assert first["draw"]["revealed"] == expected[:1]
    shown = await watcher.recv()
    assert (shown["type"], shown["data"]["places"]) == ("draw_revealed", [{"seed": 1, "participant_id": expected[0]}])
    await api.ok("POST", f"/api/tournaments/{tid}/draw/next")
    undone = await api.ok("POST", f"/api/tournaments/{tid}/draw/undo")
    assert undone["draw"]["revealed"] == expected[:1]
    done = await api.ok("POST", f"/api/tournaments/{tid}/draw/all")
    assert (done["draw"]["revealed"], done["draw"]["complete"], done["draw"]["rng_seed"]) == (expected, True, 42)
    frames = [await watcher.recv() for _ in range(3)]
    assert [f["type"] for f in frames] == ["draw_revealed", "draw_undone", "draw_revealed"]
    assert [p["seed"] for p in frames[2]["data"]["places"]] == [2, 3, 4, 5, 6]
    live = await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "draw"})
    assert (live["seed_order"], live["settings"]["seeding"], live["settings"]["rng_seed"]) == (expected, "draw", 42)


@pytest.mark.gen_test(timeout=30)
async def test_a_draw_refuses_what_would_change_it(api: Api) -> None:
    """While a draw is on, registrations are refused; steps out of turn have their own codes;
    players cannot draw; an unfinished or stale draw cannot seed the bracket; abort ends it."""
    tid = await registered(api, 4)
    status, body = await api.post(f"/api/tournaments/{tid}/draw/next")
    assert (status, body["error"]["code"]) == (409, "no_draw")
    status, body = await api.post(f"/api/tournaments/{tid}/draw/start", as_=api.token("p1"))
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")
    await api.ok("POST", f"/api/tournaments/{tid}/draw/start")
    status, body = await api.post(f"/api/tournaments/{tid}/draw/undo")
    assert (status, body["error"]["code"]) == (409, "draw_not_started")
    status, body = await api.post(f"/api/tournaments/{tid}/draw/start")
    assert (status, body["error"]["code"]) == (409, "draw_in_progress")
    status, body = await api.post(f"/api/tournaments/{tid}/participants", {"name": "Late", "id": "late"})
    assert (status, body["error"]["code"]) == (409, "draw_in_progress")
    status, body = await api.post(f"/api/tournaments/{tid}/start", {"seeding": "draw"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_value", "seeding")
    await api.ok("POST", f"/api/tournaments/{tid}/draw/all")
    status, body = await api.post(f"/api/tournaments/{tid}/draw/next")
    assert (status, body["error"]["code"]) == (409, "draw_complete")
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Late", "id": "late"}, 201)
    status, body = await api.post(f"/api/tournaments/{tid}/start", {"seeding": "draw"})
    assert (status, body["error"]["message"]) == (422, "the participants changed since the draw: draw again")
    aborted = await api.ok("POST", f"/api/tournaments/{tid}/draw/abort")
    assert aborted["draw"] is None


@pytest.mark.gen_test(timeout=30)
async def test_a_screen_that_reconnects_gets_the_places_it_missed(api: Api) -> None:
    """A draw screen cut off mid-draw reconnects with since and epoch and gets every place
    revealed meanwhile, in order, once."""
    tid = await registered(api, 4)
    screen, welcome = await connect(api, f"/ws/tournament/{tid}", api.token("screen", Role.SPECTATOR))
    since, epoch = welcome["data"]["seq"], welcome["data"]["epoch"]
    screen.close()
    await screen.closed()
    await api.ok("POST", f"/api/tournaments/{tid}/draw/start", {"rng_seed": 3})
    for _ in range(2):
        await api.ok("POST", f"/api/tournaments/{tid}/draw/next")
    again, resumed = await connect(api, f"/ws/tournament/{tid}?since={since}&epoch={epoch}",
                                   api.token("screen", Role.SPECTATOR))
    assert resumed["data"]["recovered"] is True
    frames = [await again.recv() for _ in range(3)]
    assert [f["type"] for f in frames] == ["draw_started", "draw_revealed", "draw_revealed"]
    assert [f["data"]["places"][0]["seed"] for f in frames[1:]] == [1, 2]
    await again.quiet()
