"""Groups, then playoffs, from the pages, in headless Chromium (issue 14): the organizer creates
the tournament, pastes the players, starts two groups with the playoff on their word, and
starts it; the public page shows each group's table (who goes on marked) and the playoff. The
start form gives the groups a map pool of their own (issue 12), on a desk and on a phone."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, create_on_the_desk, tournament_with
from tests.browser.harness import no_sideways_scroll
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


GROUP_POOL = ["Ascent", "Bind", "Haven", "Icebox", "Lotus", "Split", "Sunset"]
PLAYOFF_POOL = ["Mirage", "Inferno", "Nuke"]


async def fill_the_groups_pool(page: Page) -> None:
    """Tick the groups' own pool on the start form and fill its veto."""
    await page.get_by_label("A map pool of its own for the groups").check()
    await page.get_by_label("Map pool of the groups").fill(", ".join(GROUP_POOL))
    await page.get_by_label("Sides in the groups (optional)").fill("Attack, Defense")
    await page.get_by_label("Who starts a group veto").select_option("A coin flip")


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_the_start_form_gives_the_groups_a_map_pool_of_their_own(api: Api) -> None:
    """The groups' own pool is off by default; ticked, it asks for its maps (refused in the form
    without them) and leaves the other boxes as they were; the start records it beside the
    tournament's pool (the playoff's), as REST reads back, and a group match vetoes it."""
    tid = await tournament_with(api, [f"P{i}" for i in range(1, 9)], "groups_playoffs")
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        form = page.locator("#t-start form")
        own = page.get_by_label("A map pool of its own for the groups")
        await expect(own).not_to_be_checked()
        await expect(page.get_by_label("Map pool of the groups")).to_have_count(0)
        await page.get_by_label("Groups", exact=True).fill("2")
        await page.get_by_label("Start the playoff as soon as every group match is decided").uncheck()
        await own.check()
        await expect(page.get_by_label("Start the playoff as soon as every group match is decided")).not_to_be_checked()
        await expect(page.locator("#g-veto-own-hint")).to_have_text(
            "The playoff vetoes the map pool under “Games and map veto”.")
        await form.get_by_role("button", name="Start the tournament").click()
        await expect(form.locator(".error")).to_have_text(
            "Map pool of the groups: name its maps, comma separated, or untick the groups’ own pool.")
        assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "draft"

        await fill_the_groups_pool(page)
        await page.get_by_label("Other rounds (optional)").fill("W bo3")
        await page.get_by_label("Map pool (optional)").fill(", ".join(PLAYOFF_POOL))
        await page.get_by_label("Sides (optional)").fill("CT, T")
        await page.locator("#t-start").screenshot(path="/tmp/desk-start-groups-pool.png")
        await form.get_by_role("button", name="Start the tournament").click()
        await expect(page.locator("#t-state")).to_have_text("live")
        await expect(page.locator("#t-stage")).to_contain_text(
            f"Map veto in the groups: {', '.join(GROUP_POOL)} (a coin flip starts).")
        await expect(page.locator("#t-series")).to_have_text(f"Best of 1 · W best of 3 · Playoff map veto: "
                                                             f"{', '.join(PLAYOFF_POOL)}")
    settings = (await api.ok("GET", f"/api/tournaments/{tid}"))["settings"]
    assert (settings["groups"]["veto"]["pool"], settings["groups"]["veto"]["sides"],
            settings["groups"]["veto"]["first"]) == (GROUP_POOL, ["Attack", "Defense"], "coin_flip")
    assert (settings["veto"]["pool"], settings["veto"]["sides"]) == (PLAYOFF_POOL, ["CT", "T"])
    assert settings["groups"]["auto_playoff"] is False
    vetoed = await api.ok("POST", f"/api/matches/{tid}-A_R1-1/start-veto")
    assert vetoed["veto"]["pool"] == GROUP_POOL


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_groups_pool_fits_a_phone(api: Api) -> None:
    """On a 390 x 844 phone the start form with the groups' pool open has no sideways scroll (the
    playoff seeding's options are short: the long one used to widen the whole group stage)."""
    tid = await tournament_with(api, [f"P{i}" for i in range(1, 9)], "groups_playoffs")
    async with browser_pages(api, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        await fill_the_groups_pool(page)
        await page.get_by_label("Map pool (optional)").fill(", ".join(PLAYOFF_POOL))
        await expect(page.get_by_label("When a group turn’s time runs out")).to_be_visible()
        assert await no_sideways_scroll(page)
        await page.locator("#g-veto").scroll_into_view_if_needed()
        await page.screenshot(path="/tmp/desk-start-groups-pool-phone.png")
        await page.locator("#t-start").screenshot(path="/tmp/desk-start-groups-pool-phone-form.png")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_redraw_keeps_the_start_forms_ticks(api: Api) -> None:
    """A box the organizer unticked stays unticked, and the server's refusal of the start stays
    shown, when the desk redraws the start form for a participant added meanwhile (the groups'
    numbers change with the count)."""
    tid = await tournament_with(api, [f"P{i}" for i in range(1, 9)], "groups_playoffs")
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        auto = page.get_by_label("Start the playoff as soon as every group match is decided")
        await auto.uncheck()
        await page.get_by_label("Other rounds (optional)").fill("W9 bo5")
        await page.locator("#t-start form").get_by_role("button", name="Start the tournament").click()
        refusal = page.locator("#start-error")
        await expect(refusal).to_contain_text("W9")
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "P9", "id": "p9"}, 201)
        await expect(page.locator("#t-people")).to_contain_text("P9")
        await expect(auto).not_to_be_checked()
        await expect(refusal).to_contain_text("W9")
