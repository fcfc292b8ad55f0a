"""Webhooks over real HTTP: a match played over REST reaches a loopback receiver signed and in
order, the refusals, a failing receiver pauses its webhook and a replay resumes it, and a
server restarted (SIGTERM, kill -9) delivers what it had queued."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from pathlib import Path

import pytest

from config import Config
from pytest_livebracket.webhooks import verify_signature
from storage.embedded import free_port
from tests.conftest import Api
from tests.serverprocess import Client, ServerProcess
from tests.webhookreceiver import Receiver

WAIT_S = 10.0


@pytest.fixture
def config(config: Config, http_port: int) -> Config:
    """The app under test knows the port it is served on (a webhook to it is refused), and
    retries fast."""
    return dataclasses.replace(config, port=http_port, webhook_attempts=2, webhook_retry_base_s=0.01)


async def play_a_match(api: Api) -> tuple[str, str]:
    """An ad-hoc match of alice and bob, started, scored and confirmed: (tournament, match)."""
    tid, match = await api.match_between("alice", "bob")
    return tid, match["id"]


async def finish(api: Api, mid: str) -> None:
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/score", {"scores": {"alice": 1, "bob": 0}})
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 1}}, as_=api.token("alice"))
    await api.ok("POST", f"/api/matches/{mid}/confirm", as_=api.token("bob"))


@pytest.mark.gen_test(timeout=30)
async def test_a_match_reaches_the_webhook_signed_in_the_order_of_its_log(api: Api, receiver: Receiver) -> None:
    """Every event of the match's log, once each, in log order, numbered 1..n, each signed with the
    secret answered at creation; the delivery log says delivered."""
    tid, mid = await play_a_match(api)
    hook = await api.ok("POST", f"/api/tournaments/{tid}/webhooks", {"url": receiver.url}, 201)
    assert api.last_headers["Location"] == f"/api/tournaments/{tid}/webhooks/{hook['id']}"
    assert len(hook["secret"]) >= 32 and hook["events"] == [] and hook["paused"] is None
    await finish(api, mid)
    log = (await api.ok("GET", f"/api/matches/{mid}/events"))["events"]
    bodies = await receiver.first(len(log))
    assert [b["seq"] for b in bodies] == list(range(1, len(log) + 1))
    assert [(b["stream"], b["stream_seq"], b["type"]) for b in bodies] == [
        (f"match:{mid}", e["seq"], e["type"]) for e in log]
    assert bodies[-1]["type"] == "match_completed" and bodies[-1]["tournament_id"] == tid
    for got in receiver.requests:
        body, raw, headers = got.body, got.raw, got.headers
        assert verify_signature(hook["secret"], headers["X-Livebracket-Signature"], raw)
        assert not verify_signature("another-secret-entirely", headers["X-Livebracket-Signature"], raw)
        assert headers["X-Livebracket-Seq"] == str(body["seq"]) and headers["X-Livebracket-Webhook"] == hook["id"]
    assert "secret" not in await api.ok("GET", f"/api/tournaments/{tid}/webhooks/{hook['id']}")
    # A ping goes only once every delivery before it is answered and saved: then the log is final.
    await api.ok("POST", f"/api/tournaments/{tid}/webhooks/{hook['id']}/ping", expect=202)
    await receiver.first(len(log) + 1)
    deliveries = (await api.ok("GET", f"/api/tournaments/{tid}/webhooks/{hook['id']}/deliveries"))["deliveries"]
    assert [(d["seq"], d["status"], d["attempts"], d["last_status"]) for d in deliveries[1:]] == [
        (n, "delivered", 1, 200) for n in range(len(log), 0, -1)]


@pytest.mark.gen_test(timeout=30)
async def test_refusals_say_what_is_wrong_and_change_nothing(api: Api, http_port: int, receiver: Receiver) -> None:
    """Not http(s), this server itself (by address or by name), a host that does not resolve, an
    unknown event type, a player's token, an unknown webhook, a replay past the end."""
    tid, _ = await play_a_match(api)
    path = f"/api/tournaments/{tid}/webhooks"
    for url, code in (("ftp://127.0.0.1/x", "invalid_webhook_url"), ("http://user:pw@127.0.0.1/", "invalid_webhook_url"),
                      (f"http://127.0.0.1:{http_port}/api", "webhook_url_is_this_server"),
                      (f"http://localhost:{http_port}/api", "webhook_url_is_this_server"),
                      ("http://no-such-host.invalid/hook", "invalid_webhook_url"),
                      ("http://exa\u200bmple..com/hook", "invalid_webhook_url"),
                      ("http://" + "a" * 70 + ".com/", "invalid_webhook_url"),
                      ("http://127.0.0.1:0/hook", "invalid_webhook_url"),
                      ("https://127.0.0.1/#top", "invalid_webhook_url")):
        status, body = await api.post(path, {"url": url})
        assert (status, body["error"]["code"]) == (422, code), url
    status, body = await api.post(path, {"url": receiver.url, "events": ["match_completed", "match_exploded"]})
    assert (status, body["error"]["code"], body["error"]["unknown"]) == (422, "invalid_value",
                                                                                    ["match_exploded"])
    status, body = await api.post(path, {"url": receiver.url}, as_=api.token("alice"))
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")
    assert (await api.ok("GET", path))["webhooks"] == []
    status, body = await api.get(f"{path}/wh_nope")
    assert (status, body["error"]["code"]) == (404, "not_found")
    hook = await api.ok("POST", path, {"url": receiver.url, "events": ["match_completed"]}, 201)
    status, body = await api.post(f"{path}/{hook['id']}/replay", {"from_seq": 1})
    assert (status, body["error"]["code"]) == (422, "no_such_delivery")
    status, body = await api.request("PATCH", f"{path}/{hook['id']}", {"url": f"http://127.0.0.1:{http_port}/"})
    assert (status, body["error"]["code"]) == (422, "webhook_url_is_this_server")
    assert (await api.ok("GET", f"{path}/{hook['id']}"))["url"] == receiver.url


@pytest.mark.gen_test(timeout=30)
async def test_a_failing_receiver_pauses_the_webhook_and_a_replay_resumes_in_order(api: Api,
                                                                                  receiver: Receiver) -> None:
    """Two 500s (the test's two tries) mark delivery 1 failed and pause the webhook; later events
    wait; a replay from 1 delivers 1, 2, ... in order."""
    tid, mid = await play_a_match(api)
    path = f"/api/tournaments/{tid}/webhooks"
    hook = await api.ok("POST", path, {"url": receiver.url, "events": ["webhook_ping", "match_completed"]}, 201)
    receiver.fail_next(500, 500)
    ping = await api.ok("POST", f"{path}/{hook['id']}/ping", expect=202)
    assert ping == {"seq": 1}
    await receiver.first(2)
    paused = await api.ok("GET", f"{path}/{hook['id']}")
    for _ in range(100):  # saved right after the second answer
        if paused["paused"]:
            break
        await asyncio.sleep(0.01)
        paused = await api.ok("GET", f"{path}/{hook['id']}")
    assert paused["paused"] == "delivery 1 failed 2 times (last: answered 500)"
    await finish(api, mid)
    log = (await api.ok("GET", f"{path}/{hook['id']}/deliveries"))["deliveries"]
    assert [(d["seq"], d["type"], d["status"], d["last_status"]) for d in log] == [
        (2, "match_completed", "pending", None), (1, "webhook_ping", "failed", 500)]
    assert len(receiver.requests) == 2
    assert await api.ok("POST", f"{path}/{hook['id']}/replay", {"from_seq": 1}) == {"from_seq": 1, "pending": 2}
    bodies = await receiver.first(4)
    assert [(b["seq"], b["type"]) for b in bodies[2:]] == [(1, "webhook_ping"), (2, "match_completed")]
    assert (await api.ok("GET", f"{path}/{hook['id']}"))["paused"] is None


@pytest.mark.gen_test(timeout=30)
async def test_a_deleted_webhook_gets_nothing_more(api: Api, receiver: Receiver) -> None:
    """After DELETE, the match's events go nowhere and the webhook is a 404."""
    tid, mid = await play_a_match(api)
    path = f"/api/tournaments/{tid}/webhooks"
    hook = await api.ok("POST", path, {"url": receiver.url}, 201)
    assert await api.ok("DELETE", f"{path}/{hook['id']}") == {"removed": hook["id"]}
    await finish(api, mid)
    other = await api.ok("POST", path, {"url": receiver.url, "events": ["webhook_ping"]}, 201)
    await api.ok("POST", f"{path}/{other['id']}/ping", expect=202)
    bodies = await receiver.first(1)  # the ping of the other webhook comes; nothing of the deleted one
    assert [(b["webhook_id"], b["type"]) for b in bodies] == [(other["id"], "webhook_ping")]
    assert len(receiver.requests) == 1
    status, _ = await api.get(f"{path}/{hook['id']}")
    assert status == 404


@pytest.mark.gen_test(timeout=120)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
async def test_a_restart_delivers_what_was_queued(tmp_path: Path, receiver: Receiver, stop: int) -> None:
    """Events queued while the receiver answered 503 are kept across SIGTERM and kill -9 (once
    written to the outbox) and delivered after the restart, in order, none missing; a delivery cut
    off may come twice, with the same seq."""
    port, data_dir = free_port(), tmp_path / "data"
    args = ("--port", str(port), "--data-dir", str(data_dir), "--limits",
            "write_rate_per_user=1000,write_burst_per_user=1000,webhook_attempts=1000,webhook_retry_base_s=0.05,"
            "webhook_retry_cap_s=0.05")
    receiver.failing = True
    async with ServerProcess(*args, log_path=tmp_path / "before.log") as server:
        client = Client(port, server.token)
        tournament = await client.ok("POST", "/api/tournaments", {"name": "Hooked"}, 201)
        tid = tournament["id"]
        hook = await client.ok("POST", f"/api/tournaments/{tid}/webhooks", {"url": receiver.url}, 201)
        for name in ("alice", "bob", "carol", "dave"):
            await client.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name, "id": name}, 201)
        await client.ok("POST", f"/api/tournaments/{tid}/start")
        # The ping is queued after every event so far; the outbox is written in order, so once the
        # ping's row is in the log, so is every row before it.
        last = (await client.ok("POST", f"/api/tournaments/{tid}/webhooks/{hook['id']}/ping", expect=202))["seq"]
        assert last >= 6  # four participants, the bracket, its seats
        newest = 0
        while newest < last:
            newest = (await client.ok("GET", f"/api/tournaments/{tid}/webhooks/{hook['id']}/deliveries?limit=1")
                      )["deliveries"][0]["seq"]
        await receiver.first(1)
        assert await server.signal(stop) in (0, -signal.SIGKILL)
    written = len(receiver.requests)
    receiver.failing = False
    async with ServerProcess(*args, log_path=tmp_path / "after.log") as server:
        client = Client(port, server.token)
        await receiver.first(written + last)
        after = [got.body["seq"] for got in receiver.requests[written:]]
        assert after == list(range(1, last + 1))
        assert receiver.requests[-1].body["type"] == "webhook_ping"
        assert all(got.body["webhook_id"] == hook["id"] for got in receiver.requests)
