"""The dashboards in a real headless Chromium against the app on a real socket."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, WebSocket, expect

from handlers.services import Services
from tests.browser.harness import chromium, no_sideways_scroll
from tests.conftest import Api
from tournament.roles import Role

TIMEOUT_S = 30


@contextlib.asynccontextmanager
async def browser_pages(api: Api, count: int = 1, **context: Any) -> AsyncIterator[list[Page]]:
    """Fresh pages of one browser; a script error on any of them fails the test."""
    errors: list[str] = []
    async with chromium() as browser:
        ctx = await browser.new_context(base_url=api.base_url, **context)
        pages = [await ctx.new_page() for _ in range(count)]
        for page in pages:
            page.on("pageerror", lambda e: errors.append(str(e)))
        yield pages
        await ctx.close()
    assert errors == []


async def tournament_with(api: Api, names: list[str], fmt: str = "single_elimination", *,
                          start: bool = False) -> str:
    """A tournament of `names` (ids are the names in lower case, seeded in order)."""
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "LAN Cup", "game": "Quake", "format": fmt}, 201))["id"]
    for seed, name in enumerate(names, start=1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants",
                     {"name": name, "id": name.lower(), "seed": seed}, 201)
    if start:
        await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    return tid


async def create_on_the_desk(page: Page, api: Api, name: str, fmt: str) -> str:
    """Create a tournament from /organize's form; its id, once its desk is connected."""
    await page.goto(f"/organize?token={api.organizer}")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Format").select_option(fmt)
    await page.get_by_role("button", name="Create the tournament").click()
    await expect(page).to_have_url(re.compile(r"/organize/t_\w+$"))
    tid = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#connection")).to_have_text("Connected")
    return tid


async def live_match(api: Api) -> dict[str, Any]:
    """A live ad-hoc match of Alice and Bob."""
    tid = await tournament_with(api, ["Alice", "Bob"])
    match = await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"]}, 201)
    started: dict[str, Any] = await api.ok("POST", f"/api/matches/{match['id']}/start")
    return started


def spectator(api: Api) -> str:
    return api.token("viewer", Role.SPECTATOR)


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_rest_score_shows_on_the_match_page_and_the_overlay(api: Api) -> None:
    """A score posted over REST reaches the scoreboard and the OBS overlay; the token leaves the URL."""
    match = await live_match(api)
    mid, token = match["id"], spectator(api)
    async with browser_pages(api, 2) as (board, overlay):
        await board.goto(f"/matches/{mid}?token={token}")
        await overlay.goto(f"/overlay/match/{mid}?token={token}")
        await expect(board.locator("#connection")).to_have_text("Connected")
        await expect(overlay.locator("body")).to_have_attribute("data-connection", "connected")
        assert "token" not in board.url and "token" not in overlay.url

        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 3, "bob": 1}})

        await expect(board.locator(".side-0 .side-name")).to_have_text("Alice")
        await expect(board.locator(".side-score")).to_have_text(["3", "1"])
        await expect(board.locator("#announcer")).to_have_text("Alice 3, Bob 1")
        await expect(overlay.locator(".overlay-row")).to_have_text([re.compile(r"Alice\s*3"), re.compile(r"Bob\s*1")])
        background = await overlay.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgba(0, 0, 0, 0)"  # transparent for OBS


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_completed_match_moves_the_winner_on_the_bracket_page(api: Api) -> None:
    """On the live bracket the winner of W1-1 appears in W2-1 as soon as the result is in;
    projector mode scales the whole bracket into the screen."""
    tid = await tournament_with(api, ["Alice", "Bob", "Carol", "Dave"], start=True)
    async with browser_pages(api, viewport={"width": 1280, "height": 720}) as (page,):
        await page.goto(f"/tournaments/{tid}?token={spectator(api)}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        final_slot = page.locator('[data-key="W2-1"] .player').first
        await expect(final_slot).to_have_text("Winner of W1-1")

        await api.ok("POST", f"/api/matches/{tid}-W1-1/start")
        await expect(page.locator('#in-play [data-match-id$="W1-1"]')).to_contain_text("Live")
        await api.ok("POST", f"/api/matches/{tid}-W1-1/result", {"scores": {"alice": 2, "dave": 0}})

        await expect(page.locator('[data-key="W1-1"] .player.winner .name')).to_have_text("Alice")
        await expect(page.locator('[data-key="W1-1"]')).to_have_attribute("data-state", "completed")
        await expect(final_slot.locator(".name")).to_have_text("Alice")
        await expect(page.locator("#in-play")).to_contain_text("No match is being played")

        await page.get_by_role("button", name="Projector mode").click()
        await expect(page.locator("body")).to_have_class(re.compile("projector"))
        assert "projector=1" in page.url
        box = await page.locator("#stage").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280
        assert box["y"] + box["height"] <= 720

        await page.keyboard.press("Escape")  # the keyboard leaves projector mode and opens a match
        await expect(page.locator("body")).not_to_have_class(re.compile("projector"))
        await page.locator('a[data-key="W1-1"]').focus()
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(rf"/matches/{tid}-W1-1$"))
        await expect(page.locator(".side-flag")).to_have_text("Winner")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_bracket_page_shows_every_placement_when_it_ends(api: Api) -> None:
    """An 8-player single elimination played out: the page lists all 8 with their shared places
    (3rd-4th, 5th-8th), live as the final ends."""
    names = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"]
    tid = await tournament_with(api, names, start=True)
    async with browser_pages(api, viewport={"width": 1280, "height": 900}) as (page,):
        await page.goto(f"/tournaments/{tid}?token={spectator(api)}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        while playable := [m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
                           if m["state"] == "scheduled" and None not in m["participant_ids"]]:
            a, b = playable[0]["participant_ids"]
            first = names.index(a.title()) < names.index(b.title())  # the better seed wins
            await api.ok("POST", f"/api/matches/{playable[0]['id']}/start")
            await api.ok("POST", f"/api/matches/{playable[0]['id']}/result",
                         {"scores": {a: 2 if first else 0, b: 0 if first else 2}})
        rows = page.locator(".placements li")
        await expect(rows).to_have_count(8)
        await expect(rows.nth(0)).to_have_text("1st Alice")
        await expect(rows.nth(2)).to_have_text("3rd–4th Carol")
        await expect(rows.nth(7)).to_have_text("5th–8th Heidi")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_home_page_lists_tournaments_live(api: Api) -> None:
    """The home page follows the lobby: a tournament created elsewhere appears at the top, and
    its registrations and matches in play are counted as they happen, without a reload."""
    older = await tournament_with(api, ["Alice", "Bob"])
    async with browser_pages(api, viewport={"width": 390, "height": 844}) as (page,):
        await page.goto(f"/?token={spectator(api)}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        await expect(page.locator(f'[data-tournament-id="{older}"] .counts')).to_have_text("2 participants")
        newer = await tournament_with(api, ["Carol", "Dave"])
        cards = page.locator(".tournament-item")
        await expect(cards).to_have_count(2)
        await expect(cards.first).to_have_attribute("data-tournament-id", newer)
        match = await api.ok("POST", f"/api/tournaments/{newer}/matches", {"participant_ids": ["carol", "dave"]}, 201)
        await api.ok("POST", f"/api/matches/{match['id']}/start")
        await expect(cards.first.locator(".counts")).to_have_text("2 participants · 1 match in play")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_page_without_a_usable_token_asks_for_one(api: Api) -> None:
    """No token: a labelled form asks for one. A refused token: the form again, saying why."""
    match = await live_match(api)
    async with browser_pages(api) as (page,):
        await page.goto(f"/matches/{match['id']}")
        await expect(page.get_by_role("heading", name="An access token is needed")).to_be_visible()
        await page.get_by_label("Token", exact=True).fill(spectator(api))
        await page.get_by_role("button", name="Continue").click()
        await expect(page.locator("#connection")).to_have_text("Connected")
        await expect(page.locator(".side-score")).to_have_text(["0", "0"])

        await page.goto(f"/matches/{match['id']}?token=not-a-token")
        await expect(page.get_by_role("alert")).to_contain_text("The token was refused")
        await expect(page.locator("#connection")).to_contain_text("Offline")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_organizer_chooses_how_a_round_robin_is_ranked(api: Api) -> None:
    """On /organize the organizer ranks a round robin by points (3 a win) then scores for; the
    tournament starts with that order, and its table shows those columns."""
    tid = await tournament_with(api, ["Alice", "Bob", "Carol"], "round_robin")
    async with browser_pages(api) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        await page.get_by_label("Rank by").select_option("points")
        await page.get_by_label("Then by (2)").select_option("score_for")
        await page.get_by_label("Then by (3)").select_option("")
        await page.get_by_label("Points for a win").fill("3")
        await page.get_by_role("button", name="Start the tournament").click()
        await expect(page.locator("#t-state")).to_have_text("live")
        settings = (await api.ok("GET", f"/api/tournaments/{tid}"))["settings"]
        assert (settings["tiebreaks"], settings["points"]) == (["points", "score_for"], [3, 0.5, 0])
        first = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"][0]
        a, b = first["participant_ids"]
        await api.ok("POST", f"/api/matches/{first['id']}/start")
        await api.ok("POST", f"/api/matches/{first['id']}/result", {"scores": {a: 7, b: 2}})
        await page.goto(f"/tournaments/{tid}?token={spectator(api)}")
        table = page.locator("table.standings")
        await expect(table.locator("thead abbr")).to_have_text(["P", "W", "L", "Pts", "SF"])
        await expect(table.locator("tbody tr").first.locator("td")).to_have_text(["1", "1", "1", "0", "3", "7"])


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_players_chat_and_an_organizer_moderates(api: Api) -> None:
    """Alice writes on her phone page; Bob sees it and that she types; the organizer, on the
    match page, deletes a message and mutes Alice, whose form then goes."""
    tid = await tournament_with(api, ["Alice", "Bob"], start=True)
    mid = f"{tid}-W1-1"
    async with browser_pages(api, count=3) as (alice, bob, organizer):
        await alice.set_viewport_size({"width": 390, "height": 844})
        await alice.goto(f"/play/{mid}?token={api.token('alice')}")
        await bob.goto(f"/play/{mid}?token={api.token('bob')}")
        await organizer.goto(f"/matches/{mid}?token={api.organizer}")
        for page in (alice, bob, organizer):
            await expect(page.locator("#connection")).to_have_text("Connected")
        await alice.bring_to_front()
        await alice.get_by_label("Message").press_sequentially("gl")
        await expect(bob.locator(".typing")).to_have_text("Alice is typing…")
        await alice.get_by_label("Message").fill("glhf, see you in game 1")
        await alice.get_by_role("button", name="Send").click()
        await expect(bob.locator(".chat-line")).to_have_text(["Alice glhf, see you in game 1"])
        await alice.get_by_label("Message").fill("oops")
        await alice.get_by_role("button", name="Send").click()
        lines = organizer.locator(".chat-line")
        await expect(lines).to_have_count(2)
        await organizer.bring_to_front()  # clicks wait for animation frames, which a page behind does not get
        await lines.nth(1).get_by_role("button", name="Delete").click()
        await expect(bob.locator(".chat-line")).to_have_count(1)
        await lines.nth(0).get_by_role("button", name="Mute").click()
        await expect(alice.locator(".chat")).to_contain_text("You are muted in this chat.")
        await expect(alice.get_by_label("Message")).to_have_count(0)


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_seeding_is_drawn_live_on_the_projector(api: Api) -> None:
    """The organizer draws the seeding from the desk; the projector's draw screen shows each
    place as it comes, then the seed; the tournament starts seeded by the draw."""
    names = ["Alice", "Bob", "Carol", "Dave"]
    tid = await tournament_with(api, names)
    async with browser_pages(api, count=2) as (desk, screen):
        await screen.goto(f"/draw/{tid}?token={spectator(api)}")
        await expect(screen.locator("main")).to_contain_text("The draw has not started yet.")
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await desk.bring_to_front()  # a page behind another gets no animation frames, which clicks wait for
        await desk.get_by_role("button", name="Draw the seeding live").click()
        await expect(screen.locator(".draw-progress")).to_have_text("0 of 4 drawn")
        await desk.get_by_role("button", name="Reveal the next place").click()
        first = (await api.ok("GET", f"/api/tournaments/{tid}"))["draw"]["revealed"][0]
        await expect(screen.locator('.draw-slot[data-seed="1"] .name')).to_have_text(first.title())
        await expect(screen.locator('.draw-slot[data-seed="2"] .name')).to_have_text("…")
        await desk.get_by_role("button", name="Reveal all").click()
        await expect(screen.locator(".draw-progress")).to_have_text("The draw is complete.")
        await expect(screen.locator(".draw-proof")).to_contain_text("Random seed")
        drawn = (await api.ok("GET", f"/api/tournaments/{tid}"))["draw"]["revealed"]
        await expect(desk.get_by_label("Seeding")).to_have_value("draw")
        await desk.get_by_role("button", name="Start the tournament").click()
        await expect(desk.locator("#t-state")).to_have_text("live")
        assert (await api.ok("GET", f"/api/tournaments/{tid}"))["seed_order"] == drawn


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_desk_shows_which_players_have_their_page_open(api: Api) -> None:
    """Before calling a match, the desk shows who of its players is online: one player's page
    open, then both, then one closed again."""
    tid = await tournament_with(api, ["Alice", "Bob"], start=True)
    mid = f"{tid}-W1-1"
    async with browser_pages(api, count=3) as (desk, alice, bob):
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        presence = desk.locator(f'article[data-match-id="{mid}"] .presence')
        await expect(presence).to_have_text("Alice not connected · Bob not connected")
        await alice.goto(f"/play/{mid}?token={api.token('alice')}")
        await desk.bring_to_front()  # the desk redraws on animation frames, which a page behind does not get
        await expect(presence).to_have_text("Alice online · Bob not connected")
        await bob.goto(f"/play/{mid}?token={api.token('bob')}")
        await desk.bring_to_front()
        await expect(presence).to_have_text("Both players online")
        await bob.close()
        await expect(presence).to_have_text("Alice online · Bob not connected")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_organizer_runs_a_match_from_start_to_finish_by_clicks(api: Api) -> None:
    """Create, add two players, start, score with +/-, decide: all by clicks on /organize."""
    async with browser_pages(api) as (page,):
        tid = await create_on_the_desk(page, api, "Friday Cup", "single_elimination")

        for name in ("Alice", "Bob"):
            await page.get_by_label("Name", exact=True).fill(name)
            await page.get_by_label("Player id (optional)").fill(name.lower())
            await page.get_by_role("button", name="Add", exact=True).click()
            await expect(page.locator("#participants")).to_contain_text(name)
        await page.get_by_role("button", name="Start the tournament").click()

        card = page.locator(f'article[data-match-id="{tid}-W1-1"]')
        await card.get_by_role("button", name="Start the match").click()
        await expect(card).to_have_attribute("data-state", "live")
        for _ in range(3):
            await card.get_by_role("button", name="Alice: one point more").click()
        await card.get_by_role("button", name="Bob: one point more").click()
        await card.get_by_role("button", name="Bob: one point more").click()
        await card.get_by_role("button", name="Bob: one point less").click()
        await expect(card.locator(".score")).to_have_text(["3", "1"])
        await expect(card).to_have_attribute("data-saving", "0")  # every click written
        await expect(card.get_by_role("spinbutton", name="Alice")).to_have_value("3")  # the result form follows the live score
        await expect(card.get_by_role("spinbutton", name="Bob")).to_have_value("1")
        assert (await api.ok("GET", f"/api/matches/{tid}-W1-1"))["scores"] == {"alice": 3, "bob": 1}

        await card.get_by_role("button", name="Decide the result").click()
        await expect(page.locator(".finished")).to_contain_text("Alice won")
        await expect(page.locator("#t-state")).to_have_text("completed")
        await expect(page.locator(".placements")).to_contain_text("1st Alice")
    final = await api.ok("GET", f"/api/matches/{tid}-W1-1")
    assert (final["state"], final["winner_id"], final["result"]["scores"]) == ("completed", "alice", {"alice": 3, "bob": 1})


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_organizer_resolves_a_dispute_and_shares_a_spectator_link(api: Api) -> None:
    """A disputed match shows the dispute; the organizer resolves it with a score. The spectator
    link is a working link with a QR code."""
    match = await live_match(api)
    mid, tid = match["id"], match["tournament_id"]
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 1}}, as_=api.token("alice"))
    async with browser_pages(api) as (page,):
        await page.goto(f"/organize/{tid}?token={api.organizer}")
        card = page.locator(f'article[data-match-id="{mid}"]')
        await expect(card).to_have_attribute("data-state", "pending_result")
        await expect(card).to_contain_text("Alice reported 2–1")
        await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "Alice lagged out"}, 201, as_=api.token("bob"))

        await expect(card).to_contain_text("Bob disputes the result: “Alice lagged out”")
        await page.reload()  # read from the event log this time, not from the live event
        await expect(card).to_contain_text("Bob disputes the result: “Alice lagged out”")
        await card.get_by_role("spinbutton", name="Alice").fill("1")
        await card.get_by_role("spinbutton", name="Bob").fill("2")
        await card.get_by_label("Resolution (shown to the players)").fill("Replayed game 3")
        await card.get_by_role("button", name="Resolve with this score").click()
        await expect(page.locator(".finished")).to_contain_text("Alice 1 – 2 Bob · Bob won")
        for player in ("alice", "bob"):  # both players read the organizer's words
            play = await page.context.new_page()
            await play.goto(f"/play/{mid}?token={api.token(player)}")
            await expect(play.locator("#dispute-outcome")).to_contain_text(
                "The organizer resolved the dispute: “Replayed game 3”")
            await expect(play.locator("#dispute-outcome")).to_contain_text("Bob disputed: “Alice lagged out”")
            await play.close()
        await page.bring_to_front()

        await page.get_by_role("button", name="Make a spectator link").click()
        link = page.locator("#spectator-link")
        await expect(link).to_have_attribute("href", re.compile(rf"/tournaments/{tid}\?token=ey"))
        await expect(page.locator("#spectator-qr")).to_have_js_property("complete", True)
        assert await page.locator("#spectator-qr").evaluate("img => img.naturalWidth") > 100
        href = await link.get_attribute("href")
        assert href is not None
        spectator_page = await page.context.new_page()
        await spectator_page.goto(href)
        await expect(spectator_page.locator("#connection")).to_have_text("Connected")
        await expect(spectator_page.locator("h1")).to_have_text("LAN Cup")
    dispute = await api.ok("GET", f"/api/matches/{mid}")
    assert (dispute["state"], dispute["winner_id"]) == ("completed", "bob")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_player_checks_in_and_reports_over_the_socket(api: Api) -> None:
    """/play: Alice checks in, starts and reports; Bob confirms; her page follows every step."""
    tid = await tournament_with(api, ["Alice", "Bob"])
    mid = (await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"]}, 201))["id"]
    await api.ok("POST", f"/api/matches/{mid}/open-check-in")
    async with browser_pages(api, viewport={"width": 390, "height": 844}, is_mobile=True) as (page,):
        await page.goto(f"/play/{mid}?token={api.token('alice')}")
        await expect(page.locator(".crumbs")).to_have_text("Playing as Alice against Bob")
        await page.get_by_role("button", name="I'm ready").click()
        await expect(page.get_by_text("You are checked in")).to_be_visible()
        await api.ok("POST", f"/api/matches/{mid}/check-in", as_=api.token("bob"))

        await page.get_by_role("button", name="Start the match").click()
        await expect(page.locator(".scoreboard")).to_have_attribute("data-state", "live")
        await page.get_by_label("Alice's score").fill("13")
        await page.get_by_label("Bob's score").fill("9")
        await page.get_by_role("button", name="Report the result").click()
        await expect(page.get_by_text("You reported: Alice 13, Bob 9")).to_be_visible()

        await api.ok("POST", f"/api/matches/{mid}/confirm", as_=api.token("bob"))
        await expect(page.get_by_text("Match over: you won.")).to_be_visible()
        await expect(page.locator(".side-score")).to_have_text(["13", "9"])
        assert await no_sideways_scroll(page)  # no sideways scroll


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_page_recovers_the_events_missed_while_its_socket_was_cut(api: Api, services: Services) -> None:
    """The server drops every socket; scores written meanwhile reach the page after it reconnects
    with ?since=&epoch=: replayed in order, none missing, none twice."""
    match = await live_match(api)
    mid = match["id"]
    sockets: list[tuple[str, list[dict[str, Any]]]] = []

    def opened(ws: WebSocket) -> None:
        frames: list[dict[str, Any]] = []
        sockets.append((ws.url, frames))
        ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    async with browser_pages(api) as (page,):
        page.on("websocket", opened)
        await page.goto(f"/matches/{mid}?token={spectator(api)}")
        await expect(page.locator("#connection")).to_have_text("Connected")
        version = match["version"]
        for alice in (1, 2):
            version = (await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": alice}}))["version"]
        await expect(page.locator("#seq")).to_have_text("3")

        assert services.hub.close_all(1001, "test cut") == 1
        await expect(page.locator("#connection .conn-text")).to_have_text("Reconnecting")
        for alice, bob in ((3, 0), (3, 1), (4, 1)):  # written at once (If-Match), before the retry
            version = (await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": alice, "bob": bob}},
                                    headers={"If-Match": str(version)}))["version"]
        await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 5, "bob": 1}})

        await expect(page.locator("#connection")).to_have_text("Connected")
        await expect(page.locator(".side-score")).to_have_text(["5", "1"])
        await expect(page.locator(".scoreboard")).to_have_attribute("data-state", "completed")
        await expect(page.locator("#seq")).to_have_text("7")

    (first_url, first), (second_url, second) = sockets
    assert "since" not in first_url and re.search(r"since=3&epoch=m[0-9a-f]+$", second_url)
    assert first[0]["data"]["seq"] == 1  # the snapshot after match_started
    assert second[0]["type"] == "connection_established" and second[0]["data"]["recovered"] is True
    assert [f["seq"] for f in first + second if "seq" in f] == [2, 3, 4, 5, 6, 7]
    assert [f["type"] for f in second if "seq" in f] == ["score_updated"] * 3 + ["match_completed"]
