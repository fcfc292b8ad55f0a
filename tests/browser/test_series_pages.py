"""Series and map vetoes on the player page, the scoreboard and the overlay, in headless Chromium (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, spectator, tournament_with
from tests.conftest import Api
from tests.browser.harness import no_sideways_scroll

POOL = ["Ancient", "Anubis", "Dust2", "Inferno", "Mirage", "Nuke", "Train"]


async def best_of_three(api: Api) -> str:
    """An ad-hoc best of 3 of Alice and Bob, with a veto (Alice first, sides CT/T) under way."""
    tid = await tournament_with(api, ["Alice", "Bob"])
    mid: str = (await api.ok("POST", f"/api/tournaments/{tid}/matches",
                             {"participant_ids": ["alice", "bob"], "format": {"best_of": 3}}, 201))["id"]
    await api.ok("POST", f"/api/matches/{mid}/start-veto",
                 {"pool": POOL, "sides": ["CT", "T"], "first": "organizer", "first_id": "alice"})
    return mid


async def bob(api: Api, mid: str, body: dict[str, Any]) -> None:
    await api.ok("POST", f"/api/matches/{mid}/veto", body, as_=api.token("bob"))


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_player_takes_veto_turns_and_reports_game_by_game(api: Api) -> None:
    """/play on a phone: Alice takes her veto turns by clicks (Bob over REST), then reports game 1,
    which Bob confirms; her page moves on to game 2 on the second map, with the games listed."""
    mid = await best_of_three(api)
    async with browser_pages(api, viewport={"width": 390, "height": 844}, is_mobile=True) as (page,):
        await page.goto(f"/play/{mid}?token={api.token('alice')}")
        await expect(page.get_by_role("heading", name="Your turn in the map veto")).to_be_visible()
        await expect(page.get_by_text("The map veto comes first")).to_be_visible()
        await page.get_by_role("button", name="Ban Nuke").click()
        await expect(page.locator(".veto-turn")).to_have_text("Bob to ban a map")
        await expect(page.get_by_role("button", name="Ban Train")).to_have_count(0)  # not her turn
        await bob(api, mid, {"map": "Train"})
        await page.get_by_role("button", name="Pick Mirage").click()
        await expect(page.locator(".veto-turn")).to_have_text("Bob to choose a side on Mirage")
        await bob(api, mid, {"side": "CT"})
        await bob(api, mid, {"map": "Inferno"})
        await page.get_by_role("button", name="Play T").click()
        await page.get_by_role("button", name="Ban Ancient").click()
        assert await no_sideways_scroll(page)  # the board fits
        await bob(api, mid, {"map": "Anubis"})
        await expect(page.locator(".veto-turn")).to_have_text("Maps: 1. Mirage, 2. Inferno, 3. Dust2")
        await expect(page.locator('.veto-map[data-map="Nuke"]')).to_have_attribute("data-state", "ban")

        await api.ok("POST", f"/api/matches/{mid}/start")
        await expect(page.get_by_test_id("series-line")).to_have_text("Best of 3 · Game 1 · Mirage")
        await page.get_by_label("Alice's score").fill("13")
        await page.get_by_label("Bob's score").fill("9")
        await page.get_by_role("button", name="Report game 1").click()
        await expect(page.get_by_text("You reported: game 1, Alice 13, Bob 9")).to_be_visible()
        await api.ok("POST", f"/api/matches/{mid}/confirm", as_=api.token("bob"))
        await expect(page.get_by_role("button", name="Report game 2")).to_be_visible()
        await expect(page.get_by_test_id("series-line")).to_have_text("Best of 3 · Game 2 · Inferno")
        await expect(page.get_by_test_id("series-0")).to_have_text("1 won")
        await expect(page.locator(".games tbody tr")).to_have_count(2)
        await expect(page.locator('.games tr[data-game="1"] td')).to_have_text(["1", "Mirage", "13–9", "Alice"])
        assert await no_sideways_scroll(page)


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_overlay_shows_the_veto_then_series_game_and_map(api: Api) -> None:
    """/overlay: the veto strip while it runs; then the format, game and map above, the games
    won beside each live game score; the scoreboard page shows the same series."""
    mid = await best_of_three(api)
    async with browser_pages(api, 2) as (overlay, board):
        await overlay.goto(f"/overlay/match/{mid}?token={spectator(api)}")
        await board.goto(f"/matches/{mid}?token={spectator(api)}")
        await overlay.bring_to_front()
        await expect(overlay.get_by_test_id("overlay-veto")).to_be_visible()
        await expect(overlay.locator(".overlay-turn")).to_have_text("Alice bans")
        await api.ok("POST", f"/api/matches/{mid}/veto", {"map": "Nuke"}, as_=api.token("alice"))
        await expect(overlay.locator('.overlay-map[data-map="Nuke"]')).to_have_class("overlay-map ban")
        for turn in (("bob", "map", "Train"), ("alice", "map", "Mirage"), ("bob", "side", "CT"),
                     ("bob", "map", "Inferno"), ("alice", "side", "T"), ("alice", "map", "Ancient"),
                     ("bob", "map", "Anubis")):
            await api.ok("POST", f"/api/matches/{mid}/veto", {turn[1]: turn[2]}, as_=api.token(turn[0]))
        await expect(overlay.get_by_test_id("overlay-veto")).to_have_count(0)
        await api.ok("POST", f"/api/matches/{mid}/start")
        await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 13, "bob": 11}})
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 3, "bob": 5}})
        await expect(overlay.get_by_test_id("overlay-line")).to_have_text("Best of 3 · Game 2 · Inferno")
        await expect(overlay.locator(".overlay-series")).to_have_text(["1", "0"])
        await expect(overlay.locator(".overlay-score")).to_have_text(["3", "5"])
        await overlay.screenshot(path="/tmp/overlay-series.png")

        await board.bring_to_front()
        await expect(board.get_by_test_id("series-line")).to_have_text("Best of 3 · Game 2 · Inferno")
        await expect(board.locator(".side-score")).to_have_text(["3", "5"])
        await expect(board.locator('.veto-map[data-map="Dust2"]')).to_have_attribute("data-state", "decider")
        await board.screenshot(path="/tmp/scoreboard-series.png", full_page=True)
        await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 13, "bob": 7}})
        await expect(board.locator(".side-score")).to_have_text(["2", "0"])
        await expect(board.locator(".side.winner .side-name")).to_have_text("Alice")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_scores_updated_entry_patches_the_match_held(api: Api) -> None:
    """A tournament room's scores_updated carries what each score changed, not the match:
    the pages' MatchBook sets the game's scores (a series) or the match's, and the match's
    version and seq, only for a match it holds at an older version."""
    async with browser_pages(api) as (page,):
        await page.goto("/")
        m1, m2, m9 = await page.evaluate("""async () => {
          const { MatchBook, applyTournamentEvent } = await import("/static/js/matches.js");
          const book = new MatchBook();
          book.reset([
            {id: "m1", version: 4, seq: 9, scores: {a: 1, b: 0},
             games: [{number: 1, scores: {a: 13, b: 2}}, {number: 2, scores: {a: 0, b: 0}}]},
            {id: "m2", version: 7, seq: 3, scores: {c: 0, d: 0}, games: []}]);
          applyTournamentEvent(book, null, {type: "scores_updated", data: {updates: [
            {match_id: "m1", game: 2, scores: {a: 3, b: 5}, version: 5, updated_at: "t", match_seq: 10},
            {match_id: "m2", scores: {c: 2, d: 1}, version: 7, updated_at: "t", match_seq: 3},
            {match_id: "m9", scores: {e: 1}, version: 1, updated_at: "t", match_seq: 1}]}});
          return [book.get("m1"), book.get("m2"), book.get("m9") ?? null];
        }""")
    assert (m1["version"], m1["seq"], m1["updated_at"], m1["scores"]) == (5, 10, "t", {"a": 1, "b": 0})
    assert [g["scores"] for g in m1["games"]] == [{"a": 13, "b": 2}, {"a": 3, "b": 5}]
    assert m2["scores"] == {"c": 0, "d": 0}  # version 7 is not newer than the one held
    assert m9 is None  # not held: nothing to patch (its snapshot comes with its match_started)
