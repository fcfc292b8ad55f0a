"""Screenshots of every dashboard into docs/screenshots/, from a demo tournament on a memory store.

Run: `.venv/bin/python -m tests.browser.screenshots [OUT_DIR]` (needs Chromium, as the browser tests).
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Browser, Page, ViewportSize, expect
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from config import Config
from handlers.app import make_app
from server import build_services, shutdown
from storage.memory import MemoryStore
from tests.browser.harness import chromium
from tests.webhookreceiver import Receiver
from tests.conftest import Api
from tournament.roles import Role

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PLAYERS = ["NovaStrike", "Pixelwolf", "Ironclad", "Quasar", "Blitz", "Echo", "Vortex", "Nyx"]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


async def demo(api: Api) -> dict[str, str]:
    """An 8-player bracket: three quarterfinals played, one live, a semifinal in check-in."""
    tid: str = (await api.ok("POST", "/api/tournaments",
                             {"name": "LAN Party Cup", "game": "Quake III Arena"}, 201))["id"]
    for seed, name in enumerate(PLAYERS, start=1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants",
                     {"name": name, "id": name.lower(), "seed": seed}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given", "third_place": True})
    matches = {m["bracket"]["key"]: m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]}
    for key, (a, b) in {"W1-1": (13, 7), "W1-2": (9, 13), "W1-3": (13, 11)}.items():
        ids = matches[key]["participant_ids"]
        await api.ok("POST", f"/api/matches/{tid}-{key}/start")
        await api.ok("POST", f"/api/matches/{tid}-{key}/result", {"scores": {ids[0]: a, ids[1]: b}})
    live_id = f"{tid}-W1-4"
    ids = matches["W1-4"]["participant_ids"]
    await api.ok("POST", f"/api/matches/{live_id}/start")
    await api.ok("POST", f"/api/matches/{live_id}/score", {"scores": {ids[0]: 7, ids[1]: 5}})
    semi = f"{tid}-W2-1"
    await api.ok("POST", f"/api/matches/{semi}/open-check-in")
    semi_match = await api.ok("GET", f"/api/matches/{semi}")
    return {"tournament": tid, "live": live_id, "semi": semi, "player": semi_match["participant_ids"][0]}


SMASHERS = ["Zephyr", "Kestrel", "Mango", "Riptide", "Saffron", "Obsidian", "Juniper", "Tundra", "Marlowe",
            "Cinder", "Halcyon", "Bramble", "Nimbus", "Quill", "Solstice", "Vesper"]


async def stations_demo(api: Api) -> dict[str, str]:
    """A 16-player bracket on seven stations (one for the stream, one closed): two matches live,
    one ready, two in check-in, one whose player did not come; the rest queued with ETAs."""
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "Saturday Smash", "game": "Smash Ultimate"}, 201))["id"]
    for seed, name in enumerate(SMASHERS, start=1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name, "id": name.lower(), "seed": seed}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given", "series": {"best_of": 3}})
    stations: dict[str, str] = {}
    for i, name in enumerate(["Stream", "Setup 2", "Setup 3", "Setup 4", "Setup 5", "Setup 6", "Setup 7"]):
        stations[name] = (await api.ok("POST", f"/api/tournaments/{tid}/stations",
                                       {"name": name, "stream": i == 0, "enabled": name != "Setup 7"}, 201))["id"]
    matches = {m["bracket"]["key"]: m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]}

    async def call(key: str, station: str, check_ins: int) -> str:
        mid: str = matches[key]["id"]
        await api.ok("POST", f"/api/matches/{mid}/call", {"station_id": stations[station]})
        for pid in matches[key]["participant_ids"][:check_ins]:
            await api.ok("POST", f"/api/matches/{mid}/check-in", {"participant_id": pid})
        return mid

    await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"check_in_s": 10})
    late = await call("W1-5", "Setup 5", 1)  # its 10 s run out while the rest is set up
    await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"check_in_s": 300})
    for key, station, check_ins in [("W1-1", "Stream", 2), ("W1-2", "Setup 2", 2), ("W1-3", "Setup 3", 2),
                                    ("W1-4", "Setup 4", 1), ("W1-6", "Setup 6", 0)]:
        mid = await call(key, station, check_ins)
        if key in ("W1-1", "W1-2"):
            a, b = matches[key]["participant_ids"]
            await api.ok("POST", f"/api/matches/{mid}/start")
            await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {a: 2, b: 1}, "game": 1})
            await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {a: 1, b: 0}})
    await api.ok("PATCH", f"/api/tournaments/{tid}/calling", {"auto_assign": True})
    waiting = matches["W1-6"]["participant_ids"][0]
    return {"tournament": tid, "late": late, "waiting": matches["W1-6"]["id"], "player": waiting}


MAPS = ["Ancient", "Anubis", "Dust2", "Inferno", "Mirage", "Nuke", "Train"]


async def series_demo(api: Api, tid: str) -> dict[str, str]:
    """A best-of-3 show match with its veto done and game 2 live, and one whose veto is under way."""
    a, b = PLAYERS[0].lower(), PLAYERS[1].lower()
    show = (await api.ok("POST", f"/api/tournaments/{tid}/matches",
                         {"participant_ids": [a, b], "format": {"best_of": 3}, "label": "Show match"}, 201))["id"]
    await api.ok("POST", f"/api/matches/{show}/start-veto", {"pool": MAPS, "sides": ["CT", "T"], "first": "organizer",
                                                              "first_id": a})
    for key, value in [("map", "Nuke"), ("map", "Train"), ("map", "Mirage"), ("side", "CT"), ("map", "Inferno"),
                       ("side", "T"), ("map", "Ancient"), ("map", "Anubis")]:
        await api.ok("POST", f"/api/matches/{show}/veto", {key: value})
    await api.ok("POST", f"/api/matches/{show}/start")
    await api.ok("POST", f"/api/matches/{show}/result", {"scores": {a: 13, b: 10}})
    await api.ok("POST", f"/api/matches/{show}/score", {"scores": {a: 6, b: 8}})
    vetoing = (await api.ok("POST", f"/api/tournaments/{tid}/matches",
                            {"participant_ids": [a, b], "format": {"best_of": 3}, "label": "Final"}, 201))["id"]
    await api.ok("POST", f"/api/matches/{vetoing}/start-veto", {"pool": MAPS, "sides": ["CT", "T"],
                                                                 "first": "organizer", "first_id": a})
    for key, value in [("map", "Nuke"), ("map", "Train")]:
        await api.ok("POST", f"/api/matches/{vetoing}/veto", {key: value})
    return {"show": show, "vetoing": vetoing, "picker": a}


async def player_event_demo(api: Api) -> str:
    """/me of a player who won the quarterfinal and is called to a station for the semifinal
    (the opponent checked in already), by hand (these screenshots run no auto-assign): the path
    to open, with the player's event link."""
    tid: str = (await api.ok("POST", "/api/tournaments",
                             {"name": "Friday Frag Fest", "game": "Quake III Arena"}, 201))["id"]
    for seed, name in enumerate(PLAYERS, start=1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants",
                     {"name": name, "id": name.lower(), "seed": seed}, 201)
    setup = [(await api.ok("POST", f"/api/tournaments/{tid}/stations", {"name": name}, 201))["id"]
             for name in ("Setup 1", "Setup 2")]
    links = {link["participant_id"]: link["token"]
             for link in (await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201))["links"]}
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    for key, (a, b) in {"W1-1": (13, 7), "W1-2": (13, 10), "W1-3": (11, 13), "W1-4": (13, 4)}.items():
        ids = (await api.ok("GET", f"/api/matches/{tid}-{key}"))["participant_ids"]
        await api.ok("POST", f"/api/matches/{tid}-{key}/start")
        await api.ok("POST", f"/api/matches/{tid}-{key}/result", {"scores": {ids[0]: a, ids[1]: b}})
    semi = await api.ok("POST", f"/api/matches/{tid}-W2-1/call", {"station_id": setup[1]})
    await api.ok("POST", f"/api/matches/{tid}-W2-1/check-in", as_=links[semi["participant_ids"][1]])
    return f"/me/{tid}?token={links[semi['participant_ids'][0]]}"


async def webhooks_demo(api: Api, tid: str, live_id: str) -> tuple[str, list[Receiver]]:
    """Two webhooks of `tid`: one that delivers the results to a healthy receiver, one for every
    event whose receiver answers 500 (its test fails both tries: paused), two scores of `live_id`
    waiting behind its pause. The paused webhook's id, and the receivers (to stop)."""
    healthy, failing = Receiver(), Receiver()
    failing.failing = True
    base = f"/api/tournaments/{tid}/webhooks"
    ok = await api.ok("POST", base, {"url": healthy.url, "events": ["match_completed", "bracket_updated",
                                                                     "tournament_completed"]}, 201)
    await api.ok("POST", f"{base}/{ok['id']}/ping", None, 202)
    paused = await api.ok("POST", base, {"url": failing.url}, 201)
    await api.ok("POST", f"{base}/{paused['id']}/ping", None, 202)
    await failing.until(lambda: len(failing.requests) == 2)
    a, b = (await api.ok("GET", f"/api/matches/{live_id}"))["participant_ids"]
    for score in (8, 9):
        await api.ok("POST", f"/api/matches/{live_id}/score", {"scores": {a: score, b: 5}})
    return paused["id"], [healthy, failing]


async def shoot_webhooks(browser: Browser, base: str, api: Api, tid: str, paused: str, file: Path,
                         viewport: ViewportSize) -> None:
    """The desk's webhooks panel with the paused webhook's delivery log open."""
    page = await open_page(browser, base, f"/organize/{tid}?token={api.organizer}", '#connection[data-state="connected"]',
                           viewport)
    card = page.locator(f'.webhook[data-webhook-id="{paused}"]')
    await expect(card.locator(".badge.paused")).to_be_visible()
    await card.get_by_role("button", name="Delivery log").click()
    await expect(card.locator("tr.status-failed")).to_have_count(1)
    await page.locator("#t-webhooks").screenshot(path=str(file))


async def shoot_links_sheet(browser: Browser, base: str, api: Api, tid: str, file: Path) -> None:
    """The printable sheet of player links (/organize/{id}/links) as the organizer sees it, one
    player's revoke waiting for its yes."""
    page = await open_page(browser, base, f"/organize/{tid}/links?token={api.organizer}", ".link-card svg")
    await page.locator(".link-card").nth(1).get_by_role("button", name=re.compile("^Revoke")).click()
    await page.screenshot(path=str(file), full_page=True)


async def open_page(browser: Browser, base: str, path: str, wait: str, viewport: ViewportSize = DESKTOP) -> Page:
    """The page at `path`, once `wait` shows and the network is quiet."""
    page = await browser.new_page(viewport=viewport, base_url=base)
    await page.goto(path)
    await expect(page.locator(wait).first).to_be_visible()
    await page.wait_for_load_state("networkidle")
    return page


async def shoot(browser: Browser, base: str, path: str, file: Path, wait: str, *,
                viewport: ViewportSize = DESKTOP, full_page: bool = False) -> None:
    page = await open_page(browser, base, path, wait, viewport)
    await page.screenshot(path=str(file), full_page=full_page)


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        config = Config(store="memory", data_dir=Path(data_dir), jwt_secret="screenshots-" + "x" * 40, port=0,
                        sockets_per_user=20, write_rate_per_user=1000.0, write_burst_per_user=1000,
                        webhook_attempts=2, webhook_retry_base_s=0.05)  # a failing receiver pauses at once
        services = build_services(config, MemoryStore())
        services.outbox.start()  # as serve() does
        sock, port = bind_unused_port()
        server = HTTPServer(make_app(services))
        server.add_socket(sock)
        base = f"http://localhost:{port}"
        api = Api(base, services)
        ids = await demo(api)
        viewer = api.token("screen", Role.SPECTATOR)
        tid, live_id = ids["tournament"], ids["live"]
        connected = '#connection[data-state="connected"]'
        async with chromium() as browser:
            await shoot(browser, base, f"/tournaments/{tid}?token={viewer}", out / "tournament.png", connected,
                        full_page=True)
            await shoot(browser, base, f"/tournaments/{tid}?projector=1&token={viewer}", out / "projector.png",
                        connected, viewport={"width": 1280, "height": 720})
            await shoot(browser, base, f"/matches/{live_id}?token={viewer}", out / "match.png", connected)
            overlay = await browser.new_page(viewport=DESKTOP, base_url=base)
            await overlay.goto(f"/overlay/match/{live_id}?token={viewer}")
            await expect(overlay.locator(".overlay-row").first).to_be_visible()
            await overlay.locator("#overlay").screenshot(path=str(out / "overlay.png"), omit_background=True)
            organize = await open_page(browser, base, f"/organize/{tid}?token={api.organizer}", connected)
            await organize.get_by_role("button", name="Make a spectator link").click()
            await expect(organize.locator("#spectator-qr")).to_have_js_property("complete", True)
            await organize.screenshot(path=str(out / "organizer.png"), full_page=True)
            await shoot_links_sheet(browser, base, api, tid, out / "links-sheet.png")
            await shoot(browser, base, f"/play/{ids['semi']}?token={api.token(ids['player'])}", out / "player.png",
                        "#ready-up", viewport=PHONE, full_page=True)
            smash = await stations_demo(api)
            organize = await open_page(browser, base, f"/organize/{smash['tournament']}?token={api.organizer}",
                                       connected)
            await expect(organize.locator(f"#no-show-{smash['late']}")).to_be_visible(timeout=20_000)
            await organize.locator("#t-stations").screenshot(path=str(out / "desk-stations.png"))
            await shoot(browser, base, f"/board/{smash['tournament']}?token={viewer}", out / "queue-board.png",
                        ".board-station", viewport={"width": 1920, "height": 1080})
            await shoot(browser, base, f"/play/{smash['waiting']}?token={api.token(smash['player'])}",
                        out / "player-station.png", "#call-countdown", viewport=PHONE, full_page=True)
            shows = await series_demo(api, tid)
            overlay = await browser.new_page(viewport=DESKTOP, base_url=base)
            await overlay.goto(f"/overlay/match/{shows['show']}?token={viewer}")
            await expect(overlay.locator(".overlay-series").first).to_be_visible()
            await overlay.locator("#overlay").screenshot(path=str(out / "overlay-series.png"), omit_background=True)
            await shoot(browser, base, f"/matches/{shows['show']}?token={viewer}", out / "match-series.png", connected,
                        full_page=True)
            await shoot(browser, base, f"/play/{shows['vetoing']}?token={api.token(shows['picker'])}",
                        out / "player-veto.png", ".veto-choice", viewport=PHONE, full_page=True)
            await shoot(browser, base, await player_event_demo(api), out / "player-event.png", "#call-countdown",
                        viewport=PHONE, full_page=True)
            paused, receivers = await webhooks_demo(api, tid, live_id)
            for name, viewport in (("desk-webhooks.png", DESKTOP), ("desk-webhooks-phone.png", PHONE)):
                await shoot_webhooks(browser, base, api, tid, paused, out / name, viewport)
            for receiver in receivers:
                receiver.server.stop()
        server.stop()
        await shutdown(services, drain_s=0.5)
    for file in sorted(out.glob("*.png")):
        print(file)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
