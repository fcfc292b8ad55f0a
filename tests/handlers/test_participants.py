"""Participant management over real HTTP and sockets: bulk add (a list or CSV), edit, remove, re-seed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.wsclient import connect
from tournament.roles import Role


async def cup(api: Api, *players: tuple[str, int | None]) -> str:
    """A draft tournament with these (name, seed) participants; each id is the name in lower case."""
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "Cup"}, 201))["id"]
    for name, seed in players:
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name, "id": name.lower(), "seed": seed},
                     201)
    return tid


async def registered(api: Api, tid: str) -> list[tuple[str, str, int | None]]:
    """(id, name, seed) of each participant, in registration order."""
    listed = (await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"]
    return [(p["id"], p["name"], p["seed"]) for p in listed]


async def bulk(api: Api, tid: str, body: dict[str, Any], **kw: Any) -> tuple[int, Any]:
    return await api.post(f"/api/tournaments/{tid}/participants/bulk", body, **kw)


def problems(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(row["row"], row["field"]) for row in body["error"]["rows"]]


@pytest.mark.gen_test
async def test_bulk_from_a_list_adds_every_row_in_order(api: Api) -> None:
    """A JSON list adds each row in order, with its seed and id or a generated id, after the
    registered; the answer and the list agree."""
    tid = await cup(api, ("Alice", 1))
    status, body = await bulk(api, tid, {"participants": [{"name": "Zed", "seed": 2, "id": "zed"}, {"name": "  Bob "},
                                                          {"name": "Ann", "seed": 3}]})
    assert status == 201
    added = body["participants"]
    assert [(p["name"], p["seed"]) for p in added] == [("Zed", 2), ("Bob", None), ("Ann", 3)]
    assert added[0]["id"] == "zed" and added[1]["id"].startswith("p_") and added[2]["tournament_id"] == tid
    assert await registered(api, tid) == [("alice", "Alice", 1), *[(p["id"], p["name"], p["seed"]) for p in added]]


@pytest.mark.gen_test
async def test_bulk_csv_without_a_header(api: Api) -> None:
    """Without a header the columns are name, seed, id; empty cells are none, cells are stripped."""
    tid = await cup(api)
    status, body = await bulk(api, tid, {"csv": "Alice,1,alice\nBob, 2 \nCarol,,carol\nDave\n"})
    assert status == 201
    assert [(p["name"], p["seed"]) for p in body["participants"]] == [("Alice", 1), ("Bob", 2), ("Carol", None),
                                                                       ("Dave", None)]
    assert [p["id"] for p in body["participants"]][::2] == ["alice", "carol"]
    assert len(await registered(api, tid)) == 4


@pytest.mark.gen_test
async def test_bulk_csv_header_quotes_unicode_and_blank_lines(api: Api) -> None:
    """A header (any case, a BOM before it) orders the columns; quoted names keep their commas
    and quotes, Unicode names stay as written, blank lines and CRLF line ends are fine."""
    tid = await cup(api)
    text = ('\ufeffID, Name ,SEED\r\n\r\n'
            'doe,"Doe, Jane",4\r\n'
            'zoe,Zoë 🎮,\r\n'
            '   \r\n'
            ',"The ""Best"" Team",1\r\n'
            'yu,山田 太郎,2\r\n')
    status, body = await bulk(api, tid, {"csv": text})
    assert status == 201, body
    assert [(p["name"], p["seed"]) for p in body["participants"]] == [
        ("Doe, Jane", 4), ("Zoë 🎮", None), ('The "Best" Team', 1), ("山田 太郎", 2)]
    assert [p["id"] for p in body["participants"]][:2] == ["doe", "zoe"]
    status, body = await bulk(api, tid, {"csv": "seed,name\n7,Eve\n"})  # a header that does not start with name
    assert (status, [(p["name"], p["seed"]) for p in body["participants"]]) == (201, [("Eve", 7)])
    status, body = await bulk(api, tid, {"csv": "NAME\nname2\n"})
    assert (status, [p["name"] for p in body["participants"]]) == (201, ["name2"])


@pytest.mark.gen_test
async def test_bad_csv_rows_are_each_named_and_nothing_is_added(api: Api) -> None:
    """Every kind of bad row is listed with its line (the header and blank lines counted, a
    quoted cell over two lines numbered where it starts), its field and why; nothing is added."""
    tid = await cup(api, ("Alice", 1))
    lines = ["name,seed,id",            # 1 the header
             "Dave,5,dave",             # 2 fine
             "",                        # 3 blank
             ",3",                      # 4 no name
             "N" * 101,                 # 5 a name too long
             '"Two',                    # 6 a name over two lines (a control character)...
             'lines",8',                # 7 ...its second line
             "Eve,abc",                 # 8 a seed that is not a number
             "Finn,0",                  # 9 a seed out of range
             "ALICE",                   # 10 a name registered already (ignoring case)
             "dave,,dave2",             # 11 a name of an earlier row
             "Gus,1",                   # 12 a seed taken
             "Hal,5",                   # 13 a seed of an earlier row
             "Ivy,,bad id!",            # 14 an id that is not an id
             "Jo,,alice",               # 15 an id taken
             "Kim,,dave",               # 16 an id of an earlier row
             "Lou,,bulk",               # 17 a reserved id
             "Bell\x07,4096,bell",      # 18 a control character in the name (the seed is fine)
             ",9999,--"]                # 19 three at once (`--` is a fine id)
    status, body = await bulk(api, tid, {"csv": "\n".join(lines)})
    assert status == 422 and body["error"]["code"] == "invalid_rows"
    assert problems(body) == [(4, "name"), (5, "name"), (6, "name"), (8, "seed"), (9, "seed"), (10, "name"),
                              (11, "name"), (12, "seed"), (13, "seed"), (14, "id"), (15, "id"), (16, "id"),
                              (17, "id"), (18, "name"), (19, "name"), (19, "seed")]
    assert body["error"]["message"] == "15 rows cannot be added; nothing was added"
    messages = {(r["row"], r["field"]): r["message"] for r in body["error"]["rows"]}
    assert "at most 100 characters" in messages[(5, "name")] and "control characters" in messages[(6, "name")]
    assert messages[(10, "name")] == "the name 'ALICE' is taken by a registered participant"
    assert messages[(11, "name")] == "the name 'dave' is taken by row 2"
    assert "row 2" in messages[(13, "seed")] and "reserved" in messages[(17, "id")]
    assert await registered(api, tid) == [("alice", "Alice", 1)]


@pytest.mark.gen_test
async def test_bad_list_rows_are_numbered_from_one(api: Api) -> None:
    """In a JSON list a row is its index + 1, and a value of the wrong type is that row's problem."""
    tid = await cup(api)
    rows = [{"name": "Ok"}, {"name": 5}, {"name": "X", "seed": "3"}, {"name": "Y", "seed": True},
            {"name": "Z", "id": 7}, {"name": "ok"}, {"name": ""}, {"name": "W", "seed": 4097}]
    status, body = await bulk(api, tid, {"participants": rows})
    assert (status, body["error"]["code"]) == (422, "invalid_rows")
    assert problems(body) == [(2, "name"), (3, "seed"), (4, "seed"), (5, "id"), (6, "name"), (7, "name"), (8, "seed")]
    assert body["error"]["message"] == "7 rows cannot be added; nothing was added"
    status, body = await bulk(api, tid, {"participants": [{"name": "A"}, {"name": "a"}]})
    assert (status, body["error"]["message"]) == (422, "1 row cannot be added; nothing was added")
    assert await registered(api, tid) == []


@pytest.mark.gen_test
async def test_bulk_refuses_more_than_1024_rows(api: Api) -> None:
    """1024 rows are added; 1025 are a 422 on the field they came in, and nothing is added."""
    tid = await cup(api)
    status, body = await bulk(api, tid, {"csv": "\n".join(f"P{i}" for i in range(1025))})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_value", "csv")
    status, body = await bulk(api, tid, {"participants": [{"name": f"P{i}"} for i in range(1025)]})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_value", "participants")
    assert await registered(api, tid) == []
    status, body = await bulk(api, tid, {"csv": "name\n" + "\n".join(f"P{i}" for i in range(1024))})
    assert (status, len(body["participants"])) == (201, 1024)
    assert len(await registered(api, tid)) == 1024


@pytest.mark.gen_test
async def test_bulk_body_shapes(api: Api) -> None:
    """One of participants and csv, of the right types; a CSV's shape (its header, its cells per
    line) is checked too; none of these adds anything."""
    tid = await cup(api)
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({}, 400, "invalid_schema", "participants"),
        ({"participants": [{"name": "A"}], "csv": "B"}, 400, "invalid_schema", "participants"),
        ({"csv": ["A"]}, 400, "invalid_schema", "csv"),
        ({"participants": "A,B"}, 400, "invalid_schema", "participants"),
        ({"participants": [{"name": "A"}, "B"]}, 400, "invalid_schema", "participants"),
        ({"participants": []}, 422, "invalid_value", "participants"),
        ({"csv": "\n \n"}, 422, "invalid_value", "csv"),
        ({"csv": "name\n"}, 422, "invalid_value", "csv"),
        ({"csv": "name,team\nAlice,Red\n"}, 422, "invalid_value", "csv"),
        ({"csv": "name,name\nAlice,Al\n"}, 422, "invalid_value", "csv"),
        ({"csv": "Alice,1,alice,extra\n"}, 422, "invalid_value", "csv")]
    for body, status, code, field in cases:
        got, answer = await bulk(api, tid, body)
        assert (got, answer["error"]["code"], answer["error"]["field"]) == (status, code, field), (body, answer)
    assert await registered(api, tid) == []


@pytest.mark.gen_test
async def test_bulk_refused_once_registration_closed_or_while_drawing(api: Api) -> None:
    """A draw under way is a 409 draw_in_progress; a live tournament a 409 invalid_state."""
    tid = await cup(api, ("Alice", None), ("Bob", None))
    await api.ok("POST", f"/api/tournaments/{tid}/draw/start", {"rng_seed": 1})
    status, body = await bulk(api, tid, {"csv": "Carol"})
    assert (status, body["error"]["code"]) == (409, "draw_in_progress")
    await api.ok("POST", f"/api/tournaments/{tid}/draw/abort")
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    status, body = await bulk(api, tid, {"participants": [{"name": "Carol"}]})
    assert (status, body["error"]["code"], body["error"]["state"]) == (409, "invalid_state", "live")
    assert "registration is closed" in body["error"]["message"]
    assert len(await registered(api, tid)) == 2


@pytest.mark.gen_test
async def test_bulk_is_replayed_per_idempotency_key(api: Api) -> None:
    """The same bulk with the same Idempotency-Key is answered again, not added twice."""
    tid = await cup(api)
    key = {"Idempotency-Key": "roster-1"}
    first = await api.ok("POST", f"/api/tournaments/{tid}/participants/bulk", {"csv": "A\nB"}, 201, headers=key)
    again = await api.ok("POST", f"/api/tournaments/{tid}/participants/bulk", {"csv": "A\nB"}, 201, headers=key)
    assert again == first and api.last_headers["Idempotent-Replayed"] == "true"
    assert [name for _, name, _ in await registered(api, tid)] == ["A", "B"]


@pytest.mark.gen_test
async def test_edit_name_any_time_seed_only_before_the_start(api: Api) -> None:
    """A name may be fixed before and after the start, unique ignoring case; a seed only before
    the start, unique; null clears it; the same seed again is no change."""
    tid = await cup(api, ("Alice", 1), ("Bob", 2))
    path = f"/api/tournaments/{tid}/participants/alice"
    assert (await api.ok("PATCH", path, {"name": " Alicia "}))["name"] == "Alicia"
    assert (await api.ok("PATCH", path, {"seed": 5}))["seed"] == 5
    assert (await api.ok("PATCH", path, {"seed": None, "name": "Ally"}))["seed"] is None
    for change, status, code in [({"name": "BOB"}, 409, "already_exists"), ({"seed": 2}, 409, "already_exists"),
                                 ({}, 422, "invalid_value"), ({"name": None}, 422, "invalid_value"),
                                 ({"name": ""}, 422, "invalid_value"), ({"seed": 0}, 422, "invalid_value"),
                                 ({"seed": "1"}, 400, "invalid_schema")]:
        got, body = await api.request("PATCH", path, change)
        assert (got, body["error"]["code"]) == (status, code), change
    assert await registered(api, tid) == [("alice", "Ally", None), ("bob", "Bob", 2)]
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    assert (await api.ok("PATCH", path, {"name": "Alice A."}))["name"] == "Alice A."
    same_seed = await api.ok("PATCH", f"/api/tournaments/{tid}/participants/bob", {"name": "bob", "seed": 2})
    assert (same_seed["name"], same_seed["seed"]) == ("bob", 2)
    status, body = await api.request("PATCH", path, {"seed": 3})
    assert (status, body["error"]["code"], body["error"]["state"]) == (409, "invalid_state", "live")
    assert "seeding is fixed" in body["error"]["message"]
    assert await registered(api, tid) == [("alice", "Alice A.", None), ("bob", "bob", 2)]


@pytest.mark.gen_test
async def test_remove_before_the_start_not_after(api: Api) -> None:
    """A participant is removed before the start (not one in an open match); afterwards the
    answer says to disqualify or forfeit instead."""
    tid = await cup(api, ("Alice", 1), ("Bob", 2), ("Carol", 3))
    removed = await api.ok("DELETE", f"/api/tournaments/{tid}/participants/carol")
    assert removed == {"removed": {**removed["removed"], "id": "carol", "name": "Carol", "seed": 3}}
    assert [pid for pid, _, _ in await registered(api, tid)] == ["alice", "bob"]
    status, body = await api.request("DELETE", f"/api/tournaments/{tid}/participants/carol")
    assert (status, body["error"]["code"]) == (404, "not_found")
    warmup = await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["alice", "bob"]}, 201)
    status, body = await api.request("DELETE", f"/api/tournaments/{tid}/participants/bob")
    assert (status, body["error"]["code"], body["error"]["match_id"]) == (409, "participant_in_match", warmup["id"])
    await api.ok("POST", f"/api/matches/{warmup['id']}/cancel")
    await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": "Dan", "id": "dan"}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    status, body = await api.request("DELETE", f"/api/tournaments/{tid}/participants/dan")
    assert (status, body["error"]["code"], body["error"]["state"]) == (409, "invalid_state", "live")
    assert "disqualify" in body["error"]["message"] and "forfeit" in body["error"]["message"]
    assert [pid for pid, _, _ in await registered(api, tid)] == ["alice", "bob", "dan"]


@pytest.mark.gen_test
async def test_reseed_sets_every_seed_from_the_order(api: Api) -> None:
    """The order seeds everyone 1 to n; one missing, unknown or repeated is a 422 naming them;
    a draw under way and a live tournament are 409s."""
    tid = await cup(api, ("Alice", 1), ("Bob", None), ("Carol", 2))
    path = f"/api/tournaments/{tid}/seeds"
    seeded = await api.ok("PUT", path, {"order": ["carol", "bob", "alice"]})
    assert [(p["id"], p["seed"]) for p in seeded["participants"]] == [("carol", 1), ("bob", 2), ("alice", 3)]
    assert await registered(api, tid) == [("alice", "Alice", 3), ("bob", "Bob", 2), ("carol", "Carol", 1)]
    status, body = await api.request("PUT", path, {"order": ["bob", "zed", "bob"]})
    error = body["error"]
    assert (status, error["code"], error["field"]) == (422, "invalid_value", "order")
    assert (error["missing"], error["unknown"], error["repeated"]) == (["alice", "carol"], ["zed"], ["bob"])
    assert "missing alice, carol" in error["message"] and "unknown zed" in error["message"]
    status, body = await api.request("PUT", path, {"order": "alice,bob"})
    assert (status, body["error"]["code"]) == (400, "invalid_schema")
    assert [seed for _, _, seed in await registered(api, tid)] == [3, 2, 1]
    await api.ok("POST", f"/api/tournaments/{tid}/draw/start")
    status, body = await api.request("PUT", path, {"order": ["alice", "bob", "carol"]})
    assert (status, body["error"]["code"]) == (409, "draw_in_progress")
    await api.ok("POST", f"/api/tournaments/{tid}/draw/abort")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    status, body = await api.request("PUT", path, {"order": ["alice", "bob", "carol"]})
    assert (status, body["error"]["code"], body["error"]["state"]) == (409, "invalid_state", "live")
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["seed_order"] == ["carol", "bob", "alice"]


@pytest.mark.gen_test
async def test_only_an_organizer_manages_participants(api: Api) -> None:
    """A player and a spectator get 403 on every write; nothing changes."""
    tid = await cup(api, ("Alice", 1), ("Bob", 2))
    base = f"/api/tournaments/{tid}"
    for token in (api.token("alice"), api.token("viewer", Role.SPECTATOR)):
        for method, path, body in [("POST", f"{base}/participants/bulk", {"csv": "Eve"}),
                                   ("PATCH", f"{base}/participants/alice", {"name": "Queen"}),
                                   ("DELETE", f"{base}/participants/bob", None),
                                   ("PUT", f"{base}/seeds", {"order": ["bob", "alice"]})]:
            status, answer = await api.request(method, path, body, as_=token, raw=None if body else b"")
            assert (status, answer["error"]["code"]) == (403, "insufficient_permissions"), (method, path)
    assert await registered(api, tid) == [("alice", "Alice", 1), ("bob", "Bob", 2)]


@pytest.mark.gen_test
async def test_unknown_tournaments_and_participants_are_404(api: Api) -> None:
    """An unknown tournament, or a participant only another tournament has, is a 404 on every route."""
    tid = await cup(api, ("Alice", 1))
    other = await cup(api, ("Zed", 1))
    for method, path, body in [("POST", "/api/tournaments/t_nope/participants/bulk", {"csv": "Eve"}),
                               ("PUT", "/api/tournaments/t_nope/seeds", {"order": []}),
                               ("PATCH", "/api/tournaments/t_nope/participants/alice", {"name": "X"}),
                               ("PATCH", f"/api/tournaments/{tid}/participants/zed", {"name": "X"}),
                               ("DELETE", f"/api/tournaments/{tid}/participants/zed", None)]:
        status, answer = await api.request(method, path, body, raw=None if body else b"")
        assert (status, answer["error"]["code"]) == (404, "not_found"), (method, path)
    assert await registered(api, other) == [("zed", "Zed", 1)]


@pytest.mark.gen_test
async def test_a_tournament_socket_hears_every_change_in_order(api: Api) -> None:
    """participant_added (one per row), participant_updated, participant_removed and
    participants_reseeded reach the tournament room, numbered one after the other."""
    tid = await cup(api)
    sock, welcome = await connect(api, f"/ws/tournament/{tid}", api.token("viewer", Role.SPECTATOR))
    await bulk(api, tid, {"csv": "Alice,1,alice\nBob,,bob\nCarol,,carol"})
    await api.ok("PATCH", f"/api/tournaments/{tid}/participants/bob", {"name": "Robert"})
    await api.ok("DELETE", f"/api/tournaments/{tid}/participants/carol")
    await api.ok("PUT", f"/api/tournaments/{tid}/seeds", {"order": ["bob", "alice"]})
    frames = [await sock.recv() for _ in range(6)]
    assert [f["type"] for f in frames] == ["participant_added"] * 3 + [
        "participant_updated", "participant_removed", "participants_reseeded"]
    assert [f["seq"] for f in frames] == list(range(welcome["data"]["seq"] + 1, welcome["data"]["seq"] + 7))
    assert all(f["data"]["tournament_id"] == tid for f in frames)
    assert [f["data"]["participant"]["name"] for f in frames[:3]] == ["Alice", "Bob", "Carol"]
    assert (frames[3]["data"]["participant"]["id"], frames[3]["data"]["participant"]["name"]) == ("bob", "Robert")
    assert frames[4]["data"]["participant_id"] == "carol"
    assert [(p["id"], p["seed"]) for p in frames[5]["data"]["participants"]] == [("bob", 1), ("alice", 2)]
    await sock.quiet()
    assert frames[5]["data"]["participants"] == (
        await api.ok("GET", f"/api/tournaments/{tid}/participants"))["participants"][::-1]
