"""Event links from the pages, in headless Chromium: the printable sheet of player links and its
revokes, screen links opened from the desk, the stream overlay that follows the stream's
station, and a screen renewing its link."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, tournament_with
from tests.conftest import Api

PLAYERS = ["Alice", "Bob", "Carol", "Dave"]  # seeded in order: W1-1 Alice vs Dave, W1-2 Bob vs Carol
CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")  # tournament/links.py CODE_ALPHABET
KEPT = "sessionStorage.getItem('livebracket.token')"


async def kept_token(page: Page) -> str:
    token: str = await page.evaluate(KEPT)
    return token


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_the_links_sheet_shows_every_player_and_a_revoke_closes_their_page(api: Api) -> None:
    """From the desk to the sheet: a card per player with a QR code (an <svg>), the code as
    XXXX-XXXX and the join address; printed, the controls are gone and the cards sit two by
    two. Revoking Alice's link closes her open page with the reason and shows her new QR code;
    revoking every link, after a confirmation naming the tournament, closes a screen too."""
    tid = await tournament_with(api, PLAYERS, start=True)
    minted = {link["participant_id"]: link for link in
              (await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201))["links"]}
    screen = await api.ok("POST", f"/api/tournaments/{tid}/screens", {"name": "Queue board"}, 201)
    async with browser_pages(api, 3, viewport={"width": 1280, "height": 900}) as (sheet, phone, board):
        await sheet.goto(f"/organize/{tid}?token={api.organizer}")
        await sheet.get_by_role("link", name="Player links (QR sheet)").click()
        await expect(sheet).to_have_url(re.compile(rf"/organize/{tid}/links$"))
        cards = sheet.locator(".link-card")
        await expect(cards).to_have_count(4)
        await expect(cards.locator(".link-name")).to_have_text(PLAYERS)
        await expect(cards.locator(".link-qr svg")).to_have_count(4)
        await expect(cards.locator(".link-code")).to_have_text([CODE] * 4)
        shown = await cards.locator(".link-code").all_inner_texts()
        assert shown == [f"{c[:4]}-{c[4:]}" for c in (minted[p.lower()]["code"] for p in PLAYERS)]  # kept codes
        await expect(cards.first.locator(".link-join")).to_contain_text(f"/join/{tid}")
        await expect(sheet.locator("#links-local")).to_contain_text("phones cannot open")  # the test server is localhost

        await sheet.emulate_media(media="print")
        await expect(sheet.locator(".links-tools")).to_be_hidden()
        await expect(cards.first.get_by_role("button")).to_have_count(0)
        columns = await sheet.locator(".links-sheet").evaluate("e => getComputedStyle(e).gridTemplateColumns")
        assert len(columns.split()) == 2, columns
        assert await cards.first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
        await sheet.emulate_media(media="screen")

        alice = sheet.locator('.link-card[data-participant-id="alice"]')
        old_qr = await alice.locator("svg").inner_html()
        await phone.goto(f"/play/{tid}-W1-1?token={minted['alice']['token']}")
        await expect(phone.locator(".crumbs")).to_have_text("Playing as Alice against Dave")
        await board.goto(f"/board/{tid}?token={screen['token']}")
        await expect(board.locator("#connection")).to_have_text("Connected")

        await sheet.bring_to_front()
        await alice.get_by_role("button", name="Revoke Alice's link…").click()
        await expect(alice.get_by_role("group")).to_contain_text("a new QR code and a new code")
        await alice.get_by_role("button", name="Yes, revoke Alice's link").click()
        await expect(alice.locator(".link-renewed")).to_have_text("New link: print this card again.")
        assert await alice.locator("svg").inner_html() != old_qr
        await expect(alice.locator(".link-code")).to_have_text(CODE)
        assert await alice.locator(".link-code").inner_text() != shown[0]  # the old code went with the link
        await expect(phone.get_by_role("alert")).to_contain_text("this link was revoked")
        await expect(phone.locator("#connection")).to_contain_text("Offline")
        status, body = await api.get(f"/api/matches/{tid}-W1-1", as_=minted["alice"]["token"])
        assert (status, body["error"]["code"]) == (401, "token_revoked")
        await expect(board.locator("#connection")).to_have_text("Connected")  # only Alice's link went

        await sheet.get_by_role("button", name="Revoke every link…").click()
        confirm = sheet.get_by_role("group", name="Revoke every link of LAN Cup?")
        await expect(confirm).to_contain_text("Reopen the screens from the desk")
        await confirm.get_by_role("button", name="Revoke every link of LAN Cup").click()
        await expect(sheet.locator("#announcer")).to_contain_text("Every link revoked")
        await expect(board.get_by_role("alert")).to_contain_text("this link was revoked")
        status, body = await api.get(f"/api/tournaments/{tid}", as_=minted["bob"]["token"])
        assert (status, body["error"]["code"]) == (401, "token_revoked")
        await expect(cards).to_have_count(4)


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_the_desk_opens_screens_with_links_of_their_own(api: Api) -> None:
    """The queue board, the projector view, the stream overlay and a match's overlay each get a
    screen link of the tournament from the desk (no organizer token in them): the match's overlay
    address, opened as OBS would (a fresh page, nothing added), shows the match live. The match
    card's player links are the players' event links, to their page for the whole event."""
    tid = await tournament_with(api, PLAYERS, start=True)
    async with browser_pages(api, viewport={"width": 1280, "height": 900}) as (desk,):
        await desk.goto(f"/organize/{tid}?token={api.organizer}")
        await expect(desk.locator("#connection")).to_have_text("Connected")
        async with desk.context.expect_page() as opened:
            await desk.get_by_role("button", name="Open the projector view").click()
        projector = await opened.value
        await expect(projector).to_have_url(re.compile(rf"/tournaments/{tid}\?projector=1$"))
        await expect(projector.locator("body")).to_have_class(re.compile("projector"))
        await expect(projector.locator("#connection")).to_have_text("Connected")

        await desk.bring_to_front()
        await desk.get_by_role("button", name="Stream overlay link").click()
        link = desk.locator("#overlay-link")
        await expect(link).to_have_attribute("href", re.compile(rf"/overlay/stream/{tid}\?token=ey"))
        await expect(desk.locator('[data-screen="overlay"]')).to_contain_text("No station is the stream's yet")
        for anchor in ("#overlay-link", "#projector-link"):
            token = (await desk.locator(anchor).get_attribute("href") or "").split("token=")[1]
            user = api.services.tokens.decode(token)
            assert (user.tournament_id, user.role.label) == (tid, "spectator")

        mid = f"{tid}-W1-1"
        card = desk.locator(f'.org-match[data-match-id="{mid}"]')
        await card.get_by_role("button", name="Overlay link").click()
        link = card.locator(f'[id="match-overlay-link-{mid}"]')
        await expect(link).to_have_attribute("href", re.compile(rf"/overlay/match/{mid}\?token=ey"))
        address = await link.get_attribute("href") or ""
        user = api.services.tokens.decode(address.split("token=")[1])
        assert (user.tournament_id, user.role.label, user.name) == (tid, "spectator", "Overlay W1-1")
        copy = card.get_by_role("button", name="Copy the overlay link of W1-1")
        await copy.click()
        await expect(copy).to_have_text("Copied")
        obs = await desk.context.new_page()  # a page of its own: no token kept from the desk's tab
        await obs.goto(address)
        rows = obs.locator(".overlay-row")
        await expect(rows).to_have_text([re.compile(r"^Alice\s*–$"), re.compile(r"^Dave\s*–$")])  # not started
        await api.ok("POST", f"/api/matches/{mid}/start")
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 2}})
        await expect(rows).to_have_text([re.compile(r"^Alice\s*2$"), re.compile(r"^Dave\s*0$")])
        assert await obs.locator(".overlay-note").count() == 0  # no "Add ?token=…"

        await desk.bring_to_front()
        await card.get_by_role("button", name="Player links").click()
        anchors = card.locator(".player-links a")
        await expect(card.locator(".player-links li")).to_have_text([re.compile("^Alice: http"),
                                                                     re.compile("^Dave: http")])
        addresses = [await a.get_attribute("href") or "" for a in await anchors.all()]
        for address, who in zip(addresses, ["alice", "dave"]):
            assert re.search(rf"/me/{tid}\?token=ey", address), address
            user = api.services.tokens.decode(address.split("token=")[1])
            assert (user.user_id, user.tournament_id, user.role.label) == (who, tid, "player")
        phone = await desk.context.new_page()
        await phone.goto(addresses[0])
        await expect(phone.locator("#page-title")).to_have_text("Alice")
        await expect(phone.locator("#me-current-title")).to_have_text("Now: W1-1")


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_the_stream_overlay_follows_the_stream_station(api: Api) -> None:
    """One overlay address for the event: the match called to the stream's station is announced,
    shown like /overlay/match once it is played, its result held a moment, then the next match
    auto-assigned there takes over, without touching the address."""
    tid = await tournament_with(api, PLAYERS, start=True)
    await api.ok("POST", f"/api/tournaments/{tid}/stations", {"name": "Main stage", "stream": True}, 201)
    screen = await api.ok("POST", f"/api/tournaments/{tid}/screens", {"name": "Stream overlay"}, 201)
    async with browser_pages(api, viewport={"width": 1280, "height": 720}) as (overlay,):
        await overlay.goto(f"/overlay/stream/{tid}?hold_s=2&token={screen['token']}")
        await expect(overlay.locator("body")).to_have_attribute("data-connection", "connected")
        stage = overlay.locator("#overlay")
        await expect(stage).to_have_attribute("data-phase", "idle")
        assert "token" not in overlay.url
        assert await overlay.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
        assert await overlay.locator(".topbar").count() == 0

        await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"auto_assign": True})
        await expect(overlay.get_by_test_id("overlay-next")).to_have_text("Next on stream: W1-1 · Alice vs Dave")
        await api.ok("POST", f"/api/matches/{tid}-W1-1/start")
        rows = overlay.locator(".overlay-row")
        await expect(rows).to_have_text([re.compile(r"^Alice\s*0$"), re.compile(r"^Dave\s*0$")])
        await expect(stage).to_have_attribute("data-match-id", f"{tid}-W1-1")
        await api.ok("POST", f"/api/matches/{tid}-W1-1/score", {"scores": {"alice": 2, "dave": 1}})
        await expect(rows).to_have_text([re.compile(r"^Alice\s*2$"), re.compile(r"^Dave\s*1$")])

        await api.ok("POST", f"/api/matches/{tid}-W1-1/result", {"scores": {"alice": 3, "dave": 1}})
        await expect(stage).to_have_attribute("data-phase", "result")
        await expect(overlay.locator(".overlay-row.winner .overlay-name")).to_have_text("Alice")
        next_up = overlay.get_by_test_id("overlay-next")
        await expect(next_up).to_have_text("Next on stream: W1-2 · Bob vs Carol")  # auto-assigned, after the hold
        await api.ok("POST", f"/api/matches/{tid}-W1-2/start")
        await expect(stage).to_have_attribute("data-match-id", f"{tid}-W1-2")
        await expect(rows).to_have_text([re.compile(r"^Bob\s*0$"), re.compile(r"^Carol\s*0$")])
        assert await overlay.get_by_test_id("overlay-station").count() == 0  # the stream needs no station name


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_screen_renews_its_link_and_reconnects_with_the_new_one(api: Api,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A board opened with a 60 s screen link: not due while fresh, renewed once less than a
    third of its life is left (the check run at a later clock), kept, and used by the next
    reconnect; reloaded from its first address, the board keeps the renewal."""
    tid = await tournament_with(api, PLAYERS, start=True)
    # Minted 10 s ago by the token clock: a renewal in the same second as the mint would be the
    # very same token (iat and exp are whole seconds), and the test would depend on the timing.
    monkeypatch.setattr(api.services.tokens, "_clock", lambda: time.time() - 10)
    screen = await api.ok("POST", f"/api/tournaments/{tid}/screens", {"name": "Queue board", "ttl_s": 60}, 201)
    monkeypatch.undo()
    first_address = f"/board/{tid}?token={screen['token']}"
    async with browser_pages(api) as (board,):
        sockets: list[str] = []

        def opened(ws: WebSocket) -> None:
            sockets.append(ws.url)

        board.on("websocket", opened)
        await board.goto(first_address)
        await expect(board.locator("#connection")).to_have_text("Connected")
        assert await kept_token(board) == screen["token"]

        due = await board.evaluate("""async () => {
            const token = await import("/static/js/token.js");
            return [await token.renewIfDue(), await token.renewIfDue(Date.now() + 45000)];
        }""")
        assert due == [False, True]
        renewed = await kept_token(board)
        assert renewed != screen["token"]
        user = api.services.tokens.decode(renewed)
        assert (user.user_id, user.tournament_id) == (screen["subject"], tid)

        await board.context.set_offline(True)
        await expect(board.locator("#connection")).to_contain_text("Offline")
        await board.context.set_offline(False)
        await expect(board.locator("#connection")).to_have_text("Connected")
        assert re.search(rf"[?&]token={re.escape(renewed)}(&|$)", sockets[-1])

        await board.goto(first_address)
        await expect(board.locator("#connection")).to_have_text("Connected")
        assert await kept_token(board) == renewed
        assert re.search(rf"[?&]token={re.escape(renewed)}(&|$)", sockets[-1])
