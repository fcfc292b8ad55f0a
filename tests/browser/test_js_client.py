"""The pages' socket client as a module any page may import (issue 17, docs/clients.md): a page
served by another server, on another origin, imports /static/js/live.js from livebracket,
follows a match, loses its connection while events happen, and gets exactly the events it
missed, in order, without a second snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from playwright.async_api import Page, expect
from tornado import httpserver, testing, web

from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, live_match
from tests.conftest import Api

OVERLAY = """<!doctype html><meta charset="utf-8"><title>Someone else's overlay</title>
<p id="state">starting</p><p id="snapshots">0</p><ol id="events"></ol>
<script type="module">
import { LiveRoom } from "%(server)s/static/js/live.js";
const events = document.getElementById("events");
let snapshots = 0;
new LiveRoom("%(server)s/ws/match/%(match)s", %(token)s, {
  onSnapshot() { document.getElementById("snapshots").textContent = String(++snapshots); },
  onEvent(frame) {
    const li = document.createElement("li");
    li.textContent = `${frame.seq} ${frame.type}`;
    events.append(li);
  },
  onState(state) { document.getElementById("state").textContent = state; },
}).start();
</script>"""


class Overlay(web.RequestHandler):
    def initialize(self, page: str) -> None:
        self.page = page

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.page)


@pytest.fixture
def elsewhere() -> Iterator[Callable[[str], int]]:
    """Serve a page from another web server, on another port (another origin): its port."""
    servers: list[httpserver.HTTPServer] = []

    def serve(page: str) -> int:
        sock, port = testing.bind_unused_port()
        server = httpserver.HTTPServer(web.Application([(r"/", Overlay, {"page": page})]))
        server.add_sockets([sock])
        servers.append(server)
        return port

    yield serve
    for server in servers:
        server.stop()


def events_of(text: list[str]) -> list[tuple[int, str]]:
    return [(int(seq), kind) for seq, kind in (line.split(" ", 1) for line in text)]


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_a_page_on_another_origin_follows_a_match_and_recovers_what_it_missed(
        api: Api, elsewhere: Callable[[str], int]) -> None:
    match = await live_match(api)
    mid = match["id"]
    port = elsewhere(OVERLAY % {"server": api.base_url, "match": mid, "token": json.dumps(api.token("viewer"))})
    async with browser_pages(api) as (page,):
        overlay: Page = page
        await overlay.goto(f"http://127.0.0.1:{port}/")
        await expect(overlay.locator("#state")).to_have_text("connected")
        await expect(overlay.locator("#snapshots")).to_have_text("1")
        await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1}})
        await expect(overlay.locator("#events li")).to_have_count(1)

        await overlay.context.set_offline(True)  # the venue Wi-Fi drops
        await expect(overlay.locator("#state")).not_to_have_text("connected")
        for points in (2, 3, 4):
            await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": points}})
            await api.services.matches.scores.flush(mid)  # each its own event, not one coalesced
        await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 5, "bob": 1}})
        await overlay.context.set_offline(False)

        await expect(overlay.locator("#state")).to_have_text("connected")
        await expect(overlay.locator("#events li").last).to_contain_text("match_completed")
        seen = events_of(await overlay.locator("#events li").all_text_contents())
        seqs = [seq for seq, _ in seen]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # every one, in order, none twice
        log = (await api.ok("GET", f"/api/matches/{mid}/events?since={seqs[0] - 1}"))["events"]
        assert seen == [(e["seq"], e["type"]) for e in log]  # exactly the match's log
        await expect(overlay.locator("#snapshots")).to_have_text("1")  # recovered, not re-snapshotted
