"""A tournament's tables as CSV and JSON over real HTTP (issue 14): what a spreadsheet reads
back, names that would run as formulas quoted, byes left out, and the refusals."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest, HTTPResponse

from tests.conftest import Api
from tests.handlers.test_brackets_api import play, playable

NAMES = ["=HYPERLINK(\"http://x\")", "Zoë, the Great", "李小龍", "Bob"]


async def fetch(api: Api, path: str, token: str | None = None) -> HTTPResponse:
    headers = {"Authorization": f"Bearer {token or api.organizer}"}
    return await api.client.fetch(HTTPRequest(api.base_url + path, headers=headers), raise_error=False)


def table(response: HTTPResponse) -> list[dict[str, str]]:
    text = response.body.decode("utf-8")
    assert text.startswith("\ufeff")  # a spreadsheet reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


async def played_cup(api: Api) -> str:
    """A 5-player single elimination (three byes) played to the end: the higher seed wins."""
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": "Cup: Zoë's #3"}, 201))["id"]
    for i, name in enumerate([*NAMES, "Eve"], start=1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name, "id": f"p{i}", "seed": i}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given"})
    while pending := await playable(api, tid):
        match = pending[0]
        await play(api, match, min(match["participant_ids"], key=lambda p: int(p[1:])))
    return tid


@pytest.mark.gen_test(timeout=60)
async def test_the_three_tables_as_csv_and_json(api: Api) -> None:
    tid = await played_cup(api)
    base = f"/api/tournaments/{tid}/export"

    people = await fetch(api, f"{base}/participants.csv")
    assert people.code == 200 and people.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert people.headers["Content-Disposition"] == (
        "attachment; filename=\"Cup-Zo-s-3-participants.csv\"; "
        "filename*=UTF-8''Cup%3A%20Zo%C3%AB%27s%20%233-participants.csv")
    rows = table(people)
    assert [(r["id"], r["name"], r["seed"]) for r in rows] == [
        ("p1", "'=HYPERLINK(\"http://x\")", "1"), ("p2", "Zoë, the Great", "2"), ("p3", "李小龍", "3"),
        ("p4", "Bob", "4"), ("p5", "Eve", "5")]

    matches = table(await fetch(api, f"{base}/matches.csv"))
    assert len(matches) == 4  # 5 players: 4 matches played; the three byes of round 1 are not rows
    final = next(r for r in matches if r["key"] == "W3-1")
    assert (final["player1"], final["player1_score"], final["player2"], final["player2_score"], final["winner_id"],
            final["state"]) == ("'=HYPERLINK(\"http://x\")", "2", "Zoë, the Great", "1", "p1", "completed")

    placements = table(await fetch(api, f"{base}/placements.csv"))
    assert [(r["place"], r["participant_id"]) for r in placements][:2] == [("1", "p1"), ("2", "p2")]
    assert len(placements) == 5

    as_json = json.loads((await fetch(api, f"{base}/matches.json")).body)
    assert as_json["tournament_id"] == tid and len(as_json["matches"]) == 4
    by_key = {m["key"]: m for m in as_json["matches"]}
    assert by_key["W3-1"]["player1"] == NAMES[0] and by_key["W3-1"]["player1_score"] == 2  # JSON keeps the name as is
    placed: list[dict[str, Any]] = json.loads((await fetch(api, f"{base}/placements.json")).body)["placements"]
    assert placed[0] == {"place": 1, "participant_id": "p1", "name": NAMES[0]}


@pytest.mark.gen_test
async def test_refusals(api: Api) -> None:
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Empty"}, 201))["id"]
    empty = await fetch(api, f"/api/tournaments/{tid}/export/placements.csv")
    assert empty.code == 200 and table(empty) == []  # a header and no row before the end
    assert (await fetch(api, "/api/tournaments/t_nope/export/participants.csv")).code == 404
    assert (await fetch(api, f"/api/tournaments/{tid}/export/secrets.csv")).code == 404
    assert (await fetch(api, f"/api/tournaments/{tid}/export/participants.xlsx")).code == 404
    unsigned = await fetch(api, f"/api/tournaments/{tid}/export/participants.csv", token="nonsense")
    assert unsigned.code == 401 and json.loads(unsigned.body)["error"]["code"]
