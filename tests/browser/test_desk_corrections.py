"""Corrections, forfeits, exports and the tournament's reset and cancel from /organize, in
headless Chromium (issue 14): each destructive step asks first, and a correction is previewed
by the server's dry run before it is applied."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, tournament_with
from tests.conftest import Api


async def decide(api: Api, mid: str, scores: dict[str, int]) -> None:
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": scores})


async def open_desk(page: Page, api: Api, tid: str) -> None:
    await page.goto(f"/organize/{tid}?token={api.organizer}")
    await expect(page.locator("#connection")).to_have_text("Connected")


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_correct_with_preview_undo_and_forfeit_from_the_desk(api: Api, tmp_path: Path) -> None:
    """W1-1 was entered the wrong way round and the final has begun: the preview says Dave wins
    instead and W2-1 (live) resets; applying asks again, then seats Dave in the final. Undo puts
    Alice back. Bob forfeits the final (asked first; "Keep it" changes nothing). The tables
    download as CSV."""
    tid = await tournament_with(api, ["Alice", "Bob", "Carol", "Dave"], start=True)
    await decide(api, f"{tid}-W1-1", {"alice": 2, "dave": 1})
    await decide(api, f"{tid}-W1-2", {"bob": 2, "carol": 0})
    await api.ok("POST", f"/api/matches/{tid}-W2-1/start")
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (page,):
        await open_desk(page, api, tid)
        finished = page.locator(f'.finished li[data-match-id="{tid}-W1-1"]')
        await expect(finished).to_contain_text("Alice won")
        await finished.get_by_role("button", name="Correct").click()
        form = page.get_by_role("form", name="Correct W1-1")
        await form.get_by_role("spinbutton", name="Alice").fill("1")
        await form.get_by_role("spinbutton", name="Dave").fill("2")
        await form.get_by_role("button", name="Preview the correction").click()
        preview = page.locator(f"#correct-preview-{tid}-W1-1")
        await expect(preview).to_contain_text("Dave wins instead of Alice.")
        await expect(preview).to_contain_text("Resets: W2-1 (Live) · W2-1 has begun")
        assert (await api.ok("GET", f"/api/matches/{tid}-W1-1"))["winner_id"] == "alice"  # a preview writes nothing
        await page.screenshot(path="/tmp/desk-correction-preview.png", full_page=True)

        await preview.get_by_role("button", name="Apply the correction").click()
        dialog = page.get_by_role("dialog", name="Reset a match that has begun?")
        await expect(dialog).to_contain_text("W2-1 (Live)")
        await page.screenshot(path="/tmp/desk-correction-confirm.png")
        await dialog.get_by_role("button", name="Reset W2-1 and apply").click()
        await expect(finished).to_contain_text("Dave won")
        final = page.locator(f'article[data-match-id="{tid}-W2-1"]')
        await expect(final).to_have_attribute("data-state", "scheduled")
        await expect(final).to_contain_text("Dave vs Bob")
        corrected = await api.ok("GET", f"/api/matches/{tid}-W1-1")
        assert (corrected["winner_id"], corrected["history"][-1]["why"]) == ("dave", "corrected")

        await finished.get_by_role("button", name="Correct").click()
        await form.get_by_role("button", name="Undo the last correction").click()
        await expect(preview).to_contain_text("Undoing the last correction: Alice wins instead of Dave.")
        await expect(preview).to_contain_text("Resets: W2-1 (Scheduled)")
        await preview.get_by_role("button", name="Undo it").click()  # nothing begun: no second question
        await expect(finished).to_contain_text("Alice won")
        await expect(final).to_contain_text("Alice vs Bob")
        assert (await api.ok("GET", f"/api/matches/{tid}-W1-1"))["winner_id"] == "alice"

        await final.get_by_role("button", name="Bob forfeits").click()
        dialog = page.get_by_role("dialog", name="Bob forfeits W2-1?")
        await expect(dialog).to_contain_text("Alice wins W2-1 and goes on in the bracket.")
        await dialog.get_by_role("button", name="Keep it").click()
        await expect(dialog).to_have_count(0)
        assert (await api.ok("GET", f"/api/matches/{tid}-W2-1"))["state"] == "scheduled"
        await final.get_by_role("button", name="Bob forfeits").click()
        await page.get_by_role("dialog").get_by_role("button", name="Bob forfeits").click()
        await expect(page.locator("#t-state")).to_have_text("completed")
        await expect(page.locator(f'.finished li[data-match-id="{tid}-W2-1"]')).to_contain_text("Alice won by forfeit")

        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Placements (CSV)").click()
        download = await download_info.value
        assert download.suggested_filename == "lan-cup-placements.csv"
        saved = tmp_path / "placements.csv"
        await download.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_text("utf-8-sig"))))
        assert [(r["place"], r["name"]) for r in rows][:2] == [("1", "Alice"), ("2", "Bob")]


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_reset_the_bracket_then_cancel_the_tournament_from_the_desk(api: Api) -> None:
    tid = await tournament_with(api, ["Alice", "Bob", "Carol"], "round_robin", start=True)
    async with browser_pages(api, viewport={"width": 390, "height": 844}) as (page,):
        await open_desk(page, api, tid)
        await expect(page.locator("#t-state")).to_have_text("live")
        await page.get_by_role("button", name="Reset the bracket").click()
        await page.screenshot(path="/tmp/desk-reset-phone.png")
        await page.get_by_role("dialog", name="Reset the bracket?").get_by_role("button", name="Reset the bracket").click()
        await expect(page.locator("#t-state")).to_have_text("registration")
        await expect(page.locator("article.org-match")).to_have_count(0)
        assert (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"] == []

        await page.get_by_role("button", name="Cancel the tournament").click()
        await page.get_by_role("dialog", name="Cancel LAN Cup?").get_by_role("button", name="Cancel the tournament").click()
        await expect(page.locator("#t-state")).to_have_text("cancelled")
        await expect(page.get_by_role("button", name="Cancel the tournament")).to_have_count(0)
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] == "cancelled"


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_rename_archive_and_delete_from_the_desk(api: Api) -> None:
    """Rename; archive (off the list, on the archived one); delete with the name typed, while the
    public page watches: it says the tournament was deleted."""
    tid = await tournament_with(api, ["Alice", "Bob"])
    async with browser_pages(api, 2, viewport={"width": 1280, "height": 1000}) as (page, public):
        await public.goto(f"/tournaments/{tid}?token={api.organizer}")
        await expect(public.locator("#connection")).to_have_text("Connected")
        await page.bring_to_front()
        await open_desk(page, api, tid)
        await page.get_by_role("button", name="Rename").click()
        rename = page.get_by_role("form", name="Rename the tournament")
        await rename.get_by_label("Name").fill("Friday Scrims")
        await rename.get_by_role("button", name="Save").click()
        await expect(page.locator("#page-title")).to_have_text("Organize: Friday Scrims")

        await page.get_by_role("button", name="Archive").click()
        await expect(page.locator("#t-archived")).to_have_text("Archived")
        await page.goto(f"/organize?token={api.organizer}")
        await expect(page.locator("#tournament-list")).to_have_count(0)
        await page.get_by_role("button", name="The archived tournaments").click()
        await expect(page.locator("#archived-list")).to_contain_text("Friday Scrims")
        await page.get_by_role("link", name="Friday Scrims").click()

        await page.get_by_role("button", name="Delete the tournament").click()
        dialog = page.get_by_role("dialog", name="Delete Friday Scrims?")
        yes = dialog.get_by_role("button", name="Delete it for good")
        await expect(yes).to_be_disabled()
        await dialog.get_by_label("Type “Friday Scrims” to confirm").fill("Friday")
        await expect(yes).to_be_disabled()
        await dialog.get_by_label("Type “Friday Scrims” to confirm").fill("Friday Scrims")
        await page.screenshot(path="/tmp/desk-delete.png")
        await yes.click()
        await expect(page).to_have_url(re.compile(r"/organize$"))
        await public.bring_to_front()
        await expect(public.locator("#tournament-gone")).to_have_text("“Friday Scrims” was deleted by its organizer.")
    assert (await api.get(f"/api/tournaments/{tid}"))[0] == 404


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_open_registration_and_an_ad_hoc_match_from_the_desk(api: Api) -> None:
    """draft -> registration by a click; an ad-hoc best of 3 between two participants, created
    from the matches panel (a refusal first: the same player twice), then run from its card."""
    tid = await tournament_with(api, ["Alice", "Bob", "Carol"])
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (page,):
        await open_desk(page, api, tid)
        await expect(page.locator("#t-state")).to_have_text("draft")
        await page.get_by_role("button", name="Open registration").click()
        await expect(page.locator("#t-state")).to_have_text("registration")
        await expect(page.get_by_role("button", name="Open registration")).to_have_count(0)

        await page.get_by_role("button", name="New ad-hoc match").click()
        form = page.get_by_role("form", name="New ad-hoc match")
        await form.get_by_label("Player 1").select_option(label="Bob")
        await form.get_by_label("Player 2").select_option(label="Bob")
        await form.get_by_role("button", name="Create the match").click()
        await expect(page.locator("#adhoc-error")).to_contain_text("two different participants")
        await form.get_by_label("Player 2").select_option(label="Carol")
        await form.get_by_label("Label (optional)").fill("Show match")
        await form.get_by_label("Games").select_option("3")
        await form.get_by_role("button", name="Create the match").click()
        card = page.locator("article.org-match", has_text="Show match")
        await expect(card).to_contain_text("Bob vs Carol")
        await expect(card.get_by_role("button", name="Cancel the match")).to_be_visible()  # not a bracket match
        await card.get_by_role("button", name="Start the match").click()
        await expect(card).to_have_attribute("data-state", "live")
    matches = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    assert [(m["label"], m["participant_ids"], m["format"]["best_of"], m["state"]) for m in matches] == [
        ("Show match", ["bob", "carol"], 3, "live")]


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_undo_a_correction_that_ended_a_series_from_the_desk(api: Api) -> None:
    """A best of 3 at 1-1 with game 3 live is ended 2-0 by correcting game 2; the desk's Undo
    previews "played on from where it was" and puts the match back live, game 3 at 5-3."""
    tid = await tournament_with(api, ["Alice", "Bob"])
    match = await api.ok("POST", f"/api/tournaments/{tid}/matches",
                         {"participant_ids": ["alice", "bob"], "format": {"best_of": 3}}, 201)
    mid = match["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 13, "bob": 9}, "game": 1})
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 9, "bob": 13}, "game": 2})
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 5, "bob": 3}, "game": 3})
    await api.ok("POST", f"/api/matches/{mid}/correct", {"game": 2, "scores": {"alice": 13, "bob": 11}})
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (page,):
        await open_desk(page, api, tid)
        finished = page.locator(f'.finished li[data-match-id="{mid}"]')
        await expect(finished).to_contain_text("Alice won")
        await finished.get_by_role("button", name="Correct").click()
        await page.locator(f"#correction-{mid}").get_by_role("button", name="Undo the last correction").click()
        preview = page.locator(f"#correct-preview-{mid}")
        await expect(preview).to_contain_text("The series is played on from where it was (Alice no longer wins).")
        await preview.get_by_role("button", name="Undo it").click()
        card = page.locator(f'article[data-match-id="{mid}"]')
        await expect(card).to_have_attribute("data-state", "live")
        back = await api.ok("GET", f"/api/matches/{mid}")
        assert (back["state"], back["winner_id"], back["games"][-1]["scores"]) == ("live", None, {"alice": 5, "bob": 3})
