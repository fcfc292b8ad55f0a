"""Renaming, archiving and deleting a tournament over real HTTP (issue 14): the list and the
lobby follow, a delete takes everything of it and asks for the name, a live one is refused,
and a delete a crash cut off is finished at the next start."""

from __future__ import annotations

import dataclasses
import urllib.parse

import pytest

from server import settle_brackets
from tests.conftest import Api
from tests.handlers.test_brackets_api import play, playable, tournament_with
from tests.wsclient import connect


def delete_path(tid: str, name: str) -> str:
    return f"/api/tournaments/{tid}?confirm={urllib.parse.quote(name)}"


@pytest.mark.gen_test(timeout=30)
async def test_rename_and_archive_follow_in_the_list_and_the_lobby(api: Api) -> None:
    tid = await tournament_with(api, 2, "single_elimination")
    lobby, welcome = await connect(api, "/ws/lobby", api.organizer)
    assert tid in {t["id"] for t in welcome["data"]["tournaments"]}
    renamed = await api.ok("PATCH", f"/api/tournaments/{tid}", {"name": "Friday Cup ⚡", "game": "Tekken 8"})
    assert (renamed["name"], renamed["game"], renamed["archived"]) == ("Friday Cup ⚡", "Tekken 8", False)
    summary = await lobby.recv()
    assert (summary["type"], summary["data"]["tournament"]["name"]) == ("tournament_summary", "Friday Cup ⚡")
    same = await api.ok("PATCH", f"/api/tournaments/{tid}", {"name": "Friday Cup ⚡"})
    assert same["version"] == renamed["version"]  # nothing changed: nothing written

    archived = await api.ok("PATCH", f"/api/tournaments/{tid}", {"archived": True})
    assert archived["archived"] is True
    unlisted = await lobby.recv()
    assert (unlisted["type"], unlisted["data"]) == ("tournament_unlisted", {"tournament_id": tid})
    assert tid not in {t["id"] for t in (await api.ok("GET", "/api/tournaments"))["tournaments"]}
    assert [t["id"] for t in (await api.ok("GET", "/api/tournaments?archived=true"))["tournaments"]] == [tid]
    assert (await api.ok("GET", f"/api/tournaments/{tid}"))["name"] == "Friday Cup ⚡"  # kept whole
    back = await api.ok("PATCH", f"/api/tournaments/{tid}", {"archived": False})
    assert back["archived"] is False and tid in {t["id"] for t in (await api.ok("GET", "/api/tournaments"))["tournaments"]}

    status, body = await api.request("PATCH", f"/api/tournaments/{tid}", {})
    assert (status, body["error"]["field"]) == (422, "name")
    status, body = await api.request("PATCH", f"/api/tournaments/{tid}", {"name": "x"}, as_=api.token("p1"))
    assert status == 403
    assert (await api.get("/api/tournaments?archived=maybe"))[0] == 422


@pytest.mark.gen_test(timeout=60)
async def test_delete_takes_everything_and_asks_for_the_name(api: Api) -> None:
    tid = await tournament_with(api, 4, "single_elimination")
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    first = (await playable(api, tid))[0]
    await play(api, first, first["participant_ids"][0])

    status, body = await api.request("DELETE", delete_path(tid, "single_elimination cup"))
    assert (status, body["error"]["code"]) == (409, "invalid_state")  # live: cancel it first
    await api.ok("POST", f"/api/tournaments/{tid}/cancel")
    status, body = await api.request("DELETE", f"/api/tournaments/{tid}")
    assert (status, body["error"]["field"]) == (422, "confirm")
    status, body = await api.request("DELETE", delete_path(tid, "SINGLE_ELIMINATION CUP"))
    assert (status, body["error"]["field"]) == (422, "confirm")  # exactly the name
    assert (await api.request("DELETE", delete_path(tid, "single_elimination cup"), as_=api.token("p1")))[0] == 403

    watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    assert await api.ok("DELETE", delete_path(tid, "single_elimination cup")) == {"deleted": tid}
    gone = await watcher.recv()
    assert (gone["type"], gone["data"]["name"]) == ("tournament_deleted", "single_elimination cup")
    assert (await api.get(f"/api/tournaments/{tid}"))[0] == 404
    assert (await api.get(f"/api/matches/{first['id']}"))[0] == 404
    assert (await api.get(f"/api/matches/{first['id']}/events"))[0] == 404
    store = api.services.store
    assert await store.list_participants(tid) == [] and await store.list_matches(tid) == []
    assert await store.list_events(f"match:{first['id']}") == []
    assert (await api.request("DELETE", delete_path(tid, "single_elimination cup")))[0] == 404


@pytest.mark.gen_test(timeout=30)
async def test_a_delete_cut_off_by_a_crash_is_finished_at_the_start(api: Api) -> None:
    """The mark is the commit point: a tournament marked as being deleted reads as gone at once,
    and the start-up sweep removes what is left of it."""
    tid = await tournament_with(api, 3, "round_robin")
    store = api.services.store
    tournament = await store.get_tournament(tid)
    await store.save_tournament(dataclasses.replace(tournament, deleting=True, version=tournament.version + 1))
    assert (await api.get(f"/api/tournaments/{tid}"))[0] == 404
    assert tid not in {t["id"] for t in (await api.ok("GET", "/api/tournaments"))["tournaments"]}
    assert len(await store.list_participants(tid)) == 3  # the crash came before the records went
    await settle_brackets(api.services)
    assert await store.list_participants(tid) == []
    assert tid not in {t.id for t in await store.list_tournaments(100)}
