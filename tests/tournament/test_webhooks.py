"""Webhooks without sockets: the URL, event and secret rules, the signature, the outbox's order,
retries with backoff, the pause after the last retry, replay, a restart, and WebhookService."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest

from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock, FakeScheduler
from tournament import events as ev
from tournament.errors import ForbiddenError, InvalidValueError
from tournament.models import (DeliveryStatus, Event, Tournament, TournamentState, Webhook, match_stream,
                               tournament_stream)
from tournament.outbox import SIGNATURE_HEADER, WEBHOOK_PING, WebhookOutbox, retry_delay_s, sign
from tournament.roles import Principal, Role
from tournament.store import NotFoundError
from tournament.webhooks import EVENT_TYPES, MAX_WEBHOOKS, WebhookService, check_events, check_url

ORG = Principal("org", "Org", Role.ORGANIZER)
WAIT_S = 5.0


class Receiver:
    """A webhook endpoint as the outbox sees it: answers from a script (a status, or an
    exception for no answer), 200 once the script is used up; every request kept."""

    def __init__(self, *script: int | Exception) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.delivered: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    async def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        payload = json.loads(body)
        self.requests.append((url, payload, headers))
        self._changed.set()
        answer = self.script.pop(0) if self.script else 200
        if isinstance(answer, Exception):
            raise answer
        if 200 <= answer < 300:
            self.delivered.append(payload)
        return answer

    async def until(self, condition: Any) -> None:
        """Wait until `condition()` holds (each request is a chance)."""
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(wait(), WAIT_S)

    def seqs(self) -> list[int]:
        return [p["seq"] for p in self.delivered]


class Naps:
    """The outbox's sleep: every wait noted, none taken (a turn of the loop instead)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


class Bench:
    """A store with tournaments t1 and t2, an outbox posting to a Receiver, its service."""

    def __init__(self, receiver: Receiver, store: MemoryStore | None = None, max_attempts: int = 4) -> None:
        self.store = store or MemoryStore()
        self.clock = FakeClock()
        self.scheduler = FakeScheduler(self.clock)
        self.naps = Naps()
        self.receiver = receiver
        self.outbox = WebhookOutbox(self.store, receiver, self.scheduler, self.clock, sleep=self.naps,
                                    max_attempts=max_attempts)
        self.own: list[tuple[str, int]] = []

        async def is_this_server(host: str, port: int) -> bool:
            return (host, port) in self.own

        self.service = WebhookService(self.store, self.outbox, is_this_server, self.clock)

    async def start(self) -> Bench:
        for tid in ("t1", "t2"):
            try:
                await self.store.insert_tournament(Tournament(id=tid, name=tid, game="", format="single_elimination",
                                                              state=TournamentState.LIVE, created_by="org",
                                                              created_at=1.0))
            except Exception:
                pass  # a restart over the same store
        self.outbox.start()
        self.scheduler.advance(0)
        await self.outbox.loaded()
        return self

    def match_event(self, mid: str, seq: int, kind: str = ev.SCORE_UPDATED, tid: str = "t1") -> None:
        self.outbox.publish(Event(stream=match_stream(mid), seq=seq, type=kind,
                                  data={"tournament_id": tid, "match_id": mid, "n": seq}, ts=self.clock()))

    def tournament_event(self, kind: str = ev.PARTICIPANT_ADDED, tid: str = "t1") -> None:
        self.outbox.publish(Event(stream=tournament_stream(tid), seq=0, type=kind, data={"tournament_id": tid},
                                  ts=self.clock()))


def test_urls_must_be_absolute_http_without_credentials() -> None:
    """http(s) with a host: its host and port (the scheme's by default); anything else is a 422."""
    assert check_url("https://hooks.example.com/lb") == ("hooks.example.com", 443)
    assert check_url("http://127.0.0.1:9000/x?y=1") == ("127.0.0.1", 9000)
    assert check_url("http://[::1]/hook") == ("::1", 80)
    for bad in ("ftp://example.com/", "example.com/hook", "http:///nohost", "https://u:p@example.com/",
                "https://example.com/#frag", "http://example.com:99999/", "https://" + "a" * 2050 + ".com"):
        with pytest.raises(InvalidValueError) as refused:
            check_url(bad)
        assert refused.value.details["field"] == "url", bad


def test_event_filters_name_known_events_only() -> None:
    """Known types once each in the order given; unknown ones named; a match's chat is not offered."""
    assert check_events([ev.MATCH_COMPLETED, ev.SCORE_UPDATED, ev.MATCH_COMPLETED]) == (ev.MATCH_COMPLETED,
                                                                                    ev.SCORE_UPDATED)
    assert check_events([]) == ()
    with pytest.raises(InvalidValueError) as refused:
        check_events([ev.MATCH_COMPLETED, "match_exploded", ev.CHAT_MESSAGE])
    assert refused.value.details["unknown"] == ["match_exploded", ev.CHAT_MESSAGE]
    assert WEBHOOK_PING in EVENT_TYPES and ev.TOURNAMENT_COMPLETED in EVENT_TYPES


def test_the_signature_is_an_hmac_over_the_timestamp_and_body() -> None:
    """t=<seconds>,v1=<HMAC-SHA256 of "<t>." + body>: what a receiver recomputes."""
    body = b'{"seq":1}'
    expected = hmac.new(b"s3cret-s3cret-16", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret-s3cret-16", body, 1_700_000_000) == f"t=1700000000,v1={expected}"
    assert sign("another-secret-16", body, 1_700_000_000) != sign("s3cret-s3cret-16", body, 1_700_000_000)


def test_retries_wait_twice_as_long_each_time_up_to_the_cap() -> None:
    """1, 2, 4, 8 ... seconds, never more than the cap."""
    assert [retry_delay_s(n, 1.0, 300.0) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert retry_delay_s(10_000, 1.0, 300.0) == 300


@pytest.mark.gen_test
async def test_events_are_delivered_signed_in_order_with_the_webhooks_own_seq() -> None:
    """A match's and the tournament's events, in publish order, seq 1, 2, 3 with stream and stream seq;
    another tournament's events and a match's chat do not go."""
    bench = await Bench(Receiver()).start()
    webhook = await bench.service.create("t1", ORG, "https://hooks.example.com/lb")
    bench.match_event("t1-W1-1", 7)
    bench.tournament_event()
    bench.match_event("t2-W1-1", 1, tid="t2")
    bench.match_event("t1-W1-1", 8, ev.CHAT_MESSAGE)
    bench.match_event("t1-W1-1", 9, ev.MATCH_COMPLETED)
    await bench.receiver.until(lambda: len(bench.receiver.delivered) == 3)
    first, second, third = bench.receiver.delivered
    assert [first["seq"], second["seq"], third["seq"]] == [1, 2, 3]
    assert (first["stream"], first["stream_seq"], first["type"]) == ("match:t1-W1-1", 7, ev.SCORE_UPDATED)
    assert (second["stream"], second["stream_seq"], second["type"]) == ("tournament:t1", None, ev.PARTICIPANT_ADDED)
    assert third["type"] == ev.MATCH_COMPLETED and third["webhook_id"] == webhook.id
    url, payload, headers = bench.receiver.requests[0]
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert url == "https://hooks.example.com/lb"
    assert headers[SIGNATURE_HEADER] == sign(webhook.secret, body, int(bench.clock()))
    assert headers["X-Livebracket-Seq"] == "1" and headers["X-Livebracket-Webhook"] == webhook.id
    rows = await bench.store.list_deliveries(webhook.id)
    assert [(r.seq, r.status, r.attempts, r.last_status) for r in rows] == [
        (1, DeliveryStatus.DELIVERED, 1, 200), (2, DeliveryStatus.DELIVERED, 1, 200),
        (3, DeliveryStatus.DELIVERED, 1, 200)]
    await bench.outbox.close()


@pytest.mark.gen_test
async def test_a_filter_keeps_only_the_types_asked_for() -> None:
    """A webhook for match_completed gets that and nothing else; an empty filter gets everything."""
    bench = await Bench(Receiver()).start()
    only = await bench.service.create("t1", ORG, "https://a.example.com/", events=[ev.MATCH_COMPLETED])
    every = await bench.service.create("t1", ORG, "https://b.example.com/")
    bench.match_event("t1-W1-1", 1)
    bench.match_event("t1-W1-1", 2, ev.MATCH_COMPLETED)
    await bench.receiver.until(lambda: len(bench.receiver.delivered) == 3)
    by_hook: dict[str, list[str]] = {}
    for payload in bench.receiver.delivered:
        by_hook.setdefault(payload["webhook_id"], []).append(payload["type"])
    assert by_hook == {only.id: [ev.MATCH_COMPLETED], every.id: [ev.SCORE_UPDATED, ev.MATCH_COMPLETED]}
    await bench.outbox.close()


@pytest.mark.gen_test
async def test_a_failed_delivery_is_retried_with_backoff_before_the_next_goes() -> None:
    """A 500 and a refused connection, then a 200: delivered once, on its third attempt, after
    waits of 1 and 2 s; the next delivery only after it."""
    bench = await Bench(Receiver(500, ConnectionRefusedError("refused"))).start()
    webhook = await bench.service.create("t1", ORG, "https://hooks.example.com/")
    bench.match_event("t1-W1-1", 1)
    bench.match_event("t1-W1-1", 2)
    await bench.receiver.until(lambda: len(bench.receiver.delivered) == 2)
    assert [p["seq"] for _, p, _ in bench.receiver.requests] == [1, 1, 1, 2]
    assert bench.receiver.seqs() == [1, 2]
    assert bench.naps.waits == [1.0, 2.0]
    first = (await bench.store.list_deliveries(webhook.id))[0]
    assert (first.status, first.attempts, first.last_status, first.last_error) == (DeliveryStatus.DELIVERED, 3, 200,
                                                                                   None)
    await bench.outbox.close()


@pytest.mark.gen_test
async def test_the_last_retry_pauses_the_webhook_and_a_replay_goes_on_in_order() -> None:
    """Four failures of delivery 1 mark it failed and pause the webhook (kept in the store, with
    why); what comes later waits; a replay from 1 delivers 1, 2, 3 in order and unpauses."""
    bench = await Bench(Receiver(503, 503, 503, 503), max_attempts=4).start()
    webhook = await bench.service.create("t1", ORG, "https://hooks.example.com/")
    bench.match_event("t1-W1-1", 1)
    bench.match_event("t1-W1-1", 2)
    await bench.receiver.until(lambda: len(bench.receiver.requests) == 4)
    stored = await bench.service.get("t1", webhook.id, ORG)
    for _ in range(50):  # the pause is saved right after the fourth answer
        if stored.paused:
            break
        await asyncio.sleep(0)
        stored = await bench.service.get("t1", webhook.id, ORG)
    assert (stored.paused, stored.paused_seq) == ("delivery 1 failed 4 times (last: answered 503)", 1)
    bench.match_event("t1-W1-1", 3)
    await bench.outbox.flush()
    log = await bench.service.deliveries("t1", webhook.id, ORG)
    assert [(r.seq, r.status) for r in log] == [(3, DeliveryStatus.PENDING), (2, DeliveryStatus.PENDING),
                                                (1, DeliveryStatus.FAILED)]
    assert len(bench.receiver.requests) == 4 and not bench.receiver.delivered
    assert await bench.service.replay("t1", webhook.id, ORG, 1) == 3
    await bench.receiver.until(lambda: len(bench.receiver.delivered) == 3)
    assert bench.receiver.seqs() == [1, 2, 3]
    resumed = await bench.service.get("t1", webhook.id, ORG)
    assert (resumed.paused, resumed.paused_seq) == (None, None)
    with pytest.raises(InvalidValueError):
        await bench.service.replay("t1", webhook.id, ORG, 4)
    await bench.outbox.close()


@pytest.mark.gen_test
async def test_a_restart_delivers_what_was_queued_and_numbers_on() -> None:
    """Deliveries queued while the receiver was down are delivered after a restart over the same
    store, in order; the next event gets the next seq."""
    store = MemoryStore()
    down = Receiver(*[ConnectionRefusedError("down")] * 100)
    before = await Bench(down, store, max_attempts=100).start()
    webhook = await before.service.create("t1", ORG, "https://hooks.example.com/")
    for seq in (1, 2, 3):
        before.match_event("t1-W1-1", seq)
    await down.until(lambda: len(down.requests) >= 2)
    await before.outbox.close()
    assert [r.status for r in await store.list_deliveries(webhook.id)] == [DeliveryStatus.PENDING] * 3
    after = await Bench(Receiver(), store).start()
    after.match_event("t1-W1-1", 4)
    await after.receiver.until(lambda: len(after.receiver.delivered) == 4)
    assert after.receiver.seqs() == [1, 2, 3, 4]
    assert [p["stream_seq"] for p in after.receiver.delivered] == [1, 2, 3, 4]
    await after.outbox.close()


@pytest.mark.gen_test
async def test_a_disabled_webhook_queues_nothing_until_enabled() -> None:
    """Events while disabled are not queued; once enabled again the next ones go."""
    bench = await Bench(Receiver()).start()
    webhook = await bench.service.create("t1", ORG, "https://hooks.example.com/")
    assert not (await bench.service.update("t1", webhook.id, ORG, enabled=False)).enabled
    bench.match_event("t1-W1-1", 1)
    await bench.outbox.flush()
    assert await bench.store.list_deliveries(webhook.id) == []
    with pytest.raises(InvalidValueError):
        await bench.service.ping("t1", webhook.id, ORG)
    await bench.service.update("t1", webhook.id, ORG, enabled=True)
    bench.match_event("t1-W1-1", 2)
    assert await bench.service.ping("t1", webhook.id, ORG) == 2
    await bench.receiver.until(lambda: len(bench.receiver.delivered) == 2)
    assert [(p["seq"], p["stream_seq"], p["type"]) for p in bench.receiver.delivered] == [
        (1, 2, ev.SCORE_UPDATED), (2, None, WEBHOOK_PING)]
    await bench.outbox.close()


@pytest.mark.gen_test
async def test_the_service_refuses_what_it_must() -> None:
    """Players may not; an unknown tournament or webhook is a 404; the server's own address, an
    eleventh webhook and a short secret are 422s; a given secret is kept."""
    bench = await Bench(Receiver()).start()
    bench.own.append(("127.0.0.1", 8080))
    with pytest.raises(ForbiddenError):
        await bench.service.create("t1", Principal("p", "P", Role.PLAYER), "https://a.example.com/")
    with pytest.raises(NotFoundError):
        await bench.service.create("nope", ORG, "https://a.example.com/")
    with pytest.raises(InvalidValueError) as refused:
        await bench.service.create("t1", ORG, "http://127.0.0.1:8080/hook")
    assert refused.value.code == "webhook_url_is_this_server"
    with pytest.raises(InvalidValueError):
        await bench.service.create("t1", ORG, "https://a.example.com/", secret="short")
    kept = await bench.service.create("t1", ORG, "https://a.example.com/", secret="my-own-secret-0001")
    assert kept.secret == "my-own-secret-0001"
    for n in range(MAX_WEBHOOKS - 1):
        await bench.service.create("t1", ORG, f"https://a.example.com/{n}")
    with pytest.raises(InvalidValueError) as refused:
        await bench.service.create("t1", ORG, "https://a.example.com/11")
    assert refused.value.code == "too_many_webhooks"
    with pytest.raises(NotFoundError):
        await bench.service.get("t2", kept.id, ORG)  # not t2's
    await bench.outbox.close()


@pytest.mark.gen_test
async def test_deleting_a_webhook_or_its_tournament_stops_it_and_drops_its_outbox() -> None:
    """A deleted webhook gets nothing more and its rows are gone; a deleted tournament's webhooks
    are forgotten with it."""
    bench = await Bench(Receiver(*[ConnectionRefusedError("down")] * 100), max_attempts=100).start()
    gone = await bench.service.create("t1", ORG, "https://a.example.com/")
    other = await bench.service.create("t2", ORG, "https://b.example.com/")
    bench.match_event("t1-W1-1", 1)
    await bench.receiver.until(lambda: len(bench.receiver.requests) >= 1)
    await bench.service.delete("t1", gone.id, ORG)
    assert await bench.store.list_deliveries(gone.id) == []
    with pytest.raises(NotFoundError):
        await bench.service.get("t1", gone.id, ORG)
    bench.tournament_event(ev.TOURNAMENT_DELETED, tid="t2")
    await bench.store.delete_tournament("t2")
    bench.match_event("t2-W1-1", 1, tid="t2")
    assert await bench.store.list_webhooks() == [] and await bench.store.list_deliveries(other.id) == []
    await bench.outbox.close()


def test_a_webhooks_json_never_carries_its_secret() -> None:
    """The secret is answered once, on creation (by the route), never in a webhook's JSON."""
    webhook = Webhook(id="wh_1", tournament_id="t1", url="https://a.example.com/", secret="s" * 20,
                      created_by="org", created_at=1.0)
    assert "secret" not in webhook.to_json() and "s" * 20 not in json.dumps(webhook.to_json())
