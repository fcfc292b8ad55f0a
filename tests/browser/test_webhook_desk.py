"""Webhooks from the desk, in headless Chromium, delivered to a real receiver on a loopback port:
add one (its secret shown once), a refused URL in the server's words, a test delivered and seen
in the log, a failing receiver that pauses the webhook and "Resume" once it is healthy, replay
from a delivery, delete (each asked first)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from config import Config
from handlers.pages import STATIC_DIR
from tests.browser.test_dashboards import TIMEOUT_S, browser_pages, tournament_with
from tests.conftest import Api
from tests.webhookreceiver import Receiver
from tests.browser.harness import no_sideways_scroll
from tournament.outbox import SIGNATURE_HEADER, sign
from tournament.webhooks import EVENT_TYPES

PLAYERS = ["Alice", "Bob"]


@pytest.fixture
def config(config: Config) -> Config:
    """Two tries 50 ms apart, then the pause: a failing receiver pauses its webhook at once."""
    return dataclasses.replace(config, webhook_attempts=2, webhook_retry_base_s=0.05, webhook_retry_cap_s=0.1,
                               webhook_timeout_s=5.0)


async def webhooks_of(api: Api, tid: str) -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = (await api.ok("GET", f"/api/tournaments/{tid}/webhooks"))["webhooks"]
    return hooks


async def open_desk(page: Page, api: Api, tid: str) -> Locator:
    await page.goto(f"/organize/{tid}?token={api.organizer}")
    await expect(page.locator("#connection")).to_have_text("Connected")
    panel = page.locator("#t-webhooks")
    await expect(panel.get_by_role("heading", name="Webhooks")).to_be_visible()
    return panel


def test_the_desks_event_types_are_the_servers() -> None:
    """Every event type the desk offers is one a webhook may ask for (tournament/webhooks.py)."""
    text = (STATIC_DIR / "js" / "webhookdesk.js").read_text()
    block = re.search(r"export const EVENT_GROUPS = \[(.*?)\n\];", text, re.S)
    assert block is not None
    offered = re.findall(r'\["(\w+)", "', block.group(1))
    assert len(offered) >= 12 and len(set(offered)) == len(offered)
    assert set(offered) <= EVENT_TYPES


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_add_a_webhook_from_the_desk_and_send_a_test(api: Api, receiver: Receiver) -> None:
    """A refused URL is named next to its field with what was typed kept; the webhook added with
    chosen events shows its secret once (it signs the deliveries); "Send a test" reaches the
    receiver and the log shows it delivered; edit the events, disable and enable."""
    tid = await tournament_with(api, PLAYERS)
    async with browser_pages(api, viewport={"width": 1280, "height": 1000}) as (desk,):
        panel = await open_desk(desk, api, tid)
        await expect(panel.locator("#wh-none")).to_have_text("No webhook yet.")

        url = panel.get_by_label("Receiver URL")
        await url.fill("ftp://x")
        await panel.get_by_role("button", name="Add the webhook").click()
        await expect(panel.locator("#wh-add-url-error")).to_have_text("URL must start with http:// or https://")
        await expect(url).to_have_value("ftp://x")
        await expect(url).to_have_attribute("aria-invalid", "true")
        assert await webhooks_of(api, tid) == []

        await url.fill(receiver.url)
        await panel.get_by_label("Only the ones I tick").check()
        await panel.get_by_role("button", name="Add the webhook").click()  # none ticked: every event is not meant
        await expect(panel.locator("#wh-add-events-error")).to_have_text(
            "Tick at least one event, or choose “Every event”.")
        await expect(panel.locator("#wh-add-url-error")).to_have_text("")
        await panel.get_by_label("A match ends").check()
        await panel.get_by_label("A player is added or registers").check()
        await panel.get_by_role("button", name="Add the webhook").click()

        card = panel.locator(".webhook")
        await expect(card).to_have_count(1)
        await expect(card.locator("h3")).to_have_text(receiver.url)
        await expect(card.locator(".webhook-events-line")).to_have_text(
            "Events: A match ends · A player is added or registers")
        await expect(card.locator(".webhook-secret")).to_contain_text("copy it now, it is not shown again")
        secret_field = panel.get_by_role("textbox", name="Signing secret")
        await expect(secret_field).to_be_focused()
        shown = await secret_field.input_value()
        assert len(shown) >= 16
        await expect(url).to_have_value("")  # the form is done
        [hook] = await webhooks_of(api, tid)
        assert hook["events"] == ["match_completed", "participant_added"] and "secret" not in hook
        await panel.get_by_role("button", name="Copy the secret").click()
        await expect(panel.get_by_role("button", name="Copied", exact=True)).to_be_visible()
        await panel.get_by_role("button", name="I have copied it").click()
        await expect(card.locator(".webhook-secret")).to_have_count(0)

        await card.get_by_role("button", name="Send a test").click()
        await receiver.until(lambda: len(receiver.requests) == 1)
        headers, body = receiver.requests[0].headers, receiver.requests[0].raw
        assert json.loads(body)["type"] == "webhook_ping"
        stamp = int(re.match(r"t=(\d+),", headers[SIGNATURE_HEADER]).group(1))  # type: ignore[union-attr]
        assert headers[SIGNATURE_HEADER] == sign(shown, body, stamp)  # the secret shown is the one that signs
        rows = card.locator(".delivery-log tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first.locator("td")).to_have_text(["1", "webhook_ping", "Delivered", "HTTP 200", "1",
                                                             re.compile(r"^\d\d:\d\d:\d\d$"), "Replay from here"])
        await expect(desk.locator("#announcer")).to_have_text(re.compile(r"The test \(delivery 1\) was delivered: HTTP 200"))

        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Carol", "id": "carol"}, 201)
        await receiver.until(lambda: len(receiver.requests) == 2)
        assert receiver.delivered() == [(1, "webhook_ping"), (2, "participant_added")]
        await card.get_by_role("button", name="Refresh").click()
        await expect(rows).to_have_count(2)
        await expect(rows.first).to_contain_text("participant_added")

        await card.get_by_role("button", name="Edit").click()
        edit = card.get_by_role("form", name=re.compile("^Edit the webhook"))
        await expect(edit.get_by_label("Receiver URL")).to_have_value(receiver.url)
        await expect(edit.get_by_label("A match ends")).to_be_checked()
        await edit.get_by_label("Every event, new kinds too").check()
        await edit.get_by_role("button", name="Save").click()
        await expect(card.locator(".webhook-events-line")).to_have_text("Events: Every event")
        assert (await webhooks_of(api, tid))[0]["events"] == []

        await card.get_by_role("button", name="Disable").click()
        await expect(card.locator(".webhook-head .badge")).to_have_text("Disabled")
        await expect(card.get_by_role("button", name="Send a test")).to_have_count(0)
        assert (await webhooks_of(api, tid))[0]["enabled"] is False
        await card.get_by_role("button", name="Enable").click()
        await expect(card.locator(".webhook-head .badge")).to_have_count(0)
        assert (await webhooks_of(api, tid))[0]["enabled"] is True

        await desk.reload()  # the secret was shown once
        await expect(panel.locator(".webhook")).to_have_count(1)
        await expect(panel.get_by_role("textbox", name="Signing secret")).to_have_count(0)
        assert shown not in await desk.content()


@pytest.mark.gen_test(timeout=TIMEOUT_S * 2)
async def test_a_failing_receiver_pauses_and_resume_delivers(api: Api, receiver: Receiver) -> None:
    """On a phone: the test fails both tries and the webhook is paused, said in words with the
    failed row standing out, and what comes later waits; "Resume" once the receiver is healthy
    delivers both in order; "Replay from here" says how many go again and asks first; delete
    asks first."""
    tid = await tournament_with(api, PLAYERS)
    hook = await api.ok("POST", f"/api/tournaments/{tid}/webhooks", {"url": receiver.url}, 201)
    receiver.failing = True
    async with browser_pages(api, viewport={"width": 390, "height": 844}) as (desk,):
        panel = await open_desk(desk, api, tid)
        card = panel.locator(f'.webhook[data-webhook-id="{hook["id"]}"]')
        await card.get_by_role("button", name="Delivery log").click()
        await expect(card.locator(".webhook-log")).to_contain_text("Nothing sent yet")

        await card.get_by_role("button", name="Send a test").click()
        await receiver.until(lambda: len(receiver.requests) == 2)
        await expect(card.locator(".badge.paused")).to_have_text("Paused")
        await expect(card.locator(".webhook-paused")).to_contain_text(
            "PAUSED Delivery 1 failed all 2 tries; the last was answered HTTP 500.")
        await expect(card.locator(".webhook-paused")).to_contain_text("delivery 1 and everything after it are sent")
        failed = card.locator("tr.status-failed")
        await expect(failed).to_have_count(1)
        await expect(failed.locator("td").nth(2)).to_have_text("Failed")
        await expect(failed.locator("td").nth(3)).to_have_text("HTTP 500")
        await expect(desk.locator("#announcer")).to_have_text(re.compile(r"The test \(delivery 1\) failed"))
        await expect(card.get_by_role("button", name="Send a test")).to_have_count(0)  # it would wait behind the pause

        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Carol", "id": "carol"}, 201)
        await card.get_by_role("button", name="Refresh").click()
        rows = card.locator(".delivery-log tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.first.locator("td").nth(2)).to_have_text("Waiting")  # behind the pause
        assert len(receiver.requests) == 2
        assert await no_sideways_scroll(desk)  # no sideways page scroll
        scroller = card.locator(".table-scroll")
        assert await scroller.evaluate("(el) => el.getBoundingClientRect().right <= innerWidth")

        receiver.failing = False
        await card.get_by_role("button", name="Resume").click()
        await receiver.until(lambda: len(receiver.delivered()) == 2)
        assert receiver.delivered() == [(1, "webhook_ping"), (2, "participant_added")]
        await expect(card.locator(".badge.paused")).to_have_count(0)
        await expect(card.locator(".webhook-paused")).to_have_count(0)
        await expect(rows.locator(".badge")).to_have_text(["Delivered", "Delivered"])
        assert (await webhooks_of(api, tid))[0]["paused"] is None

        await card.get_by_role("button", name="Replay from here (delivery 1)").click()
        dialog = desk.get_by_role("dialog", name="Replay from delivery 1?")
        await expect(dialog).to_contain_text("Delivery 1 and the 1 after it, 2 in all, are sent again")
        await dialog.get_by_role("button", name="Keep it").click()
        await expect(dialog).to_have_count(0)
        await card.get_by_role("button", name="Replay from here (delivery 1)").click()
        await desk.get_by_role("dialog", name="Replay from delivery 1?").get_by_role("button", name="Send 2 again").click()
        await receiver.until(lambda: len(receiver.delivered()) == 4)
        assert receiver.delivered()[2:] == [(1, "webhook_ping"), (2, "participant_added")]  # again, in order
        await expect(desk.locator("#announcer")).to_have_text(
            re.compile("2 deliveries on their way again, from delivery 1"))
        await expect(rows.locator(".badge")).to_have_text(["Delivered", "Delivered"])

        await card.get_by_role("button", name="Delete the webhook").click()
        confirm = desk.get_by_role("dialog", name="Delete this webhook?")
        await expect(confirm).to_contain_text(receiver.url)
        await confirm.get_by_role("button", name="Keep it").click()
        await expect(card).to_have_count(1)
        await card.get_by_role("button", name="Delete the webhook").click()
        await confirm.get_by_role("button", name="Delete the webhook").click()
        await expect(card).to_have_count(0)
        await expect(panel.locator("#wh-none")).to_have_text("No webhook yet.")
    assert await webhooks_of(api, tid) == []
