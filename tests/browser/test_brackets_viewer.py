"""The brackets-viewer export drawn by brackets-viewer.js itself, in a headless Chromium.

The viewer is the npm package pinned in tests/browser/package.json (`make test` installs it
with `npm ci`). The test serves its files to the page under the app's own origin, and the page
fetches the export from the running app over HTTP; nothing leaves the machine. Every bracket
is drawn at its start, half played and done, and compared with the livebracket view of it.
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Route

from tests.browser.harness import chromium
from tests.conftest import Api

TIMEOUT_S = 30
PACKAGES = Path(__file__).parent
VIEWER = PACKAGES / "node_modules" / "brackets-viewer" / "dist"
PREFIX = "/__brackets-viewer/"  # answered by the test's route, never by the app
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>brackets-viewer</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="brackets-viewer.min.css">
<script src="brackets-viewer.min.js"></script></head>
<body><div class="brackets-viewer"></div>
<script>
window.renderExport = async (tournamentId, token) => {
  const response = await fetch(`/api/tournaments/${tournamentId}/bracket?format=brackets-viewer`,
                               {headers: {Authorization: `Bearer ${token}`}});
  if (!response.ok) throw new Error(`the export answered ${response.status}`);
  const data = await response.json();
  await window.bracketsViewer.render({stages: data.stage, matches: data.match,
                                      matchGames: data.match_game, participants: data.participant});
  return data;
};
</script></body></html>"""
# What the viewer drew: each match element's id and connector classes, each side's texts.
DRAWN = """() => [...document.querySelectorAll('.match[data-match-id]')].map(match => ({
  id: Number(match.dataset.matchId),
  status: Number(match.dataset.matchStatus),
  connectNext: match.classList.contains('connect-next'),
  connectPrevious: match.querySelector('.opponents').classList.contains('connect-previous'),
  sides: [...match.querySelectorAll('.participant')].map(side => {
    const name = side.querySelector('.name');
    return {
      participant: side.dataset.participantId === undefined ? null : Number(side.dataset.participantId),
      name: [...name.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('').trim(),
      origin: name.querySelector(':scope > span')?.textContent.trim() ?? null,
      hint: name.classList.contains('hint'),
      bye: name.classList.contains('bye'),
      result: side.querySelector('.result').textContent,
      win: side.classList.contains('win'),
    };
  }),
}))"""
BRACKETS = [("single_elimination", 8, {"third_place": True}), ("single_elimination", 6, {}),  # 6: byes
            ("double_elimination", 8, {}), ("double_elimination", 6, {}),
            ("round_robin", 8, {}), ("swiss", 8, {})]


@contextlib.asynccontextmanager
async def viewer_page(api: Api) -> AsyncIterator[tuple[Page, list[str]]]:
    """A page under the app's origin that can draw an export, and the problems seen so far:
    console errors, script errors, requests that would leave the machine (refused)."""
    pinned = json.loads((PACKAGES / "package.json").read_text())["dependencies"]["brackets-viewer"]
    installed = VIEWER.parent / "package.json"
    if not installed.is_file() or json.loads(installed.read_text())["version"] != pinned:
        raise RuntimeError(f"brackets-viewer {pinned} is not in {VIEWER.parent}: "
                           "`npm ci --prefix tests/browser` (make test does)")
    problems: list[str] = []

    async def serve(route: Route) -> None:
        url = route.request.url
        if not url.startswith(api.base_url + "/"):
            problems.append(f"request off the machine: {url}")
            await route.abort()
        elif url == api.base_url + PREFIX + "index.html":
            await route.fulfill(body=PAGE, content_type="text/html")
        elif url.startswith(api.base_url + PREFIX):
            await route.fulfill(path=VIEWER / url.removeprefix(api.base_url + PREFIX))
        else:
            await route.continue_()

    async with chromium() as browser:
        context = await browser.new_context(base_url=api.base_url, locale="en-US")
        await context.route("**/*", serve)
        page = await context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
        yield page, problems
        await context.close()


async def tournament_of(api: Api, fmt: str, count: int, start: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A started tournament of `count` players seeded in order: (its id, names by participant id)."""
    tid: str = (await api.ok("POST", "/api/tournaments", {"name": f"{fmt} of {count}", "format": fmt}, 201))["id"]
    names = {f"p{seed}": f"Player {seed}" for seed in range(1, count + 1)}
    for seed, (pid, name) in enumerate(names.items(), start=1):
        await api.ok("POST", f"/api/tournaments/{tid}/participants", {"name": name, "id": pid, "seed": seed}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start", {"seeding": "given", **start})
    return tid, names


def matches_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for r in view["rounds"] for m in r["matches"]}


def played_in_all(fmt: str, count: int, view: dict[str, Any]) -> int:
    """How many matches are played (walkovers aside) once the tournament is over, as `play` plays it."""
    if fmt == "round_robin":
        return count * (count - 1) // 2
    if fmt == "swiss":
        return int(view["settings"]["rounds"]) * (count // 2)
    if fmt == "single_elimination":
        return count - 1 + bool(view["settings"]["third_place"])
    return 2 * count - 1  # double elimination, the reset included


async def play(api: Api, tid: str, decided: int, *, leave_live: bool) -> None:
    """Play matches in bracket order until `decided` are decided (walkovers aside): the better
    seed wins 3-1, except that the losers-bracket champion takes GF1 (so GF2 is played) and
    W1-2's loser forfeits. `leave_live`: then one more match begins and stands at 1-0."""
    while True:
        matches = matches_of(await api.ok("GET", f"/api/tournaments/{tid}/bracket")).values()
        ready = [m for m in matches if m["state"] in ("scheduled", "live") and None not in m["participant_ids"]]
        done = sum(m["winner_id"] is not None and not m["bracket"]["walkover"] for m in matches)
        if not ready or (done >= decided and not leave_live):
            return
        match, (a, b) = ready[0], ready[0]["participant_ids"]
        if match["state"] == "scheduled":
            await api.ok("POST", f"/api/matches/{match['id']}/start")
        if done >= decided:
            await api.ok("POST", f"/api/matches/{match['id']}/score", {"scores": {a: 1}})
            return
        winner = b if match["bracket"]["key"] == "GF1" else min(a, b, key=lambda p: int(p[1:]))
        loser = b if winner == a else a
        if match["bracket"]["key"] == "W1-2":
            await api.ok("POST", f"/api/matches/{match['id']}/forfeit", {"participant_id": loser})
        else:
            await api.ok("POST", f"/api/matches/{match['id']}/result", {"scores": {winner: 3, loser: 1}})


async def draw(page: Page, api: Api, tid: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The export as the page fetched it, what the viewer drew of it, and the drawing's text."""
    await page.goto(PREFIX + "index.html")
    data: dict[str, Any] = await page.evaluate("([t, token]) => renderExport(t, token)", [tid, api.organizer])
    return data, await page.evaluate(DRAWN), await page.locator(".brackets-viewer").inner_text()


def expected_hint(match: dict[str, Any], slot: int, losers_rounds: int) -> str | None:
    """What the viewer writes in an empty slot (from the slot's `position`), read here from
    the slot's livebracket feed instead."""
    bracket = match["bracket"]
    dropped = re.fullmatch(r"loser of W(\d+)-(\d+)", bracket["feeds"][slot])
    if bracket["key"] == "GF1" and slot == 1:
        return "Winner of LB Final"
    if bracket["bracket"] == "third_place" and dropped:
        return f"Loser of Semi {dropped[2]}"
    if bracket["bracket"] != "losers" or not dropped:
        return None
    if match["round"] == losers_rounds:
        return "Loser of WB Final"
    if match["round"] == losers_rounds - 2:
        return f"Loser of WB Semi {dropped[2]}"
    assert math.ceil((match["round"] + 1) / 2) == int(dropped[1])  # the winners round the viewer names
    return f"Loser of WB {dropped[1]}.{dropped[2]}"


def expected_origin(match: dict[str, Any], slot: int, seeds: dict[str, int]) -> str | None:
    """What the viewer puts before a known player's name: the seed in the first winners round,
    the number of the match a player dropped from in a losers round that takes drops."""
    bracket = match["bracket"]
    dropped = re.fullmatch(r"loser of W\d+-(\d+)", bracket["feeds"][slot])
    if bracket["bracket"] == "winners" and match["round"] == 1:
        return f"#{seeds[match['participant_ids'][slot]]}"
    if bracket["bracket"] == "losers" and match["round"] % 2 == 0 and dropped:
        return f"P{dropped[1]}"
    return None


def expected_sides(match: dict[str, Any], names: dict[str, str], seeds: dict[str, int],
                   losers_rounds: int) -> list[dict[str, Any]]:
    """Each side of a livebracket match as the viewer should draw it."""
    sides = []
    for slot, pid in enumerate(match["participant_ids"]):
        if pid is None:
            bye = match["bracket"]["byes"][slot]
            hint = None if bye or match["winner_id"] else expected_hint(match, slot, losers_rounds)
            sides.append({"player": None, "name": "BYE" if bye else hint or "", "origin": None, "bye": bye,
                          "hint": hint is not None, "result": "" if bye else "-", "win": False})
            continue
        won = pid == match["winner_id"]
        result = ("F" if match["state"] == "forfeit" and not won
                  else str(match["scores"][pid]) if pid in match["scores"]
                  else "W" if won else "L" if match["winner_id"] else "-")
        sides.append({"player": names[pid], "name": names[pid], "origin": expected_origin(match, slot, seeds),
                      "bye": False, "hint": False, "result": result, "win": won})
    return unordered(sides)


def expected_status(match: dict[str, Any], by_key: dict[str, dict[str, Any]]) -> int:
    """brackets-model's Status: 0 locked (a BYE, or nobody known yet), 1 waiting, 2 ready,
    3 running, 4 completed, 5 archived (completed, and a match it feeds has begun or ended)."""
    bracket, players = match["bracket"], match["participant_ids"]
    if any(pid is None and bye for pid, bye in zip(players, bracket["byes"])):
        return 0
    if match["winner_id"] is not None:
        fed = [by_key[target[0]] for target in (bracket["winner_to"], bracket["loser_to"]) if target]
        return 5 if any(m["started_at"] or (m["winner_id"] and not m["bracket"]["walkover"]) for m in fed) else 4
    if match["state"] in ("live", "pending_result", "disputed"):
        return 3
    return sum(pid is not None for pid in players)


def unordered(sides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The two sides in an order of their own: brackets-manager's sides are not always
    livebracket's slots (the export says why)."""
    return sorted(sides, key=lambda side: sorted(side.items(), key=repr))


def check(label: str, view: dict[str, Any], data: dict[str, Any], drawn: list[dict[str, Any]], text: str,
          names: dict[str, str]) -> None:
    """Every match of the livebracket view is drawn exactly once (GF2 while it may still be
    played), with its players, scores and winner; empty slots say where their player comes
    from; no score reads "null"; the rounds of a bracket are joined by connector lines."""
    matches = matches_of(view)
    by_key = {m["bracket"]["key"]: m for m in matches.values()}
    exported = {m["id"]: m for m in data["match"]}
    player = {p["id"]: p["name"] for p in data["participant"]}
    seeds = {pid: i for i, pid in enumerate(view["seed_order"], start=1)}
    losers_rounds = max([m["round"] for m in matches.values() if m["bracket"]["bracket"] == "losers"], default=0)
    gf1 = next((m for m in matches.values() if m["bracket"]["key"] == "GF1"), None)
    reset_hidden = gf1 is not None and gf1["participant_ids"][0] in (None, gf1["winner_id"])

    times = collections.Counter(d["id"] for d in drawn)
    assert set(times.values()) == {1}, (label, times)
    assert {exported[i]["livebracket_id"] for i in times} == {
        mid for mid, m in matches.items() if not (m["bracket"]["key"] == "GF2" and reset_hidden)}, label
    assert not re.search(r"\b(null|undefined|NaN)\b", text), (label, text)

    kind = data["stage"][0]["type"]
    rounds = {r["id"]: r for r in data["round"]}
    last_round = {g["id"]: max(r["number"] for r in data["round"] if r["group_id"] == g["id"]) for g in data["group"]}
    number_of = {g["id"]: g["number"] for g in data["group"]}
    finals = {gid for gid, number in number_of.items() if number == (2 if kind == "single_elimination" else 3)}
    for d in drawn:
        row = exported[d["id"]]
        match = matches[row["livebracket_id"]]
        got = unordered([{**{k: v for k, v in side.items() if k != "participant"},
                          "player": player.get(side["participant"])} for side in d["sides"]])
        assert got == expected_sides(match, names, seeds, losers_rounds), (label, match["label"], got)
        assert d["status"] == expected_status(match, by_key), (label, match["label"], d["status"])
        if kind != "round_robin" and row["group_id"] not in finals:  # a line to the next round, one from the last
            number, group = rounds[row["round_id"]]["number"], row["group_id"]
            into_final = kind == "double_elimination" and number_of[group] == 1  # the winners final to GF1
            assert d["connectPrevious"] == (number > 1), (label, match["label"])
            assert d["connectNext"] == (number < last_round[group] or into_final), (label, match["label"])


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_brackets_viewer_draws_every_match_once(api: Api) -> None:
    """brackets-viewer.js draws each bracket's export at the start, half played and done: each
    match once, with the players, scores and winner of the livebracket view, no "null", no
    console error. One browser draws them all: starting Chromium costs more than a drawing."""
    async with viewer_page(api) as (page, problems):
        for fmt, count, start in BRACKETS:
            tid, names = await tournament_of(api, fmt, count, start)
            total = played_in_all(fmt, count, await api.ok("GET", f"/api/tournaments/{tid}/bracket"))
            for decided in (0, total // 2, total):
                label = f"{fmt} of {count}, {decided} of {total} played"
                await play(api, tid, decided, leave_live=0 < decided < total)
                view = await api.ok("GET", f"/api/tournaments/{tid}/bracket")
                data, drawn, text = await draw(page, api, tid)
                check(label, view, data, drawn, text, names)
                assert problems == [], label
            assert view["state"] == "completed", fmt


@pytest.mark.gen_test(timeout=TIMEOUT_S)
async def test_brackets_viewer_draws_series_with_their_games(api: Api) -> None:
    """A best-of-3 bracket: the export carries every series' games (match_game, child_count 3)
    and the viewer draws each match once with its series score, mid-series and decided."""
    tid, names = await tournament_of(api, "single_elimination", 4, {"series": {"best_of": 3}})
    view = await api.ok("GET", f"/api/tournaments/{tid}/bracket")
    first, second = [m for m in matches_of(view).values() if m["round"] == 1]
    for match in (first, second):
        await api.ok("POST", f"/api/matches/{match['id']}/start")
    a, b = first["participant_ids"]
    await api.ok("POST", f"/api/matches/{first['id']}/result", {"games": [{a: 13, b: 5}, {a: 2, b: 13}, {a: 13, b: 7}]})
    c, d = second["participant_ids"]
    await api.ok("POST", f"/api/matches/{second['id']}/result", {"scores": {c: 13, d: 11}})
    await api.ok("POST", f"/api/matches/{second['id']}/score", {"scores": {d: 4}})  # game 2 under way
    async with viewer_page(api) as (page, problems):
        data, drawn, text = await draw(page, api, tid)
        assert problems == []
    rows = {row["livebracket_id"]: row for row in data["match"]}
    assert {row["child_count"] for row in rows.values()} == {3}
    assert data["stage"][0]["settings"]["matchesChildCount"] == 3
    games = {(g["parent_id"], g["number"]): g for g in data["match_game"]}
    assert len(games) == 9
    done = rows[first["id"]]["id"]
    assert [games[(done, n)]["status"] for n in (1, 2, 3)] == [4, 4, 4]
    live = rows[second["id"]]["id"]
    assert [games[(live, n)]["status"] for n in (1, 2, 3)] == [4, 3, 2]
    assert games[(live, 2)]["opponent1"]["score"] + games[(live, 2)]["opponent2"]["score"] == 4
    by_row = {d["id"]: d for d in drawn}
    assert sorted(by_row) == sorted(row["id"] for row in rows.values())
    assert sorted(side["result"] for side in by_row[done]["sides"]) == ["1", "2"]
    assert sorted(side["result"] for side in by_row[live]["sides"]) == ["0", "1"]
    assert names[a] in text and not re.search(r"\b(null|undefined|NaN)\b", text)
