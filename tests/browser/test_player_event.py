"""A player's whole event on a phone, in headless Chromium: /me follows its player from match to
match by itself (called, checked in, reported, confirmed), /join turns a typed code into the
player's link, and a revoked link says so."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import Page, Route, ViewportSize, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, tournament_with
from tests.conftest import Api
from tests.browser.harness import no_sideways_scroll

# Seeded in order: W1-1 Alice vs Heidi, W1-2 Dave vs Erin, W1-3 Bob vs Grace, W1-4 Carol vs Frank.
PLAYERS = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"]
PHONE: ViewportSize = {"width": 390, "height": 844}
CALLED = re.compile(r"^Go to Station [12]$")


async def links_of(api: Api, tid: str) -> dict[str, dict[str, str]]:
    """Every participant's event link (token, code) by participant id."""
    minted = await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201)
    return {link["participant_id"]: link for link in minted["links"]}


async def organizer_plays(api: Api, tid: str, key: str) -> None:
    """The organizer starts a match and decides it for the better seed, 2-0."""
    match = await api.ok("GET", f"/api/matches/{tid}-{key}")
    a, b = match["participant_ids"]
    first = PLAYERS.index(a.title()) < PLAYERS.index(b.title())
    await api.ok("POST", f"/api/matches/{tid}-{key}/start")
    await api.ok("POST", f"/api/matches/{tid}-{key}/result", {"scores": {a: 2 if first else 0, b: 0 if first else 2}})


async def alice_wins(page: Page, api: Api, tid: str, key: str, opponent: str, token: str) -> None:
    """Called to a station: Alice checks in from the page, the opponent over REST; Alice starts,
    reports 13-5 from the page, and the opponent confirms."""
    mid = f"{tid}-{key}"
    await expect(page.locator("#me-current-title")).to_have_text(f"Now: {key}")
    await expect(page.locator(".crumbs")).to_have_text(f"Playing as Alice against {opponent}")
    await expect(page.locator("#call-title")).to_have_text(CALLED)
    await expect(page.locator("#call-countdown")).to_have_text(re.compile(r"^[45]:\d\d$"))
    await page.get_by_role("button", name="Check in", exact=True).click()
    await expect(page.locator(".call-panel")).to_contain_text(f"You are checked in. Waiting for {opponent}.")
    await api.ok("POST", f"/api/matches/{mid}/check-in", as_=token)
    await expect(page.locator(".call-panel")).to_contain_text("You are both here")
    await page.get_by_role("button", name="Start the match").click()
    await expect(page.locator(".scoreboard")).to_have_attribute("data-state", "live")
    await page.get_by_label("Alice's score").fill("13")
    await page.get_by_label(f"{opponent}'s score").fill("5")
    await page.get_by_role("button", name="Report the result").click()
    await expect(page.get_by_text(f"You reported: Alice 13, {opponent} 5")).to_be_visible()
    await api.ok("POST", f"/api/matches/{mid}/confirm", as_=token)
    result = page.locator(f'.me-result[data-match-id="{mid}"]')
    await expect(result).to_have_text(f"{key} Won 13–5 against {opponent}")


@pytest.mark.gen_test(timeout=TIMEOUT_S * 4)
async def test_the_me_page_follows_a_player_through_three_matches_to_the_title(api: Api) -> None:
    """8 players, two stations, auto-assign: Alice's /me page, never reloaded, shows each match's
    call, checks her in, reports, and moves on by itself (W1-1, W2-1, W3-1) until she has won."""
    tid = await tournament_with(api, PLAYERS)
    for name in ("Station 1", "Station 2"):
        await api.ok("POST", f"/api/tournaments/{tid}/stations", {"name": name}, 201)
    await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"auto_assign": True})
    links = await links_of(api, tid)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    async with browser_pages(api, viewport=PHONE, is_mobile=True) as (page,):
        await page.goto(f"/me/{tid}?token={links['alice']['token']}")
        await expect(page).to_have_url(re.compile(rf"/me/{tid}$"))  # the token left the address
        await expect(page.locator("#connection")).to_have_text("Connected")
        await expect(page.locator("#page-title")).to_have_text("Alice")
        await expect(page.locator(".me-head .subtitle")).to_have_text("LAN Cup · Quake")
        await expect(page.locator("#bracket-link")).to_have_attribute("href", f"/tournaments/{tid}")
        await page.evaluate("window.notReloaded = true")
        await expect(page.locator(".me-outlook li")).to_have_text(
            ["If you win: W2-1 vs winner of W1-2", "If you lose: you are out"])
        await expect(page.locator(".me-history")).to_contain_text("No match played yet.")
        assert await no_sideways_scroll(page)  # no sideways scroll

        await alice_wins(page, api, tid, "W1-1", "Heidi", links["heidi"]["token"])
        # W2-1 waits for Dave or Erin: the finished match stays, and the page says what it waits for.
        await expect(page.locator("#me-current-title")).to_have_text("Last match: W1-1")
        await expect(page.get_by_text("Match over: you won.")).to_be_visible()
        await expect(page.locator(".me-outlook li")).to_have_text(
            ["Next: W2-1 vs winner of W1-2", "Waiting for the winner of W1-2."])

        await organizer_plays(api, tid, "W1-2")  # Dave; the stations take W1-3 and W1-4 first
        await expect(page.locator("#me-current-title")).to_have_text("Now: W2-1")
        await expect(page.locator(".crumbs")).to_have_text("Playing as Alice against Dave")
        await expect(page.locator("#me-now")).to_have_text(re.compile(r"^Waiting for a station: about \d\d:\d\d · "))
        await expect(page.locator(".me-outlook li")).to_have_text(
            ["If you win: W3-1 vs winner of W2-2", "If you lose: you are out"])
        for key in ("W1-3", "W1-4"):
            await organizer_plays(api, tid, key)
        await expect(page.locator("#me-now")).to_have_text("")
        await alice_wins(page, api, tid, "W2-1", "Dave", links["dave"]["token"])

        await organizer_plays(api, tid, "W2-2")  # Bob
        await expect(page.locator(".me-outlook li")).to_have_text(
            ["If you win: you win the tournament", "If you lose: you are out"])
        await alice_wins(page, api, tid, "W3-1", "Bob", links["bob"]["token"])

        await expect(page.locator("#me-standing")).to_have_text("You won the tournament!")
        await expect(page.locator("#me-current-title")).to_have_text("Last match: W3-1")
        await expect(page.locator(".me-result .key")).to_have_text(["W3-1", "W2-1", "W1-1"])
        await expect(page.locator("#me-next")).to_be_hidden()
        assert await page.evaluate("window.notReloaded === true")
        assert await no_sideways_scroll(page)
    final = await api.ok("GET", f"/api/tournaments/{tid}")
    assert (final["state"], final["placements"][0]) == ("completed", {"place": 1, "participant_id": "alice"})


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_player_types_their_code_and_lands_on_their_page(api: Api) -> None:
    """/join: an unknown code is refused with the code shown, too many tries say how long to
    wait, and the right code typed loosely (small letters, a dash, spaces) opens /me as its player."""
    tid = await tournament_with(api, PLAYERS[:4])
    links = await links_of(api, tid)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    code = links["bob"]["code"]
    async with browser_pages(api, viewport=PHONE, is_mobile=True) as (page,):
        await page.goto(f"/join/{tid}")
        field = page.get_by_label("Your code")
        await expect(field).to_be_focused()
        await field.fill("nope-2345")
        await page.get_by_role("button", name="Open my matches").click()
        await expect(page.locator("#join-error")).to_have_text(
            "No player of this tournament has the code NOPE2345: check it and try again.")

        async def too_many(route: Route) -> None:
            await route.fulfill(status=429, content_type="application/json", body=json.dumps(
                {"error": {"code": "rate_limit_exceeded", "message": "too many codes tried; slow down",
                           "retry_after_ms": 2500}}))

        await page.route(f"**/api/tournaments/{tid}/join", too_many)
        await page.get_by_role("button", name="Open my matches").click()
        await expect(page.locator("#join-error")).to_have_text("Too many tries: wait 3 s, then try again.")
        await expect(page.get_by_role("button", name="Open my matches")).to_be_disabled()
        await page.unroute(f"**/api/tournaments/{tid}/join")
        await expect(page.locator("#join-error")).to_have_text("You can try again now.", timeout=5000)

        await field.fill(f" {code[:4].lower()}-{code[4:]} ")
        await page.get_by_role("button", name="Open my matches").click()
        await expect(page).to_have_url(re.compile(rf"/me/{tid}$"))
        await expect(page.locator("#page-title")).to_have_text("Bob")
        await expect(page.locator("#me-current-title")).to_have_text("Now: W1-2")
        await expect(page.locator(".crumbs")).to_have_text("Playing as Bob against Carol")

        # a printed card's QR code: the join address with the code opens the player's page at once
        await page.evaluate("sessionStorage.clear()")
        await page.goto(links["carol"]["join_url"])
        await expect(page).to_have_url(re.compile(rf"/me/{tid}$"))
        await expect(page.locator("#page-title")).to_have_text("Carol")


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_revoked_link_says_so_on_the_open_page_and_when_opened_again(api: Api) -> None:
    """Revoking Alice's link closes her open /me page with a clear message; opening the link
    again is refused the same way."""
    tid = await tournament_with(api, PLAYERS[:4])
    links = await links_of(api, tid)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    url = f"/me/{tid}?token={links['alice']['token']}"
    revoked = "This link was revoked: ask the organizer for a new one."
    async with browser_pages(api, viewport=PHONE, is_mobile=True) as (page,):
        await page.goto(url)
        await expect(page.locator("#me-current-title")).to_have_text("Now: W1-1")
        await expect(page.locator(".crumbs")).to_have_text("Playing as Alice against Dave")
        await api.ok("POST", f"/api/tournaments/{tid}/links/revoke", {"subject": "alice"})
        await expect(page.get_by_role("alert")).to_have_text(revoked)
        await expect(page.get_by_role("link", name="Type my code")).to_have_attribute("href", f"/join/{tid}")
        await page.goto(url)
        await expect(page.get_by_role("alert")).to_have_text(revoked)
