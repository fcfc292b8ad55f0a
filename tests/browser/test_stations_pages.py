"""Stations from the pages, in headless Chromium: the desk's stations panel and call queue, the
venue queue board, a player's call, and a no-show forfeited from the desk."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, spectator, tournament_with
from tests.conftest import Api
from tests.browser.harness import no_sideways_scroll

PLAYERS = ["Alice", "Bob", "Carol", "Dave"]  # seeded in order: W1-1 Alice vs Dave, W1-2 Bob vs Carol
ETA = re.compile(r"\d\d:\d\d · (in \d+ min|in \d+ h \d\d min|now)")
NO_SHOW_WAIT_MS = 20_000  # the shortest check-in time is 10 s


def station(page: Page, name: str) -> Locator:
    return page.locator(f'.desk-station[data-station-name="{name}"]')


def tile(board: Page, name: str, desk_stations: dict[str, str]) -> Locator:
    return board.locator(f'.board-station[data-station-id="{desk_stations[name]}"]')


async def station_ids(api: Api, tid: str) -> dict[str, str]:
    return {s["name"]: s["id"] for s in (await api.ok("GET", f"/api/tournaments/{tid}/stations"))["stations"]}


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_the_desk_runs_stations_and_the_board_follows(api: Api) -> None:
    """From the desk: add two stations, turn auto-assign on and see both first-round matches
    called to them, on the desk and on the queue board the desk opens; take one off and call it
    again by hand; rename, disable and remove a station (a busy one refuses with the reason)."""
    tid = await tournament_with(api, PLAYERS, start=True)
    errors: list[str] = []
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (desk,):
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")
        await expect(desk.locator("#t-stations")).to_contain_text("No station yet")

        await desk.get_by_label("Station name").fill("Stream")
        await desk.get_by_label("Stream station").check()
        await desk.get_by_role("button", name="Add the station").click()
        await expect(station(desk, "Stream")).to_contain_text("Free")
        await expect(station(desk, "Stream").locator(".badge.stream")).to_have_text("Stream")
        await desk.get_by_role("button", name="Add the station").click()  # empty: the suggested name
        await expect(desk.locator(".desk-station")).to_have_count(2)
        await expect(station(desk, "Station 2")).to_contain_text("Free")
        await expect(desk.get_by_label("Station name")).to_have_value("")
        ids = await station_ids(api, tid)
        assert list(ids) == ["Stream", "Station 2"]

        queue = desk.locator(".queue-row")
        await expect(queue).to_have_count(3)  # W1-1, W1-2, W2-1
        await expect(queue.nth(0)).to_contain_text("W1-1 Alice vs Dave")
        await expect(queue.nth(0).locator(".eta")).to_have_text(ETA)
        await expect(queue.nth(0).get_by_label("Call to…").locator("option")).to_have_text(["Stream", "Station 2"])
        await expect(queue.nth(2)).to_have_text(re.compile(r"^W2-1 \d\d:\d\d · in 10 min waiting for winner of W1-1 and "
                                                        r"winner of W1-2\s*$"))  # a game lasts 10 min until measured
        await expect(queue.nth(2).get_by_label("Call to…")).to_have_count(0)

        async with desk.context.expect_page() as opened:
            await desk.get_by_role("button", name="Open the queue board").click()
        board = await opened.value
        board.on("pageerror", lambda e: errors.append(str(e)))
        await expect(board).to_have_url(re.compile(rf"/board/{tid}$"))  # the token left the address
        await expect(board.locator("#connection")).to_have_text("Connected")
        await expect(desk.locator("#board-link")).to_have_attribute("href", re.compile(rf"/board/{tid}\?token=ey"))
        await expect(board.locator(".board-station")).to_have_count(2)
        await expect(tile(board, "Stream", ids)).to_contain_text("Free")
        await expect(board.locator(".next-row")).to_have_count(3)
        await expect(board.locator(".next-row").first).to_have_text(re.compile(r"^W1-1\s*Alice vs Dave\s*\d\d:\d\d · now$"))

        await desk.bring_to_front()
        await desk.get_by_label("Auto-assign").check()
        # The stream station chooses first; the queue's next match goes to it.
        await expect(station(desk, "Stream").locator(".station-match")).to_contain_text("W1-1 Alice vs Dave")
        await expect(station(desk, "Station 2").locator(".station-match")).to_contain_text("W1-2 Bob vs Carol")
        await expect(station(desk, "Stream")).to_contain_text("Alice not yet · Dave not yet")
        await expect(station(desk, "Stream").locator(".countdown")).to_have_text(re.compile(r"^[45]:\d\d$"))
        await expect(queue).to_have_count(1)
        calling = (await api.ok("GET", f"/api/tournaments/{tid}/calling"))
        assert calling["auto_assign"] is True

        called = board.locator(".called-line")
        await expect(called).to_have_count(2)
        await expect(board.locator(f'.called-line[data-station-id="{ids["Stream"]}"]')).to_contain_text(
            re.compile(r"W1-1: Alice vs Dave\s*→\s*go to\s*Stream\s*Check in within [45]:\d\d"))
        await expect(tile(board, "Station 2", ids)).to_contain_text("W1-2")
        await expect(tile(board, "Station 2", ids).locator(".tile-players")).to_have_text("BobvsCarol")
        await expect(board.locator(".next-row")).to_have_count(1)

        await api.ok("POST", f"/api/matches/{tid}-W1-2/check-in", as_=api.token("bob"))
        await expect(station(desk, "Station 2")).to_contain_text("Bob checked in · Carol not yet")
        await expect(board.locator(f'.called-line[data-station-id="{ids["Station 2"]}"]')).to_contain_text(
            "Bob checked in")

        # Auto-assign off, W1-2 taken off Station 2 and called there again by hand.
        await desk.bring_to_front()
        await desk.get_by_label("Auto-assign").uncheck()
        await expect(desk.get_by_label("Auto-assign")).not_to_be_checked()
        await station(desk, "Station 2").get_by_role("button", name="Take off").click()
        await expect(station(desk, "Station 2")).to_contain_text("Free")
        row = desk.locator(f'.queue-row[data-match-id="{tid}-W1-2"]')
        await expect(row).to_contain_text("W1-2 Bob vs Carol")
        await expect(tile(board, "Station 2", ids)).to_contain_text("Free")
        await expect(board.locator(".called-line")).to_have_count(1)
        await desk.bring_to_front()
        await expect(row.get_by_label("Call to…").locator("option")).to_have_text(["Station 2"])
        await row.get_by_label("Call to…").select_option("Station 2")
        await row.get_by_role("button", name="Call").click()
        await expect(station(desk, "Station 2").locator(".station-match")).to_contain_text("W1-2 Bob vs Carol")
        assert (await api.ok("GET", f"/api/matches/{tid}-W1-2"))["call"]["station_id"] == ids["Station 2"]
        await expect(tile(board, "Station 2", ids)).to_contain_text("W1-2")

        # A busy station is not removed: the desk says why.
        await desk.bring_to_front()
        stream = station(desk, "Stream")
        await stream.get_by_role("button", name="Edit Stream").click()
        await stream.get_by_role("button", name="Remove…").click()
        await stream.get_by_role("button", name="Remove Stream").click()
        await expect(stream.get_by_role("alert")).to_have_text(
            "W1-1 is called to this station: take it off the station first")
        await stream.get_by_label("Name").fill("Main stage")
        await stream.get_by_role("button", name="Rename").click()
        main_stage = station(desk, "Main stage")
        await expect(main_stage).to_contain_text("W1-1 Alice vs Dave")
        await expect(tile(board, "Stream", ids).locator(".tile-name")).to_have_text("Main stage")

        # A spare station: disabled (the board shows it closed), enabled, removed after a yes.
        await desk.bring_to_front()
        await desk.get_by_label("Station name").fill("Spare")
        await desk.get_by_role("button", name="Add the station").click()
        spare = station(desk, "Spare")
        await spare.get_by_role("button", name="Disable").click()
        await expect(spare.locator(".badge")).to_have_text("Disabled")
        spare_id = (await station_ids(api, tid))["Spare"]
        await expect(board.locator(f'.board-station[data-station-id="{spare_id}"]')).to_contain_text("Closed")
        await desk.bring_to_front()
        await spare.get_by_role("button", name="Enable").click()
        await expect(spare.locator(".badge")).to_have_count(0)
        await spare.get_by_role("button", name="Edit Spare").click()
        await spare.get_by_role("button", name="Remove…").click()
        await spare.get_by_role("button", name="Keep it").click()
        await expect(spare).to_have_count(1)
        await spare.get_by_role("button", name="Remove…").click()
        await spare.get_by_role("button", name="Remove Spare").click()
        await expect(spare).to_have_count(0)
        await expect(board.locator(".board-station")).to_have_count(2)
        assert list(await station_ids(api, tid)) == ["Main stage", "Station 2"]
    assert errors == []


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_called_player_is_told_where_to_go_and_checks_in(api: Api) -> None:
    """On a phone, Alice's page says "Go to Station 1" with a countdown as soon as her match is
    called, and checks her in; the match page and the overlay name the station."""
    tid = await tournament_with(api, PLAYERS, start=True)
    mid = f"{tid}-W1-1"
    st = await api.ok("POST", f"/api/tournaments/{tid}/stations", {"name": "Station 1"}, 201)
    async with browser_pages(api, 3) as (alice, scoreboard, overlay):
        await alice.set_viewport_size({"width": 390, "height": 844})
        await alice.goto(f"/play/{mid}?token={api.token('alice')}")
        await scoreboard.goto(f"/matches/{mid}?token={spectator(api)}")
        await overlay.goto(f"/overlay/match/{mid}?token={spectator(api)}")
        await expect(alice.locator(".crumbs")).to_have_text("Playing as Alice against Dave")
        await expect(alice.locator(".call-panel")).to_have_count(0)
        await expect(scoreboard.locator("#connection")).to_have_text("Connected")
        await expect(overlay.locator("body")).to_have_attribute("data-connection", "connected")

        await api.ok("POST", f"/api/matches/{mid}/call", {"station_id": st["id"]})
        await expect(alice.get_by_role("heading", name="Go to Station 1")).to_be_visible()
        await expect(alice.locator("#call-countdown")).to_have_text(re.compile(r"^[45]:\d\d$"))
        await expect(alice.locator("#announcer")).to_have_text("Go to Station 1")
        await expect(scoreboard.locator("#station-name")).to_have_text("Station 1")
        await expect(overlay.locator('[data-testid="overlay-station"]')).to_have_text("Station 1")
        await alice.bring_to_front()
        assert await no_sideways_scroll(alice)  # no sideways scroll
        await alice.screenshot(path="/tmp/player-called.png", full_page=True)

        await alice.get_by_role("button", name="Check in", exact=True).click()
        await expect(alice.locator(".call-panel")).to_contain_text("You are checked in. Waiting for Dave.")
        assert (await api.ok("GET", f"/api/matches/{mid}"))["checked_in"] == ["alice"]
        await api.ok("POST", f"/api/matches/{mid}/check-in", as_=api.token("dave"))
        await expect(alice.locator(".call-panel")).to_contain_text("You are both here")
        await alice.get_by_role("button", name="Start the match").click()
        await expect(alice.locator(".scoreboard")).to_have_attribute("data-state", "live")
        await expect(alice.locator(".call-panel")).to_have_count(0)
        await expect(alice.locator(".crumbs")).to_have_text("Playing as Alice against Dave · at Station 1")
        await expect(scoreboard.locator("#station-name")).to_have_text("Station 1")


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_a_no_show_is_flagged_and_forfeited_from_the_desk(api: Api) -> None:
    """With 10 s to check in, Dave never comes to W1-1 and nobody to W1-2: the desk flags both
    (naming the absent), Dave's page says he is a no-show; one click forfeits each, and the
    final, now ready, is called to a station by itself."""
    tid = await tournament_with(api, PLAYERS, start=True)
    for name in ("Station 1", "Station 2"):
        await api.ok("POST", f"/api/tournaments/{tid}/stations", {"name": name}, 201)
    await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"check_in_s": 10})
    async with browser_pages(api, 2) as (desk, dave):
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")
        await expect(desk.get_by_label("Check-in time after a call")).to_have_value("10")
        await desk.get_by_label("Auto-assign").check()
        await expect(desk.locator(".station-match")).to_have_count(2)
        await dave.goto(f"/play/{tid}-W1-1?token={api.token('dave')}")
        await expect(dave.get_by_role("heading", name="Go to Station 1")).to_be_visible()
        await api.ok("POST", f"/api/matches/{tid}-W1-1/check-in", as_=api.token("alice"))

        one = desk.locator(f"#no-show-{tid}-W1-1")
        both = desk.locator(f"#no-show-{tid}-W1-2")
        await desk.bring_to_front()
        await expect(one).to_contain_text("NO-SHOW Dave did not check in in time.", timeout=NO_SHOW_WAIT_MS)
        await expect(both).to_contain_text("NO-SHOW Bob and Carol did not check in in time.")
        await expect(both.get_by_role("button")).to_have_text(["Forfeit Bob", "Forfeit Carol"])
        await expect(one.get_by_role("button")).to_have_text(["Forfeit Dave"])
        await expect(dave.locator(".call-late")).to_contain_text("you are marked as a no-show")
        await desk.screenshot(path="/tmp/desk-no-show.png", full_page=True)

        await desk.bring_to_front()
        await one.get_by_role("button", name="Forfeit Dave").click()
        await expect(station(desk, "Station 1")).to_contain_text("Free")
        first = await api.ok("GET", f"/api/matches/{tid}-W1-1")
        assert (first["state"], first["winner_id"]) == ("forfeit", "alice")
        await expect(dave.get_by_text("Match over: Alice won.")).to_be_visible()

        await desk.bring_to_front()
        await both.get_by_role("button", name="Forfeit Carol").click()
        final = desk.locator(f'.station-match[data-match-id="{tid}-W2-1"]')
        await expect(final).to_contain_text("W2-1 Alice vs Bob")  # ready, and auto-assigned
        await expect(desk.locator(".queue-row")).to_have_count(0)
    second = await api.ok("GET", f"/api/matches/{tid}-W1-2")
    assert (second["state"], second["winner_id"]) == ("forfeit", "bob")
