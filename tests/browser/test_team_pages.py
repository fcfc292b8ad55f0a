"""Teams from the pages, in headless Chromium: rosters set from the desk (a member in two teams
refused and shown, nothing saved), who acts for a team, the members' cards on the links sheet, a
captain reporting from their link, a player refused with the server's reason, and a roster
override after the start, confirmed first."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages
from tests.conftest import Api

PHONE: ViewportSize = {"width": 390, "height": 844}


async def fill_roster(desk: Page, team: str, tag: str, members: list[tuple[str, str, str]]) -> None:
    """Open `team`'s roster editor and type `tag` and `members` (id, name, role), rows added as needed."""
    await desk.get_by_role("button", name=f"Roster of {team}").click()
    form = desk.get_by_role("form", name=f"Roster of {team}")
    await form.get_by_label("Tag (up to 8 characters)").fill(tag)
    for i, (member_id, name, role) in enumerate(members, start=1):
        if await form.get_by_label(f"Member {i} id").count() == 0:
            await form.get_by_role("button", name="Add a member").click()
        await form.get_by_label(f"Member {i} id").fill(member_id)
        await form.get_by_label(f"Member {i} name").fill(name)
        await form.get_by_label(f"Member {i} role").select_option(role)


async def team_of(api: Api, tid: str, pid: str) -> Any:
    participants = (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]
    return next(p for p in participants if p["id"] == pid)


@pytest.mark.gen_test(timeout=TIMEOUT_S * 3)
async def test_rosters_member_links_and_who_may_act_from_the_pages(api: Api) -> None:
    """The organizer sets Red's and Blue's rosters on the desk (Bo in both is refused, shown in
    the editor with what was typed, and nothing is saved), sets "captain only", starts and opens
    the sheet with the members' cards. Ann, Red's captain, reports from her link; Eve, a player
    of Blue, is refused with the server's reason in place of the buttons; the organizer makes
    Eve captain by an override (asked first), and then she confirms."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Team Cup", "game": "CS2"}, 201))["id"]
    for name in ("Red", "Blue"):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name, "id": name.lower()}, 201)
    await api.ok("PATCH", f"/api/tournaments/{tid}", {"team_actors": "any"})
    async with browser_pages(api, 4, viewport={"width": 1280, "height": 1000}) as (desk, sheet, ann, eve):
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")

        await fill_roster(desk, "Red", "RED", [("ann", "Ann", "captain"), ("bo", "Bo", "player"),
                                               ("cy", "Cy", "substitute")])
        await desk.get_by_role("button", name="Save the roster").click()
        red_line = desk.locator("#team-red")
        await expect(red_line).to_have_text("RED Ann (C), Bo, Cy (sub)")
        await expect(desk.get_by_role("form", name="Roster of Red")).to_have_count(0)
        assert (await team_of(api, tid, "red"))["team"]["members"] == [
            {"id": "ann", "name": "Ann", "role": "captain"}, {"id": "bo", "name": "Bo", "role": "player"},
            {"id": "cy", "name": "Cy", "role": "substitute"}]

        await fill_roster(desk, "Blue", "BLU", [("dee", "Dee", "captain"), ("bo", "Bo", "player")])
        blue_form = desk.get_by_role("form", name="Roster of Blue")
        await blue_form.get_by_role("button", name="Save the roster").click()
        await expect(desk.locator("#roster-error-blue")).to_contain_text(
            "Not saved: Bo (bo) is already on the roster of Red (red)")
        await expect(blue_form.get_by_label("Member 2 id")).to_have_attribute("aria-invalid", "true")
        await expect(blue_form.get_by_label("Member 1 name")).to_have_value("Dee")  # what was typed stays
        assert (await team_of(api, tid, "blue"))["team"] is None
        await desk.locator("#t-people").screenshot(path="/tmp/team-roster-refused.png")
        await blue_form.get_by_label("Member 2 id").fill("eve")
        await blue_form.get_by_label("Member 2 name").fill("Eve")
        await blue_form.get_by_role("button", name="Save the roster").click()
        await expect(desk.locator("#team-blue")).to_have_text("BLU Dee (C), Eve")
        assert [m["id"] for m in (await team_of(api, tid, "blue"))["team"]["members"]] == ["dee", "eve"]

        actors = desk.get_by_label("Who acts for a team (reports, confirms, checks in, vetoes)")
        await expect(actors).to_have_value("any")
        await actors.select_option("captain")
        await expect(actors).to_be_enabled()
        assert (await api.ok("GET", f"/api/tournaments/{tid}"))["team_actors"] == "captain"

        await desk.get_by_role("button", name="Start the tournament").click()
        await expect(desk.locator("#t-state")).to_have_text("live")
        await expect(desk.get_by_role("button", name="Roster of Red")).to_have_text("Roster (override)")

        await sheet.goto(f"/organize/{tid}/links?token={api.organizer}")
        cards = sheet.locator(".link-card")
        await expect(cards).to_have_count(7)  # Red, Blue, then 3 + 2 members
        await expect(sheet.locator("#with-members")).to_be_checked()
        await expect(sheet.locator(".links-team")).to_have_text(["Red (RED): 3 members", "Blue (BLU): 2 members"])
        ann_card = sheet.get_by_role("article", name="Ann — captain of Red")
        await expect(ann_card.locator(".link-qr svg")).to_have_count(1)
        await expect(ann_card).to_contain_text("No code to type")
        await expect(ann_card.locator(".link-code")).to_have_count(0)
        await expect(sheet.get_by_role("article", name="Eve — player of Blue")).to_be_visible()
        await sheet.screenshot(path="/tmp/team-links-sheet.png", full_page=True)
        # The links the sheet shows: unchecking and checking again mints them anew, and we keep those.
        await sheet.locator("#with-members").uncheck()
        await expect(cards).to_have_count(2)
        async with sheet.expect_response(lambda r: r.url.endswith(f"/api/tournaments/{tid}/links")) as minted:
            await sheet.locator("#with-members").check()
        await expect(cards).to_have_count(7)
        links = {link["subject"]: link for link in json.loads(await (await minted.value).text())["links"]}
        assert (links["ann"]["acts_for"], links["ann"]["code"]) == ("red", None)

        match_id = f"{tid}-W1-1"
        await api.ok("POST", f"/api/matches/{match_id}/start")
        await ann.bring_to_front()
        await ann.goto(links["ann"]["url"])
        await expect(ann.locator("#page-title")).to_have_text("Ann, captain of Red")
        await expect(ann.locator(".crumbs")).to_have_text("Playing for Red as Ann, captain, against Blue")
        await ann.get_by_label("Red's score").fill("13")
        await ann.get_by_label("Blue's score").fill("9")
        await ann.get_by_role("button", name="Report the result").click()
        await expect(ann.locator("#me-match")).to_contain_text("You reported: ")
        await ann.screenshot(path="/tmp/team-captain-me.png")
        assert (await api.ok("GET", f"/api/matches/{match_id}"))["state"] == "pending_result"

        await eve.set_viewport_size(PHONE)
        await eve.bring_to_front()
        await eve.goto(links["eve"]["url"])
        await expect(eve.locator("#page-title")).to_have_text("Eve, player of Blue")
        await eve.get_by_role("button", name="Confirm this result").click()
        refused = eve.locator("#acting-refused")
        await expect(refused).to_contain_text("You cannot act for Blue: only the captain of Blue may act for the team; "
                                              "a player may not.")
        await expect(eve.get_by_role("button", name="Confirm this result")).to_have_count(0)
        await eve.screenshot(path="/tmp/team-member-refused-phone.png", full_page=True)
        assert (await api.ok("GET", f"/api/matches/{match_id}"))["state"] == "pending_result"

        await desk.bring_to_front()
        await desk.get_by_role("button", name="Roster of Blue").click()
        override = desk.get_by_role("form", name="Roster of Blue")
        await expect(override).to_contain_text("The tournament has started")
        await expect(override.get_by_label("Member 2 id")).to_have_value("eve")
        await override.get_by_label("Member 1 role").select_option("player")
        await override.get_by_label("Member 2 role").select_option("captain")
        await override.get_by_role("button", name="Save the override…").click()
        dialog = desk.get_by_role("dialog", name="Override Blue's roster?")
        await expect(dialog).to_contain_text("Dee (player), Eve (captain)")
        await desk.screenshot(path="/tmp/team-override-confirm.png")
        await dialog.get_by_role("button", name="Override Blue's roster").click()
        await expect(desk.locator("#team-blue")).to_have_text("BLU Dee, Eve (C)")
        blue = await team_of(api, tid, "blue")
        assert [(m["id"], m["role"]) for m in blue["team"]["members"]] == [("dee", "player"), ("eve", "captain")]
        assert [[m["role"] for m in r["members"]] for r in blue["roster_history"]] == [["captain", "player"]]

        await eve.bring_to_front()
        await eve.get_by_role("button", name="Try again").click()
        await eve.get_by_role("button", name="Confirm this result").click()
        await expect(eve.locator("#me-standing")).to_contain_text("over")
        assert (await api.ok("GET", f"/api/matches/{match_id}"))["winner_id"] == "red"


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_cancelled_override_changes_nothing_and_the_editor_works_on_a_phone(api: Api) -> None:
    """After the start, keeping the roster in the confirmation sends nothing; the editor's rows
    fit a phone's width."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Team Cup"}, 201))["id"]
    for name in ("Red", "Blue"):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name, "id": name.lower()}, 201)
        await api.ok("PUT", f"/api/tournaments/{tid}/participants/{name.lower()}/roster",
                     {"tag": name[:3].upper(), "members": [{"id": f"{name.lower()}1", "name": f"{name} One",
                                                            "role": "captain"}]})
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "registration"})
    async with browser_pages(api, viewport=PHONE) as (desk,):
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")
        await desk.get_by_role("button", name="Roster of Red").click()
        form = desk.get_by_role("form", name="Roster of Red")
        await form.get_by_role("button", name="Add a member").click()
        await form.get_by_label("Member 2 id").fill("red2")
        await form.get_by_label("Member 2 name").fill("Red Two")
        width = await desk.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        await form.screenshot(path="/tmp/team-roster-phone.png")
        await form.get_by_role("button", name="Save the override…").click()
        await desk.get_by_role("dialog", name="Override Red's roster?").get_by_role("button", name="Keep it").click()
        await expect(form.get_by_label("Member 2 name")).to_have_value("Red Two")  # still open, as typed
        red = await team_of(api, tid, "red")
        assert (len(red["team"]["members"]), red["roster_history"]) == (1, [])
        await form.get_by_role("button", name="Remove member 2").click()
        await expect(form.get_by_label("Member 2 id")).to_have_count(0)
        await expect(form.get_by_label("Member 1 id")).to_have_value("red1")
