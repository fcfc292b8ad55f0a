"""Groups, then playoffs, from the pages, in headless Chromium (issue 14): the organizer creates
the tournament, pastes the players, starts two groups with the playoff on their word, and
starts it; the public page shows each group's table (who goes on marked) and the playoff."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, create_on_the_desk
from tests.conftest import Api
from tests.handlers.test_stages import play_out


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_groups_then_a_playoff_started_from_the_desk(api: Api) -> None:
    async with browser_pages(api, 2, viewport={"width": 1280, "height": 1000}) as (page, public):
        tid = await create_on_the_desk(page, api, "Spring Groups", "groups_playoffs")
        names = "\n".join(f"P{i},{i},p{i}" for i in range(1, 9))
        await page.get_by_label("One per line: name, or name,seed,id").fill(names)
        await page.get_by_role("button", name="Add them all").click()
        await expect(page.locator("#participants > li")).to_have_count(8)

        await page.get_by_label("Groups", exact=True).fill("2")
        await page.get_by_label("Go on from each group").fill("2")
        await page.get_by_label("Start the playoff as soon as every group match is decided").uncheck()
        await page.get_by_role("button", name="Start the tournament").click()
        await expect(page.locator("#t-state")).to_have_text("live")
        await expect(page.locator("#t-stage")).to_contain_text(
            "2 groups (round robin), the top 2 of each to a single elimination, cross-seeded.")
        await play_out(api, tid)  # the group stage, over REST
        await page.get_by_role("button", name="Start the playoff").click()
        await expect(page.locator("#t-stage")).to_contain_text("The playoff is on.")
        await expect(page.get_by_role("button", name="Start the playoff")).to_have_count(0)

        await public.goto(f"/tournaments/{tid}?token={api.organizer}")
        await expect(public.locator("#connection")).to_have_text("Connected")
        group_a = public.locator('table.standings[data-caption="Group A"]')
        await expect(group_a.locator("tbody tr")).to_have_count(4)
        await expect(group_a.locator("tr.qualifies")).to_have_count(2)
        await expect(group_a.locator("tbody tr").first).to_contain_text("P1")
        await expect(public.locator('[data-section="group-A"] h3')).to_have_text("Group A")
        await expect(public.locator('[data-section="winners"] h3')).to_have_text("Playoff")
        semis = public.locator('[data-section="winners"] .match-card')
        await expect(semis).to_have_count(3)  # two semifinals and the final
        await public.screenshot(path="/tmp/groups-public.png", full_page=True)
        await public.set_viewport_size({"width": 390, "height": 844})
        await public.screenshot(path="/tmp/groups-public-phone.png")
    await play_out(api, tid)
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "completed"
