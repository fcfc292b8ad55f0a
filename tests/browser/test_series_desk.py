"""The organizer runs series and map vetoes from /organize, in headless Chromium (issue 12)."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, tournament_with
from tests.conftest import Api
from tests.browser.harness import no_sideways_scroll

POOL = ["Ancient", "Anubis", "Dust2", "Inferno", "Mirage", "Nuke", "Train"]


def card_of(page: Page, mid: str) -> Locator:
    return page.locator(f'article[data-match-id="{mid}"]')


async def decide(card: Locator, game: int, first: int, second: int, names: tuple[str, str]) -> None:
    """Type a game's score into the card's result form and decide it."""
    await card.get_by_role("spinbutton", name=names[0], exact=True).fill(str(first))
    await card.get_by_role("spinbutton", name=names[1], exact=True).fill(str(second))
    await card.get_by_role("button", name=f"Decide game {game}", exact=True).click()


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_the_organizer_runs_a_best_of_three_with_a_veto_by_clicks(api: Api) -> None:
    """Start a 4-player single elimination as best of 3 (the final best of 5) with a map pool,
    run W1-1's veto turn by turn, score game 1 live, decide games 1 and 2: a 2-0 series."""
    tid = await tournament_with(api, ["Alice", "Bob", "Carol", "Dave"])
    mid = f"{tid}-W1-1"
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        await page.get_by_label("Seeding").select_option("given")
        await page.get_by_label("Games per match").select_option("Best of 3")
        await page.get_by_label("Other rounds (optional)").fill("w2 bo5")
        await page.get_by_label("Map pool (optional)").fill(", ".join(POOL))
        await page.get_by_label("Sides (optional)").fill("CT, T")
        await page.get_by_role("button", name="Start the tournament").click()
        await expect(page.locator("#t-state")).to_have_text("live")
        await expect(page.locator("#t-series")).to_have_text(f"Best of 3 · W2 best of 5 · Map veto: {', '.join(POOL)}")
        settings = (await api.ok("GET", f"/api/tournaments/{tid}"))["settings"]
        assert settings["series"] == {"best_of": 3, "play_all": False,
                                      "rounds": {"W2": {"best_of": 5, "play_all": False}}}
        assert (settings["veto"]["pool"], settings["veto"]["sides"], settings["veto"]["first"]) == (
            POOL, ["CT", "T"], "higher_seed")

        card = card_of(page, mid)
        await expect(card.locator(f"#format-now-{mid}")).to_have_text("Best of 3")
        await card.get_by_role("button", name="Start the map veto").click()
        turn = card.locator(".veto-turn")
        await expect(turn).to_have_text("Alice to ban a map")  # the higher seed starts
        await card.get_by_role("button", name="Ban Nuke").click()
        await expect(turn).to_have_text("Dave to ban a map")
        await expect(card.locator('.veto-map[data-map="Nuke"]')).to_have_attribute("data-state", "ban")
        await page.screenshot(path="/tmp/desk-veto.png", full_page=True)
        for button, after in [("Ban Train", "Alice to pick a map"), ("Pick Mirage", "Dave to choose a side on Mirage"),
                              ("Play CT", "Dave to pick a map"), ("Pick Inferno", "Alice to choose a side on Inferno"),
                              ("Play T", "Alice to ban a map"), ("Ban Ancient", "Dave to ban a map"),
                              ("Ban Anubis", "Maps: 1. Mirage, 2. Inferno, 3. Dust2")]:
            await card.get_by_role("button", name=button, exact=True).click()
            await expect(turn).to_have_text(after)
        await expect(card.locator(".veto-choice")).to_have_count(0)
        vetoed = (await api.ok("GET", f"/api/matches/{mid}"))["veto"]
        assert [(t["action"], t["by"], t["map"], t["side"]) for t in vetoed["taken"]] == [
            ("ban", "alice", "Nuke", None), ("ban", "dave", "Train", None), ("pick", "alice", "Mirage", None),
            ("side", "dave", "Mirage", "CT"), ("pick", "dave", "Inferno", None), ("side", "alice", "Inferno", "T"),
            ("ban", "alice", "Ancient", None), ("ban", "dave", "Anubis", None), ("decider", None, "Dust2", None)]

        await card.get_by_role("button", name="Start the match").click()
        await expect(card).to_have_attribute("data-state", "live")
        await expect(card.locator(f"#series-{mid}")).to_have_text("Best of 3 · Game 1 · Mirage")
        await expect(card.locator(f"#series-score-{mid}")).to_have_text("Series 0–0")
        for _ in range(3):
            await card.get_by_role("button", name="Alice: one point more").click()
        await card.get_by_role("button", name="Dave: one point more").click()
        await expect(card.locator(".score")).to_have_text(["3", "1"])
        await expect(card).to_have_attribute("data-saving", "0")  # every click written
        await expect(card.get_by_role("spinbutton", name="Alice")).to_have_value("3")  # the form follows game 1
        live = await api.ok("GET", f"/api/matches/{mid}")
        assert (live["games"][0]["scores"], live["scores"]) == ({"alice": 3, "dave": 1}, {"alice": 0, "dave": 0})

        await decide(card, 1, 13, 9, ("Alice", "Dave"))
        await expect(card.locator(f"#series-{mid}")).to_have_text("Best of 3 · Game 2 · Inferno")
        await expect(card.locator(f"#series-score-{mid}")).to_have_text("Series 1–0")
        await expect(card.locator(".score")).to_have_text(["0", "0"])  # game 2's live score
        await expect(card.locator('.games tr[data-game="1"] td')).to_have_text(["1", "Mirage", "13–9", "Alice"])
        await expect(card.locator('.games tr[data-game="2"] td')).to_have_text(["2", "Inferno", "0–0", "Playing"])
        await card.get_by_role("button", name="Dave: one point more").click()
        await expect(card.locator(".score")).to_have_text(["0", "1"])
        await expect(card).to_have_attribute("data-saving", "0")
        await page.screenshot(path="/tmp/desk-series.png", full_page=True)

        await decide(card, 2, 13, 5, ("Alice", "Dave"))
        finished = page.locator(f'.finished li[data-match-id="{mid}"] .summary')
        await expect(finished).to_have_text("W1-1 Alice 2 – 0 Dave (13–9, 13–5) · Alice won")
    done = await api.ok("GET", f"/api/matches/{mid}")
    assert (done["state"], done["winner_id"], done["scores"]) == ("completed", "alice", {"alice": 2, "dave": 0})
    assert [(g["map"], g["scores"], g["decided_by"]) for g in done["games"]] == [
        ("Mirage", {"alice": 13, "dave": 9}, "organizer"), ("Inferno", {"alice": 13, "dave": 5}, "organizer")]
    assert (await api.ok("GET", f"/api/matches/{tid}-W2-1"))["format"] == {"best_of": 5, "play_all": False}


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_scheduled_match_changes_format_and_vetoes_its_own_pool(api: Api) -> None:
    """An ad-hoc match's card makes it a best of 5; with no pool in the tournament, starting the
    veto says so and the card takes a pool for the match instead; after a change to best of 3
    the veto is cleared and the card starts it again with the same pool."""
    tid = await tournament_with(api, ["Alice", "Bob"])
    mid = (await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"]}, 201))["id"]
    async with browser_pages(api) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        card = card_of(page, mid)
        await expect(card.locator(f"#format-now-{mid}")).to_have_text("Best of 1")
        await expect(card.locator(f"#series-{mid}")).to_have_count(0)  # a single game says nothing more
        await card.get_by_label("Games in this match").select_option("Best of 5")
        await card.get_by_role("button", name="Change", exact=True).click()
        await expect(card.locator(f"#format-now-{mid}")).to_have_text("Best of 5")
        await expect(card.locator(f"#series-{mid}")).to_have_text("Best of 5")
        await expect(card.get_by_label("Games in this match")).to_have_value("bo5")
        assert (await api.ok("GET", f"/api/matches/{mid}"))["format"] == {"best_of": 5, "play_all": False}

        await card.get_by_role("button", name="Start the map veto").click()
        await expect(card.get_by_role("alert")).to_have_text(
            "this tournament has no map pool: give this match one (a list of maps)")
        await card.get_by_label("Map pool for this match").fill("Mirage, Inferno")
        await card.get_by_role("button", name="Start the veto with this pool").click()
        await expect(card.get_by_role("alert")).to_contain_text("5 games need at least 5 maps")
        await card.get_by_label("Map pool for this match").fill("Mirage, Inferno, Nuke, Ancient, Anubis, Vertigo")
        await card.get_by_label("Sides for this match (optional)").fill("Attack")
        await card.get_by_role("button", name="Start the veto with this pool").click()
        await expect(card.get_by_role("alert")).to_have_text("Sides: two names, comma separated (CT, T), or none.")
        await card.get_by_label("Sides for this match (optional)").fill("")
        await card.get_by_role("button", name="Start the veto with this pool").click()
        await expect(card.locator(".veto-turn")).to_have_text("Alice to ban a map")
        await expect(card.locator(".veto-map")).to_have_count(6)
        await expect(card.get_by_label("Map pool for this match")).to_have_count(0)
        await expect(card.locator(f"#err-{mid}")).to_be_empty()

        await card.get_by_role("button", name="Start the match").click()  # not before the veto is done
        await expect(card.get_by_role("alert")).to_have_text("the map veto is not finished")

        await card.get_by_role("button", name="Ban Mirage").click()
        await expect(card.locator(".veto-turn")).to_have_text("Bob to pick a map")
        await card.get_by_label("Games in this match").select_option("Best of 3")
        await card.get_by_role("button", name="Change", exact=True).click()
        await expect(card.locator(".hint")).to_have_text("The format changed, so the veto was cleared.")
        await expect(card.locator(".veto-map")).to_have_count(0)
        await card.get_by_role("button", name="Start the veto again").click()
        await expect(card.locator(".veto-turn")).to_have_text("Alice to ban a map")
        await expect(card.locator('.veto-map[data-map="Mirage"]')).to_have_attribute("data-state", "open")
        await expect(card.locator(".hint")).to_have_count(0)
    veto = (await api.ok("GET", f"/api/matches/{mid}"))["veto"]
    assert (veto["pool"], veto["sides"], [s["action"] for s in veto["steps"]]) == (
        ["Mirage", "Inferno", "Nuke", "Ancient", "Anubis", "Vertigo"], [], ["ban", "ban", "pick", "pick", "ban"])


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_the_start_form_refuses_what_it_cannot_read(api: Api) -> None:
    """Bad round overrides and a lone side are refused in the form; the server's 422 for an
    unknown round shows there too; nothing starts. Then the form starts it with vetoes the
    organizer begins and turns that wait when their time runs out: the settings say so, the
    desk too, and a card asks which player takes the first turn."""
    tid = await tournament_with(api, ["Alice", "Bob", "Carol", "Dave"])
    mid = f"{tid}-W1-1"
    async with browser_pages(api) as (page,):
        await page.bring_to_front()
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        form = page.locator("#t-start form")
        error = form.locator(".error")
        start = form.get_by_role("button", name="Start the tournament")
        await form.get_by_label("Other rounds (optional)").fill("GF bo5, final five")
        await start.click()
        await expect(error).to_have_text("Other rounds: “final five” is not like “GF bo5” or “W3 all 2”.")
        await form.get_by_label("Other rounds (optional)").fill("GF bo5, gf bo3")
        await start.click()
        await expect(error).to_have_text("Other rounds: GF is named twice.")
        await form.get_by_label("Other rounds (optional)").fill("")
        await form.get_by_label("Sides (optional)").fill("CT, T")
        await start.click()
        await expect(error).to_have_text("Sides and seconds per turn are for a map veto: name its map pool too.")
        await form.get_by_label("Sides (optional)").fill("")
        await form.get_by_label("Other rounds (optional)").fill("W9 bo5")
        await start.click()
        await expect(error).to_contain_text("W9")
        assert (await api.ok("GET", f"/api/tournaments/{tid}"))["state"] != "live"

        await form.get_by_label("Other rounds (optional)").fill("")
        await form.get_by_label("Games per match").select_option("Best of 3")
        await form.get_by_label("Map pool (optional)").fill(", ".join(POOL))
        await form.get_by_label("Who starts the veto").select_option("I choose, on each match")
        await form.get_by_label("Seconds per turn (optional)").fill("30")
        await form.get_by_label("When a turn’s time runs out").select_option("The turn waits for its player")
        await page.screenshot(path="/tmp/desk-start-form.png", full_page=True)
        await start.click()
        await expect(page.locator("#t-state")).to_have_text("live")
        veto = (await api.ok("GET", f"/api/tournaments/{tid}"))["settings"]["veto"]
        assert (veto["pool"], veto["first"], veto["turn_s"], veto["on_timeout"]) == (POOL, "organizer", 30, "wait")
        await expect(page.locator("#t-series")).to_have_text(
            f"Best of 3 · Map veto: {', '.join(POOL)} (you choose who starts; 30 s a turn, then it waits)")

        card = card_of(page, mid)
        await card.get_by_role("button", name="Start the map veto").click()
        await expect(card.get_by_role("alert")).to_have_text("first_id: name the player who starts the veto")
        chooser = card.get_by_role("group", name="Who takes the first turn?")
        await chooser.get_by_role("button", name="Dave starts").click()
        await expect(card.locator(".veto-turn")).to_contain_text("Dave to ban a map")
        await expect(chooser).to_have_count(0)
        await expect(card.locator(f"#err-{mid}")).to_be_empty()
    started = (await api.ok("GET", f"/api/matches/{mid}"))["veto"]
    assert (started["first"], started["chosen_by"], started["on_timeout"], started["turn_s"]) == (
        "dave", "organizer", "wait", 30)
    assert started["deadline"] is not None and started["taken"] == []


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_reported_game_and_its_dispute_on_the_desk(api: Api) -> None:
    """In a best of 3 the card says which game a player reported; when the opponent disputes it,
    the organizer resolves game 1 with a score, and game 2 goes live."""
    tid = await tournament_with(api, ["Alice", "Bob"])
    mid = (await api.ok("POST", f"/api/tournaments/{tid}/matches",
                        {"participant_ids": ["alice", "bob"], "format": {"best_of": 3}}, 201))["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    async with browser_pages(api) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        card = card_of(page, mid)
        await expect(card.get_by_role("button", name="Decide game 1", exact=True)).to_be_visible()
        await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 13, "bob": 9}, "game": 1},
                     as_=api.token("alice"))
        await expect(card.locator(f"#report-{mid}")).to_have_text("Alice reported game 1: 13–9.")
        await expect(card.get_by_role("button", name="Decide game 1 another way")).to_be_visible()
        await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "That was 9-13"}, 201, as_=api.token("bob"))

        await expect(card).to_contain_text("Bob disputes the result: “That was 9-13”")
        scores = card.get_by_role("group", name="Game 1 score")
        await expect(scores.get_by_role("spinbutton", name="Alice")).to_have_value("13")
        await scores.get_by_role("spinbutton", name="Alice").fill("9")
        await scores.get_by_role("spinbutton", name="Bob").fill("13")
        await card.get_by_label("Resolution (shown to the players)").fill("Checked the demo")
        await card.get_by_role("button", name="Resolve with this score").click()
        await expect(card).to_have_attribute("data-state", "live")
        await expect(card.locator(f"#series-{mid}")).to_have_text("Best of 3 · Game 2")
        await expect(card.locator(f"#series-score-{mid}")).to_have_text("Series 0–1")
    games = (await api.ok("GET", f"/api/matches/{mid}"))["games"]
    assert [(g["state"], g["scores"], g["winner_id"]) for g in games] == [
        ("completed", {"alice": 9, "bob": 13}, "bob"), ("live", {"alice": 0, "bob": 0}, None)]


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_veto_board_fits_a_phone(api: Api) -> None:
    """On a 390 px phone the start form and a card's veto board fit the width; a turn is taken by a tap."""
    tid = await tournament_with(api, ["Alice", "Bob", "Carol", "Dave"])
    mid = f"{tid}-W1-1"
    async with browser_pages(api, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(page.get_by_label("Map pool (optional)")).to_be_visible()
        assert await no_sideways_scroll(page)
        await api.ok("POST", f"/api/tournaments/{tid}/start",
                     {"seeding": "given", "series": {"best_of": 3}, "veto": {"pool": POOL, "sides": ["CT", "T"]}})
        card = card_of(page, mid)
        await expect(card.get_by_role("button", name="Start the map veto")).to_be_visible()
        await api.ok("POST", f"/api/matches/{mid}/start-veto")
        await expect(card.locator(".veto-map")).to_have_count(len(POOL))
        await card.get_by_role("button", name="Ban Train").tap()
        await expect(card.locator(".veto-turn")).to_have_text("Dave to ban a map")
        assert await no_sideways_scroll(page)  # no sideways scroll
        await page.screenshot(path="/tmp/desk-veto-phone.png", full_page=True)
