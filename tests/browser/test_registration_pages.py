"""Self-registration and check-in from the pages, in headless Chromium: the desk's registration
panel (settings, link and QR code, waitlist, check-in), the public /register page (statuses and
refusals), and the player's /me page (status, place, the check-in button)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages
from tests.conftest import Api
from tests.browser.harness import no_sideways_scroll

PHONE: ViewportSize = {"width": 390, "height": 844}
DESK: ViewportSize = {"width": 1280, "height": 1400}


async def register_on(page: Page, link: str, name: str) -> None:
    """Open the registration link on `page` and register as `name`."""
    await page.bring_to_front()
    await page.goto(link)
    await expect(page.locator("#page-title")).to_have_text(re.compile(r"^Register"))
    await page.get_by_label("Your name").fill(name)
    await page.get_by_role("button", name="Register").click()


async def statuses(api: Api, tid: str) -> dict[str, str]:
    view = await api.ok("GET", f"/api/tournaments/{tid}/registration")
    listed = (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]
    return {p["id"]: p["status"] for p in [*listed, *view["pending"], *view["waitlisted"], *view["dropped"]]}


@pytest.mark.gen_test(timeout=TIMEOUT_S * 3)
async def test_register_waitlist_promotion_check_in_and_a_start_that_drops_the_late(api: Api) -> None:
    """The desk opens registration (2 places, a waitlist); Ann, Ben and Cat register from the
    public page (a bad code and a taken name refused first), Cat is waitlisted at place 1 and is
    promoted when Ann is removed; Dan, waitlisted, and Cat check in from /me; the start drops Ben."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "LAN Cup", "game": "Quake"}, 201))["id"]
    async with browser_pages(api, 5, viewport=PHONE) as (desk, ann, ben, cat, dan):
        await desk.set_viewport_size(DESK)
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")
        panel = desk.locator("#t-registration")
        await expect(panel.locator("#reg-summary")).to_have_text("Closed · 0 registered, no limit")
        await expect(panel.locator("#reg-no-link")).to_be_visible()
        await panel.get_by_label("Players may register themselves").check()
        await panel.get_by_label("Places (empty: no limit)").fill("2")
        await panel.get_by_label("Past the places, a waitlist (else refused)").check()
        await panel.get_by_role("button", name="Save").click()
        await expect(panel.locator("#reg-summary")).to_have_text("Open · 0 of 2 places taken · 0 on the waitlist")
        view = await api.ok("GET", f"/api/tournaments/{tid}/registration")
        assert (view["open"], view["cap"], view["waitlist"], view["approval"]) == (True, 2, True, False)
        link = f"{api.base_url}/register/{tid}?code={view['code']}"
        await expect(panel.locator("#reg-link")).to_have_attribute("href", link)
        await expect(panel.locator("#reg-code")).to_have_text(view["code"])
        await expect(panel.locator("#reg-qr")).to_have_js_property("complete", True)
        assert await panel.locator("#reg-qr").evaluate("img => img.naturalWidth > 100")  # the QR code was drawn
        await panel.screenshot(path="/tmp/registration-desk-open.png")

        # a refusal on the public page: a bad code says so, and the code can be typed again
        await register_on(ann, f"/register/{tid}?code=WRONG234", "Ann")
        await expect(ann.locator("#reg-error")).to_have_text(
            "This registration link does not work: WRONG234 is not this tournament's registration code. "
            "Check it, or ask the organizer for the current link.")
        await ann.screenshot(path="/tmp/registration-bad-code-phone.png")
        await expect(ann.locator("#page-title")).to_have_text("Register")  # no token: no name to read
        await ann.get_by_label("Registration code").fill(view["code"].lower())
        await ann.get_by_role("button", name="Register").click()
        await expect(ann.locator("#reg-done-title")).to_have_text("You are registered")
        await expect(ann.locator("#reg-player-code")).to_have_text(re.compile(r"^[A-Z2-9]{8}$"))

        await register_on(ben, link, "ANN")
        await expect(ben.locator("#reg-error")).to_have_text("The name “ANN” is taken: pick another.")
        await ben.get_by_label("Your name").fill("Ben")
        await ben.get_by_role("button", name="Register").click()
        await expect(ben.locator("#reg-done-title")).to_have_text("You are registered")

        await register_on(cat, link, "Cat")
        await expect(cat.locator("#reg-done-title")).to_have_text("You are on the waitlist, place 1")
        await cat.screenshot(path="/tmp/registration-waitlisted-phone.png")
        await cat.get_by_role("link", name="Open my page").click()
        await expect(cat).to_have_url(re.compile(rf"/me/{tid}$"))
        await expect(cat.locator("#page-title")).to_have_text("Cat")
        await expect(cat.locator("#me-entry")).to_have_text("You are on the waitlist, place 1.")
        await expect(cat.locator("#me-current")).to_be_hidden()
        ids = {name: pid for pid, name in ((p["id"], p["name"]) for p in (
            await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"])}
        cat_id = (await api.ok("GET", f"/api/tournaments/{tid}/registration"))["waitlisted"][0]["id"]

        await desk.bring_to_front()
        await expect(desk.locator("#participants > li .name")).to_have_text(["Ann", "Ben"])
        await expect(panel.locator("#reg-waitlist li .name")).to_have_text(["Cat"])
        await expect(panel.locator("#reg-waitlist li")).to_contain_text(["place 1"])
        await desk.get_by_role("button", name="Remove Ann").click()
        await desk.get_by_role("dialog", name="Remove Ann?").get_by_role("button", name="Remove Ann").click()
        await expect(desk.locator("#participants > li .name")).to_have_text(["Ben", "Cat"])
        await expect(panel.locator("#reg-waitlist")).to_have_count(0)
        await expect(panel.locator("#reg-summary")).to_have_text("Open · 2 of 2 places taken · 0 on the waitlist")

        await cat.bring_to_front()
        await expect(cat.locator("#me-entry")).to_have_text("You are registered.")  # promoted, seen live
        await expect(cat.locator("#me-standing")).to_have_text(
            "The tournament has not started yet: your first match shows here when it does.")
        await expect(cat.locator("#me-checkin")).to_have_count(0)  # check-in is not used yet

        dan_link = await api.ok("POST", f"/api/tournaments/{tid}/register",
                                {"code": view["code"], "name": "Dan", "id": "dan"}, 201, as_=None)
        assert (dan_link["status"], dan_link["place"]) == ("waitlisted", 1)

        await desk.bring_to_front()
        await expect(panel.locator("#reg-waitlist li .name")).to_have_text(["Dan"])
        await expect(panel.locator("#reg-waitlist li")).to_contain_text(["place 1"])
        await panel.get_by_role("button", name="Open check-in").click()
        await expect(panel.locator("#checkin-state")).to_have_text("Check-in is open: players check in from their page.")
        await expect(panel.get_by_label("At the start, the registered who did not check in")).to_have_value("drop")
        await expect(panel.locator("#checkin-count")).to_have_text("0 of 2 registered checked in")

        await cat.bring_to_front()
        await cat.get_by_role("button", name="Check in for the tournament").click()
        await expect(cat.locator("#me-checked-in")).to_have_text("You are checked in.")
        await cat.screenshot(path="/tmp/registration-me-checked-in-phone.png")

        await dan.bring_to_front()
        await dan.goto(f"/me/{tid}?token={dan_link['token']}")
        await expect(dan.locator("#me-entry")).to_have_text("You are on the waitlist, place 1.")
        await dan.screenshot(path="/tmp/registration-me-waitlisted-phone.png")
        await dan.get_by_role("button", name="Check in for the tournament").click()
        await expect(dan.locator("#me-checked-in")).to_have_text(
            "You are checked in: a place freed before the start can be yours.")
        assert await no_sideways_scroll(dan)  # no sideways scroll

        await desk.bring_to_front()
        await expect(panel.locator("#checkin-count")).to_have_text("1 of 2 registered checked in")
        checked = panel.locator("#checkin-list li")
        await expect(checked).to_have_text(["Ben Check in", "Cat Checked in", "Dan · waitlist 1 Checked in"])
        await expect(panel.get_by_role("button", name="Check in Ben")).to_be_visible()
        await desk.screenshot(path="/tmp/registration-desk-checkin.png", full_page=True)
        await panel.locator(".reg-checkin").screenshot(path="/tmp/registration-desk-checkin-panel.png")

        await desk.get_by_role("button", name="Start the tournament").click()
        await expect(desk.locator("#t-state")).to_have_text("live")
        await expect(panel.locator("#reg-dropped li")).to_have_text(["Ben"])
        await expect(desk.locator("#participants > li .name")).to_have_text(["Cat", "Dan"])

        await ben.bring_to_front()
        await ben.get_by_role("link", name="Open my page").click()
        await expect(ben.locator("#me-entry")).to_have_text("You are not playing: you did not check in before the start.")

    assert await statuses(api, tid) == {ids["Ben"]: "dropped", cat_id: "registered", "dan": "registered"}
    tournament = await api.ok("GET", f"/api/tournaments/{tid}")
    assert tournament["seed_order"] == [cat_id, "dan"]
    final = await api.ok("GET", f"/api/matches/{tid}-W1-1")
    assert final["participant_ids"] == [cat_id, "dan"]


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_approval_a_new_code_closing_and_the_organizers_check_in(api: Api) -> None:
    """With approval the players wait; the desk approves one, rejects one (asked first), and is
    told when approving past the cap; the public page is refused when full, with the old code
    after "Make a new code", and when closed; the organizer checks in a player while check-in is closed."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "LAN Cup"}, 201))["id"]
    view = await api.ok("PATCH", f"/api/tournaments/{tid}/registration", {"open": True, "cap": 1, "approval": True})
    link = f"/register/{tid}?code={view['code']}"
    async with browser_pages(api, 3, viewport=PHONE) as (desk, eve, fay):
        await desk.set_viewport_size(DESK)
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")
        panel = desk.locator("#t-registration")

        for page, name in ((eve, "Eve"), (fay, "Fay")):
            await register_on(page, link, name)
            await expect(page.locator("#reg-done-title")).to_have_text("Waiting for the organizer's approval")
        await fay.goto(link)
        await expect(fay.locator("#page-title")).to_have_text("Register: LAN Cup")  # her kept link reads the name
        await fay.get_by_label("Your name").fill("Gus")
        await fay.get_by_label("Player id (optional)").fill("gus")
        await fay.get_by_role("button", name="Register").click()
        await expect(fay.locator("#reg-done-title")).to_have_text("Waiting for the organizer's approval")

        await desk.bring_to_front()
        await expect(panel.locator("#reg-pending .name")).to_have_text(["Eve", "Fay", "Gus"])
        await panel.get_by_role("button", name="Approve Eve").click()
        await expect(desk.locator("#participants > li .name")).to_have_text(["Eve"])
        await panel.get_by_role("button", name="Reject Fay").click()
        dialog = desk.get_by_role("dialog", name="Reject Fay?")
        await expect(dialog).to_contain_text("Fay's registration is removed")
        await dialog.get_by_role("button", name="Reject Fay").click()
        await expect(panel.locator("#reg-pending .name")).to_have_text(["Gus"])
        await panel.get_by_role("button", name="Approve Gus").click()  # 1 place, taken, no waitlist
        await expect(panel.locator("#reg-entries-error")).to_contain_text("no waitlist")
        await expect(panel.locator("#reg-pending .name")).to_have_text(["Gus"])
        await desk.locator("#t-registration").screenshot(path="/tmp/registration-desk-pending.png")

        await panel.get_by_label("I approve each registration").uncheck()
        await panel.get_by_role("button", name="Save").click()
        await expect(panel.locator("#reg-summary")).to_have_text("Open · 1 of 1 places taken")
        await register_on(fay, link, "Hal")
        await expect(fay.locator("#reg-error")).to_have_text("The tournament is full (1 place) and has no waitlist.")

        await desk.bring_to_front()
        await panel.get_by_role("button", name="Make a new code").click()
        dialog = desk.get_by_role("dialog", name="Make a new registration code?")
        await expect(dialog).to_contain_text("stop working at once")
        await dialog.get_by_role("button", name="Make a new code").click()
        await expect(panel.locator("#reg-code")).not_to_have_text(view["code"])
        new_code = (await api.ok("GET", f"/api/tournaments/{tid}/registration"))["code"]
        await expect(panel.locator("#reg-code")).to_have_text(new_code)
        await register_on(fay, link, "Hal")  # the old link
        await expect(fay.locator("#reg-error")).to_contain_text(f"{view['code']} is not this tournament's registration code")

        await desk.bring_to_front()
        await panel.get_by_label("Players may register themselves").uncheck()
        await panel.get_by_role("button", name="Save").click()
        await expect(panel.locator("#reg-summary")).to_have_text("Closed · 1 of 1 places taken")
        await register_on(fay, f"/register/{tid}?code={new_code}", "Hal")
        await expect(fay.locator("#reg-error")).to_have_text("Registration is closed: ask the organizer.")

        await desk.bring_to_front()
        await panel.get_by_role("button", name="Open check-in").click()
        await panel.get_by_role("button", name="Close check-in").click()
        await expect(panel.locator("#checkin-state")).to_have_text("Check-in is closed: only you can check someone in.")
        await eve.bring_to_front()
        await eve.get_by_role("link", name="Open my page").click()
        await expect(eve.locator("#me-entry")).to_have_text("You are registered.")
        await expect(eve.locator("#me-checkin-closed")).to_have_text("Check-in is closed: ask the organizer.")
        await desk.bring_to_front()
        await panel.get_by_role("button", name="Check in Eve").click()
        await expect(panel.locator("#checkin-count")).to_have_text("1 of 1 registered checked in")
        await eve.bring_to_front()
        await expect(eve.locator("#me-checked-in")).to_have_text("You are checked in.")

    eve_id = (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"][0]["id"]
    assert await statuses(api, tid) == {eve_id: "registered", "gus": "pending"}


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_desk_takes_a_player_off_the_waitlist(api: Api) -> None:
    """One place, a waitlist of two: taking the first off (asked first) moves the second up."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "LAN Cup"}, 201))["id"]
    view = await api.ok("PATCH", f"/api/tournaments/{tid}/registration", {"open": True, "cap": 1, "waitlist": True})
    for name in ("Ann", "Ben", "Cat"):
        await api.ok("POST", f"/api/tournaments/{tid}/register", {"code": view["code"], "name": name}, 201, as_=None)
    async with browser_pages(api, viewport=DESK) as (desk,):
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")
        waitlist = desk.locator("#reg-waitlist li")
        await expect(waitlist).to_have_count(2)
        await desk.get_by_role("button", name="Take Ben off the waitlist").click()
        await desk.get_by_role("dialog", name="Take Ben off the waitlist?").get_by_role("button", name="Remove Ben").click()
        await expect(waitlist).to_have_count(1)
        await expect(waitlist.first).to_contain_text("Cat")
        await expect(waitlist.first).to_contain_text("place 1")
    waiting = (await api.ok("GET", f"/api/tournaments/{tid}/registration"))["waitlisted"]
    assert [(p["name"], p["place"]) for p in waiting] == [("Cat", 1)]
