"""Participants from /organize, in headless Chromium (issue 14): add many by pasting or from a
CSV file (bad rows named, nothing added), edit, remove (asked first), re-seed by arrows and by
drag and drop, and once started rename and disqualify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages
from tests.conftest import Api


async def names_in_order(api: Api, tid: str) -> list[tuple[str, Any]]:
    participants = (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]
    return [(p["name"], p["seed"]) for p in participants]


def rows(page: Page) -> Any:
    return page.locator("#participants > li .name")


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_bulk_add_edit_remove_and_reseed_from_the_desk(api: Api, tmp_path: Path) -> None:
    tid = (await api.ok("POST", "/api/tournaments", {"name": "LAN Cup"}, 201))["id"]
    async with browser_pages(api, viewport={"width": 1280, "height": 1100}) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(page.locator("#connection")).to_have_text("Connected")

        await page.get_by_label("One per line: name, or name,seed,id").fill('Alice\nBob,3\n"Zoë, the Great"\n\nDave\n')
        await page.get_by_role("button", name="Add them all").click()
        await expect(rows(page)).to_have_text(["Alice", "Bob", "Zoë, the Great", "Dave"])
        assert await names_in_order(api, tid) == [("Alice", None), ("Bob", 3), ("Zoë, the Great", None), ("Dave", None)]

        await page.get_by_label("One per line: name, or name,seed,id").fill("Eve\nalice\nFrank,0\n")
        await page.get_by_role("button", name="Add them all").click()
        refused = page.locator("#bulk-rows li")
        await expect(refused).to_have_count(2)
        await expect(refused.nth(0)).to_contain_text("Row 2: the name")
        await expect(refused.nth(1)).to_contain_text("Row 3: seed")
        await expect(page.locator("#bulk-error")).to_contain_text("nothing was added")
        await expect(rows(page)).to_have_count(4)  # Eve was good, but nothing is added
        await page.locator("#t-people").screenshot(path="/tmp/desk-bulk-refused.png")

        sheet = tmp_path / "signups.csv"
        sheet.write_text("name,id\nEve,eve\nFrank,frank\n", encoding="utf-8")
        await page.get_by_label("One per line: name, or name,seed,id").fill("")
        await page.get_by_label("Or a CSV file").set_input_files(str(sheet))
        await expect(page.locator("#bulk-chosen")).to_contain_text("signups.csv: 3 lines")
        await page.get_by_role("button", name="Add them all").click()
        await expect(rows(page)).to_have_count(6)
        assert {p["id"] for p in (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]} >= {
            "eve", "frank"}

        await page.get_by_role("button", name="Edit Bob").click()
        form = page.get_by_role("form", name="Edit Bob")
        await form.get_by_label("Name").fill("Bobby")
        await form.get_by_label("Seed").fill("2")
        await form.get_by_role("button", name="Save").click()
        await expect(rows(page).nth(1)).to_have_text("Bobby")
        assert ("Bobby", 2) in await names_in_order(api, tid)

        await page.get_by_role("button", name="Remove Dave").click()
        dialog = page.get_by_role("dialog", name="Remove Dave?")
        await dialog.get_by_role("button", name="Remove Dave").click()
        await expect(rows(page)).to_have_text(["Alice", "Bobby", "Zoë, the Great", "Eve", "Frank"])

        await page.get_by_role("button", name="Re-seed").click()  # seeded first (Bobby 2), then the rest
        await expect(rows(page)).to_have_text(["Bobby", "Alice", "Zoë, the Great", "Eve", "Frank"])
        await page.get_by_role("button", name="Move Frank up").click()
        await page.get_by_role("button", name="Move Alice up").click()
        await expect(rows(page)).to_have_text(["Alice", "Bobby", "Zoë, the Great", "Frank", "Eve"])
        await page.locator('#participants li[data-participant-id="eve"]').drag_to(
            page.locator("#participants li").first)
        await expect(rows(page)).to_have_text(["Eve", "Alice", "Bobby", "Zoë, the Great", "Frank"])
        await page.locator("#t-people").screenshot(path="/tmp/desk-reseed.png")
        await page.get_by_role("button", name="Save the seeding").click()
        await expect(page.get_by_role("button", name="Re-seed")).to_be_visible()
        seeded = sorted(await names_in_order(api, tid), key=lambda p: p[1])
        assert [name for name, _ in seeded] == ["Eve", "Alice", "Bobby", "Zoë, the Great", "Frank"]
        assert [seed for _, seed in seeded] == [1, 2, 3, 4, 5]


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_rename_and_disqualify_once_started(api: Api) -> None:
    tid = (await api.ok("POST", "/api/tournaments", {"name": "LAN Cup"}, 201))["id"]
    await api.ok("POST", f"/api/tournaments/{tid}/participants/bulk", {"csv": "name,id\nAlice,alice\nBob,bob\nCarol,carol\nDave,dave"}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "registration"})
    async with browser_pages(api, viewport={"width": 390, "height": 844}) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        await expect(page.get_by_role("button", name="Remove Alice")).to_have_count(0)  # started: no removing

        await page.get_by_role("button", name="Edit Carol").click()
        await page.get_by_role("form", name="Edit Carol").get_by_label("Name").fill("Caroline")
        await page.get_by_role("form", name="Edit Carol").get_by_role("button", name="Save").click()
        await expect(page.locator(f'article[data-match-id="{tid}-W1-2"]')).to_contain_text("Caroline")

        await page.get_by_role("button", name="Disqualify Dave").click()
        dialog = page.get_by_role("dialog", name="Disqualify Dave?")
        await dialog.get_by_label("Reason (optional, kept in the record)").fill("left the venue")
        await page.screenshot(path="/tmp/desk-disqualify-phone.png")
        await dialog.get_by_role("button", name="Disqualify Dave").click()
        await expect(page.locator('#participants li[data-participant-id="dave"] .dq')).to_have_text("Disqualified")
        await expect(page.locator(f'.finished li[data-match-id="{tid}-W1-1"]')).to_contain_text("Alice won by forfeit")
    tournament = await api.ok("GET", f"/api/tournaments/{tid}")
    assert [(d["participant_id"], d["reason"]) for d in tournament["disqualified"]] == [("dave", "left the venue")]
