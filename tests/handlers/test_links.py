"""Event links over real HTTP and sockets (issue 13): one link per player for the whole
tournament, scoped to it; short codes; screen links renewed; revoking one or all, refused at
once on REST and on the sockets already open."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.handlers.test_brackets_api import tournament_with
from tests.handlers.test_series import acked
from tests.wsclient import connect, refused


@pytest.mark.gen_test(timeout=30)
async def test_a_player_link_acts_only_in_its_tournament_and_a_code_gives_the_same_player(api: Api) -> None:
    tid = await tournament_with(api, 4, "single_elimination")
    other = await tournament_with(api, 2, "single_elimination")
    minted = await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201)
    links = {link["participant_id"]: link for link in minted["links"]}
    assert sorted(links) == ["p1", "p2", "p3", "p4"]
    assert all(len(link["code"]) == 8 and link["url"].endswith(f"/me/{tid}?token={link['token']}")
               for link in links.values())
    again = await api.ok("POST", f"/api/tournaments/{tid}/links", {"qr": True}, 201)
    assert all(link["qr_svg"].startswith("<svg") for link in again["links"])  # a printable sheet at once
    assert all(link["join_url"].endswith(f"/join/{tid}?code={link['code']}") for link in again["links"])
    assert [link["code"] for link in again["links"]] == [links[p]["code"] for p in ("p1", "p2", "p3", "p4")]
    await api.ok("POST", f"/api/tournaments/{tid}/start", {})
    await api.ok("POST", f"/api/tournaments/{other}/start", {})
    (elsewhere,) = (await api.ok("GET", f"/api/tournaments/{other}/matches"))["matches"]
    mine = next(m for m in (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
                if "p1" in m["participant_ids"])
    p1 = links["p1"]["token"]
    for m in (mine, elsewhere):
        await api.ok("POST", f"/api/matches/{m['id']}/open-check-in")
    await api.ok("POST", f"/api/matches/{mine['id']}/check-in", as_=p1)
    status, body = await api.post(f"/api/matches/{elsewhere['id']}/check-in", as_=p1)  # p1 of another tournament
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")

    code = links["p2"]["code"]
    joined = await api.ok("POST", f"/api/tournaments/{tid}/join", {"code": f" {code[:4]}-{code[4:].lower()} "},
                          as_=None)
    assert (joined["participant_id"], joined["role"]) == ("p2", "player")
    for bad in ({"code": "NOPE2345"}, {"code": code, "x": 1}):
        status, body = await api.post(f"/api/tournaments/{other}/join", bad, as_=None)
        assert (status, body["error"]["code"]) == (404, "not_found")  # a code of another tournament: unknown
    status, body = await api.post(f"/api/tournaments/{tid}/join", {"code": "\u0000"}, as_=None)
    assert status == 422


@pytest.mark.gen_test(timeout=30)
async def test_revoking_one_player_or_all_refuses_at_once_and_closes_open_sockets(api: Api) -> None:
    tid = await tournament_with(api, 2, "single_elimination")
    links = {link["participant_id"]: link["token"] for link in
             (await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201))["links"]}
    await api.ok("POST", f"/api/tournaments/{tid}/start", {})
    (match,) = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    await api.ok("POST", f"/api/matches/{match['id']}/open-check-in")
    p1_phone, _ = await connect(api, f"/ws/match/{match['id']}", links["p1"])
    p2_phone, _ = await connect(api, f"/ws/match/{match['id']}", links["p2"])
    screen = await api.ok("POST", f"/api/tournaments/{tid}/screens", {"name": "Projector"}, 201)
    board, _ = await connect(api, f"/ws/tournament/{tid}", screen["token"])

    status, body = await api.post(f"/api/tournaments/{tid}/links/revoke", {"subject": "nobody"})
    assert (status, body["error"]["code"]) == (404, "not_found")  # a subject it does not know grows nothing
    p1_code = next(link["code"] for link in (await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201))["links"]
                   if link["participant_id"] == "p1")
    answer = await api.ok("POST", f"/api/tournaments/{tid}/links/revoke", {"subject": "p1"})
    assert (answer["revoked"], answer["sockets_closed"]) == ("p1", 1)
    error = await p1_phone.recv()
    assert (error["type"], error["code"], error["reason"]) == ("error", "invalid_token", "token_revoked")
    assert await p1_phone.closed() == (4503, "invalid_token")
    status, body = await api.get(f"/api/matches/{match['id']}", as_=links["p1"])
    assert (status, body["error"]["code"]) == (401, "token_revoked")
    assert await refused(api, f"/ws/match/{match['id']}", links["p1"]) == (
        "error", "invalid_token", 4503, "invalid_token", "token_revoked")
    await acked(p2_phone, {"type": "ready_up", "id": 1})  # p2 is untouched
    fresh = {link["participant_id"]: link["token"] for link in
             (await api.ok("POST", f"/api/tournaments/{tid}/links", {}, 201))["links"]}
    await api.ok("GET", f"/api/matches/{match['id']}", as_=fresh["p1"])  # minted after: good
    status, body = await api.post(f"/api/tournaments/{tid}/join", {"code": p1_code}, as_=None)
    assert status == 404  # the revoked player's old code is retired with the link
    status, _ = await api.get("/healthz", as_=links["p1"])
    assert status == 200  # a route that needs no token answers, whatever token is sent

    renewed = await api.ok("POST", "/api/tokens/renew", as_=screen["token"])
    assert renewed["expires_at"] >= screen["expires_at"] and renewed["subject"] == screen["subject"]
    short = await api.ok("POST", f"/api/tournaments/{tid}/screens", {"name": "Overlay", "ttl_s": 60}, 201)
    stretched = await api.ok("POST", "/api/tokens/renew", as_=short["token"])
    assert stretched["expires_at"] - short["expires_at"] < 60  # a renewal keeps the lifetime it was minted with
    answer = await api.ok("POST", f"/api/tournaments/{tid}/links/revoke", {"subject": short["subject"]})
    assert answer["sockets_closed"] == 0
    status, body = await api.post("/api/tokens/renew", as_=api.organizer)
    assert (status, body["error"]["field"]) == (422, "token")

    answer = await api.ok("POST", f"/api/tournaments/{tid}/links/revoke", {})
    assert answer["revoked"] == "all" and answer["sockets_closed"] == 2  # p2's phone and the board
    assert await board.closed() == (4503, "invalid_token")
    for token in (fresh["p1"], links["p2"], renewed["token"]):
        status, body = await api.get(f"/api/tournaments/{tid}", as_=token)
        assert (status, body["error"]["code"]) == (401, "token_revoked")
    await api.ok("GET", f"/api/tournaments/{tid}")  # the organizer's own token is no link
    status, body = await api.post(f"/api/tournaments/{tid}/links/revoke", {}, as_=links["p2"])
    assert status == 401


@pytest.mark.gen_test(timeout=30)
async def test_a_player_token_is_an_event_link_of_one_tournament(api: Api) -> None:
    """POST /api/tokens mints a player's token only for a tournament, as its event link: it acts
    in that tournament alone (not in another's match, nor another's veto, whose player has the
    same id), and revoking the player refuses it at once and closes its socket. An unscoped
    player token is a 422 naming the links route; the desk's links of one match are those two
    players' event links."""
    tid = await tournament_with(api, 2, "single_elimination")
    other = await tournament_with(api, 2, "single_elimination")
    third = await tournament_with(api, 4, "single_elimination")
    status, body = await api.post("/api/tokens", {"user_id": "p1", "role": "player"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_value", "tournament_id")
    assert "POST /api/tournaments/{id}/links" in body["error"]["message"]
    for bad, code in [({"user_id": "nobody", "role": "player", "tournament_id": tid}, 404),
                      ({"user_id": "p1", "role": "player", "tournament_id": "t_unknown"}, 404),
                      ({"user_id": "screen", "role": "spectator", "tournament_id": tid}, 422)]:
        status, body = await api.post("/api/tokens", bad)
        assert status == code, (bad, body)
    minted = await api.ok("POST", "/api/tokens", {"user_id": "p1", "role": "participant", "tournament_id": tid,
                                                  "ttl_s": 3600}, 201)
    assert (minted["user_id"], minted["username"], minted["role"], minted["tournament_id"]) == (
        "p1", "P1", "player", tid)  # the participant's name
    assert minted["url"].endswith(f"/me/{tid}?token={minted['token']}") and len(minted["code"]) == 8
    user = api.services.tokens.decode(minted["token"])
    assert (user.tournament_id, user.link_ttl_s) == (tid, 3600)
    p1 = minted["token"]

    for t in (tid, other):
        await api.ok("POST", f"/api/tournaments/{t}/start", {})
    await api.ok("POST", f"/api/tournaments/{third}/start", {"veto": {"pool": ["Nuke", "Mirage", "Dust2"],
                                                                      "first": "higher_seed"}})
    (mine,) = (await api.ok("GET", f"/api/tournaments/{tid}/matches"))["matches"]
    (elsewhere,) = (await api.ok("GET", f"/api/tournaments/{other}/matches"))["matches"]
    vetoed = next(m for m in (await api.ok("GET", f"/api/tournaments/{third}/matches"))["matches"]
                  if "p1" in m["participant_ids"])
    assert (await api.ok("POST", f"/api/matches/{vetoed['id']}/start-veto"))["veto"]["turn"]["by"] == "p1"
    for m in (mine, elsewhere):
        await api.ok("POST", f"/api/matches/{m['id']}/open-check-in")
    status, body = await api.post(f"/api/matches/{elsewhere['id']}/check-in", as_=p1)
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")  # p1 of another tournament
    status, body = await api.post(f"/api/matches/{vetoed['id']}/veto", {"map": "Nuke"}, as_=p1)
    assert (status, body["error"]["code"]) == (403, "insufficient_permissions")  # nor its veto
    phone, _ = await connect(api, f"/ws/match/{mine['id']}", p1)
    await acked(phone, {"type": "ready_up", "id": 1})  # in its own tournament it acts

    desk = await api.ok("POST", f"/api/tournaments/{tid}/links", {"subjects": ["p2", "p1"]}, 201)
    assert [link["participant_id"] for link in desk["links"]] == ["p1", "p2"]
    assert all(link["url"].endswith(f"/me/{tid}?token={link['token']}") for link in desk["links"])
    assert desk["links"][0]["code"] == minted["code"]  # the player's one code, whichever route minted it
    assert (await api.ok("POST", f"/api/tournaments/{tid}/links", {"subjects": []}, 201))["links"] == []
    refused: list[tuple[dict[str, object], int]] = [({"subjects": ["p1", "nobody"]}, 404), ({"subjects": "p1"}, 400),
                                                    ({"subjects": [""]}, 422)]
    for wrong, code in refused:
        status, body = await api.post(f"/api/tournaments/{tid}/links", wrong)
        assert status == code, (wrong, body)

    answer = await api.ok("POST", f"/api/tournaments/{tid}/links/revoke", {"subject": "p1"})
    assert answer["sockets_closed"] == 1
    assert await phone.closed() == (4503, "invalid_token")
    for token in (p1, desk["links"][0]["token"]):
        status, body = await api.get(f"/api/matches/{mine['id']}", as_=token)
        assert (status, body["error"]["code"]) == (401, "token_revoked")
    await api.ok("GET", f"/api/matches/{mine['id']}", as_=desk["links"][1]["token"])  # p2's link is untouched
