"""An integrator's tests against a real livebracket server, with livebracket's pytest plugin.

    pip install "livebracket[pytest] @ file:///path/to/livebracket"
    pytest -p livebracket test_livebracket_example.py

Each test makes its own tournament on the one server of the session, so tests share nothing
and run in any order. The plugin's clients are synchronous: no event loop to set up.
"""

from __future__ import annotations


def test_a_spectator_follows_a_match_and_recovers_what_it_missed(
        livebracket_client, livebracket_socket, livebracket_token, make_tournament):
    """A score posted over REST reaches a spectator's socket; after a reconnect with since/epoch
    the spectator gets exactly the events it missed, in order."""
    cup = make_tournament(n=4)
    match_id = cup.matches[0]
    alice, bob = livebracket_client.get(f"/api/matches/{match_id}", expect=200).json["participant_ids"]

    fan = livebracket_socket(f"/ws/match/{match_id}", livebracket_token("spectator", "fan"))
    assert fan.welcome["data"]["match"]["state"] == "scheduled"

    livebracket_client.post(f"/api/matches/{match_id}/start", expect=200)
    assert fan.expect("match_started")["data"]["match"]["state"] == "live"

    as_alice = livebracket_client.with_token(livebracket_token("player", alice))
    as_alice.post(f"/api/matches/{match_id}/score", {"scores": {alice: 3}}, expect=200)
    scored = fan.expect("score_updated")
    assert scored["data"]["scores"] == {alice: 3, bob: 0}

    fan.close()  # the spectator's phone loses the network...
    as_alice.post(f"/api/matches/{match_id}/score", {"scores": {alice: 5}}, expect=200)
    livebracket_client.post(f"/api/matches/{match_id}/result", {"scores": {alice: 5, bob: 2}}, expect=200)

    back = fan.reconnect()  # ...and comes back with since=<last seq it got>&epoch=<its epoch>
    assert back.welcome["data"]["recovered"] is True
    missed = [back.expect("score_updated"), back.expect("match_completed")]
    assert [frame["seq"] for frame in missed] == [scored["seq"] + 1, scored["seq"] + 2]
    assert missed[1]["data"]["winner_id"] == alice


def test_players_report_over_their_sockets(livebracket_client, livebracket_socket, livebracket_token,
                                           make_tournament):
    """Both players' sockets: a report and its confirmation are acked, and the match completes."""
    cup = make_tournament(n=2)
    match_id = cup.matches[0]
    alice, bob = cup.participants
    livebracket_client.post(f"/api/matches/{match_id}/start", expect=200)

    alice_socket = livebracket_socket(f"/ws/match/{match_id}", livebracket_token("player", alice))
    bob_socket = livebracket_socket(f"/ws/match/{match_id}", livebracket_token("player", bob))
    report = alice_socket.command("report_score", {"scores": {alice: 13, bob: 9}})
    assert report["type"] == "ack" and report["data"]["state"] == "pending_result"

    refused = alice_socket.command("confirm_result")  # the reporter cannot confirm its own report
    assert (refused["type"], refused["code"]) == ("error", "not_opponent")

    assert bob_socket.command("confirm_result")["data"]["state"] == "completed"
    assert bob_socket.expect("match_completed")["data"]["confirmed_by"] == bob
    assert livebracket_client.get(f"/api/tournaments/{cup.id}", expect=200).json["state"] == "completed"


def test_a_bot_is_told_of_every_result(livebracket_client, webhook_sink, make_tournament):
    """A webhook for match_completed: one signed POST per result, numbered 1, 2, ... in order."""
    cup = make_tournament(n=4)
    hook = livebracket_client.post(f"/api/tournaments/{cup.id}/webhooks",
                                   {"url": webhook_sink.url, "events": ["match_completed"]}, expect=201).json
    for match_id in cup.matches[:2]:  # the two semifinals
        alice, bob = livebracket_client.get(f"/api/matches/{match_id}", expect=200).json["participant_ids"]
        livebracket_client.post(f"/api/matches/{match_id}/start", expect=200)
        livebracket_client.post(f"/api/matches/{match_id}/result", {"scores": {alice: 2, bob: 0}}, expect=200)

    first, second = webhook_sink.expect(2)
    assert [first.body["seq"], second.body["seq"]] == [1, 2]
    assert [d.body["type"] for d in (first, second)] == ["match_completed", "match_completed"]
    webhook_sink.verify(hook["secret"])  # each one signed with the secret answered at creation
