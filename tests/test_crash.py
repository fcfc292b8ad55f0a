"""Crash safety of a real server process on the embedded store: kill -9, SIGTERM and Ctrl-C
during writes, and a kill -9 of the embedded store itself.

The kill -9 test runs CYCLES cycles: start the server on the same data dir, check everything
the earlier cycles had acknowledged, write from REST and sockets, kill -9 at a random point.
Its random choices come from LIVEBRACKET_CRASH_SEED (printed in every failure), so a failing
run can be replayed with the same delays and choices; the interleaving of the writers is the
operating system's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import signal
from pathlib import Path
from collections.abc import Coroutine
from typing import Any

import pytest

from storage.embedded import free_port
from tests.serverprocess import Client, ServerGone, ServerProcess, Socket, process_gone, store_pid

SEED = int(os.environ.get("LIVEBRACKET_CRASH_SEED", "11"))
CYCLES = int(os.environ.get("LIVEBRACKET_CRASH_CYCLES", "8"))
LIVE_MATCHES = 3
PLAYERS = [f"p{i}" for i in range(6)]
# One organizer token does all the writing: lift the per-user and per-address rates.
NO_RATE_LIMITS = ",".join(f"{name}=1000000" for name in (
    "write_rate_per_user", "write_burst_per_user", "message_rate_per_user", "message_burst_per_user",
    "message_rate_per_ip", "message_burst_per_ip"))


@dataclasses.dataclass(frozen=True)
class Ack:
    """A write the server acknowledged as written: the match's version and seq it answered."""

    match_id: str
    version: int
    seq: int
    event: str  # the type of the event at `seq`
    scores: dict[str, int]


@dataclasses.dataclass
class Scorer:
    """One socket's live scores for one player: the last the server acknowledged."""

    match_id: str
    player: str
    acked: int | None = None
    refused: list[str] = dataclasses.field(default_factory=list)
    close_code: int | None = None
    answered: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)  # its first ack came


def server_args(port: int, data_dir: Path, *extra: str) -> tuple[str, ...]:
    return ("--port", str(port), "--data-dir", str(data_dir), "--limits", NO_RATE_LIMITS, *extra)


async def new_tournament(client: Client) -> str:
    tournament = await client.ok("POST", "/api/tournaments", {"name": "Crash Cup"}, 201)
    for player in PLAYERS:
        await client.ok("POST", f"/api/tournaments/{tournament['id']}/participants",
                        {"name": player, "id": player}, 201)
    return str(tournament["id"])


def pair(rng: random.Random) -> list[str]:
    return rng.sample(PLAYERS, 2)


# -- writers -----------------------------------------------------------------------------------


async def rest_scorer(client: Client, match_id: str, player: str, acks: list[Ack]) -> None:
    """`POST .../score` with If-Match, one after the other, until the match ends or the server
    goes; each 200 is an acknowledged write."""
    try:
        match = await client.ok("GET", f"/api/matches/{match_id}")
        version, n = match["version"], match["scores"].get(player, 0)
        while True:
            n += 1
            status, body = await client.call("POST", f"/api/matches/{match_id}/score", {"scores": {player: n}},
                                             headers={"If-Match": str(version)})
            if status == 200:
                acks.append(Ack(match_id, body["version"], body["seq"], "score_updated", {player: n}))
                version = body["version"]
            elif status == 409 and body["error"]["code"] == "version_conflict":
                version = body["error"]["version"]
            elif status in (409, 503):  # the match ended, or the server is stopping
                return
            else:
                raise AssertionError((status, body))
    except ServerGone:
        return


async def reply_to(sock: Socket, ref: str) -> dict[str, Any] | None:
    """The ack or error frame answering `ref` (events in between are skipped); None once closed."""
    while True:
        frame = await sock.recv(skip=("presence", "ping", "store_status"))
        if frame is None or (frame["type"] in ("ack", "error") and frame.get("id") == ref):
            return frame


async def socket_scorer(port: int, token: str, scorer: Scorer, epochs: dict[str, str]) -> None:
    """`update_score` frames, each sent once the previous one is answered, until the match
    ends or the server goes; each `ack` is an acknowledged live score."""
    try:
        sock = await Socket.open(port, f"/ws/match/{scorer.match_id}", token)
    except ServerGone:
        return
    try:
        welcome = await sock.recv()
        if welcome is None or welcome["type"] != "connection_established":
            return
        epochs[scorer.match_id] = welcome["data"]["epoch"]
        n = welcome["data"]["match"]["scores"].get(scorer.player, 0)
        while True:
            n += 1
            ref = f"{scorer.player}-{n}"
            if not await sock.send({"type": "update_score", "id": ref, "data": {"scores": {scorer.player: n}}}):
                return
            reply = await reply_to(sock, ref)
            if reply is None:
                scorer.close_code = sock.close_code
                return
            if reply["type"] == "ack":
                scorer.acked = n
                scorer.answered.set()
            else:
                scorer.refused.append(reply["code"])
                return
    finally:
        sock.close()


async def finish(client: Client, port: int, match_id: str, players: list[str], by_socket: bool,
                 acks: list[Ack]) -> None:
    """The organizer reports the result, over REST or a socket (`report_score`)."""
    scores = {players[0]: 2, players[1]: 1}
    try:
        if not by_socket:
            status, body = await client.call("POST", f"/api/matches/{match_id}/result", {"scores": scores})
            if status == 200:
                acks.append(Ack(match_id, body["version"], body["seq"], "match_completed", scores))
            return
        sock = await Socket.open(port, f"/ws/match/{match_id}", client.token)
        try:
            if (await sock.recv()) is None:
                return
            await sock.send({"type": "report_score", "id": "result", "data": {"scores": scores}})
            reply = await reply_to(sock, "result")
            if reply is not None and reply["type"] == "ack":
                data = reply["data"]
                acks.append(Ack(match_id, data["version"], data["seq"], "match_completed", scores))
        finally:
            sock.close()
    except ServerGone:
        return


# -- checks ------------------------------------------------------------------------------------


async def check_log(client: Client, match_id: str, context: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The match and its log, which is gap-free 1..match.seq and ends with the match's snapshot."""
    match = await client.ok("GET", f"/api/matches/{match_id}")
    log = await client.events(match_id)
    assert [e["seq"] for e in log] == list(range(1, match["seq"] + 1)), f"{context}: {match_id} log has gaps"
    if log:
        last = log[-1]["data"]["match"]
        assert (last["version"], last["seq"], last["state"], last["scores"]) == \
               (match["version"], match["seq"], match["state"], match["scores"]), f"{context}: {match_id}"
    return dict(match), log


def check_acks(match: dict[str, Any], log: list[dict[str, Any]], acks: list[Ack], context: str) -> None:
    """Every acknowledged write of the match is stored: the match is at least at its version,
    and the event at its seq is the one acknowledged."""
    for ack in (a for a in acks if a.match_id == match["id"]):
        assert match["version"] >= ack.version and len(log) >= ack.seq, f"{context}: lost {ack}"
        event = log[ack.seq - 1]
        assert event["type"] == ack.event, f"{context}: {ack} vs {event}"
        stored = event["data"]["scores"] if ack.event == "score_updated" else event["data"]["result"]["scores"]
        assert {p: stored[p] for p in ack.scores} == ack.scores, f"{context}: {ack} vs {event}"


async def check_recovery(client: Client, port: int, match_id: str, seq: int, epoch: str | None,
                         since: int, context: str) -> None:
    """A socket that had `since` gets exactly the events after it, from the stored log."""
    query = f"since={since}" + (f"&epoch={epoch}" if epoch else "")
    sock = await Socket.open(port, f"/ws/match/{match_id}?{query}", client.token)
    try:
        welcome = await sock.recv()
        assert welcome is not None and welcome["type"] == "connection_established", (context, welcome)
        assert (welcome["data"]["recovered"], welcome["data"]["seq"]) == (True, seq), (context, welcome["data"])
        if epoch:
            assert welcome["data"]["epoch"] == epoch, context
        replayed = [await sock.recv() for _ in range(seq - since)]
        assert [f["seq"] if f else None for f in replayed] == list(range(since + 1, seq + 1)), context
        await sock.send({"type": "ping", "timestamp": 1})
        pong = await sock.recv()
        assert pong is not None and pong["type"] == "pong", (context, pong)  # nothing else was sent
    finally:
        sock.close()


# -- tests -------------------------------------------------------------------------------------


@pytest.mark.gen_test(timeout=120)
async def test_kill_9_during_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """kill -9 mid-writes, many cycles: every acked write is stored, logs are gap-free, recovery replays them."""
    rng = random.Random(SEED)
    port, data_dir = free_port(), tmp_path / "data"
    acks: list[Ack] = []
    epochs: dict[str, str] = {}
    matches: dict[str, list[str]] = {}  # every match created, with its players
    tournament_id = ""
    killed_store = 0  # the embedded store of the server killed last
    for cycle in range(CYCLES + 1):
        context = f"seed {SEED}, cycle {cycle}"
        server = ServerProcess(*server_args(port, data_dir), log_path=tmp_path / f"server-{cycle}.log")
        async with server:  # straight after the kill: the new server copes with the old store ending
            client = Client(port, server.token)
            assert process_gone(killed_store), f"{context}: the killed server's store is still running"
            live = []
            for match_id in matches:  # what the killed runs acknowledged is all there
                match, log = await check_log(client, match_id, context)
                check_acks(match, log, acks, context)
                since = max(0, match["seq"] - rng.randint(0, 12))
                await check_recovery(client, port, match_id, match["seq"], epochs.get(match_id), since, context)
                live += [match_id] if match["state"] == "live" else []
            if cycle == CYCLES:
                pid = store_pid(data_dir)
                assert await server.signal(signal.SIGTERM) == 0, server.stderr()
                assert process_gone(pid), "the embedded store outlived the server"
                break

            tournament_id = tournament_id or await new_tournament(client)
            while len(live) < LIVE_MATCHES:
                players = pair(rng)
                match = await client.live_match(tournament_id, players)
                matches[match["id"]] = players
                live.append(match["id"])
            writers = []
            for match_id in live:
                a, b = matches[match_id]
                writers.append(rest_scorer(client, match_id, a, acks))
                writers.append(socket_scorer(port, server.token, Scorer(match_id, b), epochs))
            ending, end_delay_s, by_socket = rng.choice(live), rng.uniform(0.05, 0.6), rng.random() < 0.5

            async def end_later() -> None:
                await asyncio.sleep(end_delay_s)  # a random point among the writes
                await finish(client, port, ending, matches[ending], by_socket, acks)

            tasks = [asyncio.ensure_future(w) for w in (*writers, end_later())]
            await asyncio.sleep(rng.uniform(0.2, 1.0))  # the random point of the kill
            killed_store = store_pid(data_dir)
            assert await server.signal(signal.SIGKILL) == -signal.SIGKILL
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            assert "Traceback" not in server.stderr(), f"{context}:\n{server.stderr()}"
    assert sum(a.event == "match_completed" for a in acks) >= 1, f"seed {SEED}: no result was acknowledged"


def cycle_server(port: int, data_dir: Path, tmp_path: Path, cycle: int, stop: str) -> ServerProcess:
    """The server of one cycle on the shared data dir, in a process group of its own when the
    cycle ends with Ctrl-C (SIGINT goes to the whole group, the embedded store with it)."""
    return ServerProcess(*server_args(port, data_dir), log_path=tmp_path / f"server-{cycle}.log",
                         new_session=stop == "ctrl-c")


async def stop_mid_play(server: ServerProcess, stop: str, writes: Coroutine[Any, Any, None], after_s: float,
                        context: str) -> None:
    """Run `writes` (which returns once the server is gone) and stop the server `after_s` into
    them: kill -9, or Ctrl-C to its process group; the server must not have crashed on its own."""
    writer = asyncio.ensure_future(writes)
    await asyncio.sleep(after_s)  # the random point of the stop
    if stop == "kill":
        assert await server.signal(signal.SIGKILL) == -signal.SIGKILL
    else:
        assert await server.interrupt_group() == 0, server.stderr()
    await asyncio.wait_for(writer, 30)
    assert "Traceback" not in server.stderr(), f"{context}:\n{server.stderr()}"


async def play_called(client: Client, tournament_id: str, acks: list[Ack], rng: random.Random) -> None:
    """Play whatever the queue calls, over REST, until the server goes: both players checked
    in (by the organizer), started, a result; each acknowledged result goes into `acks`."""
    try:
        while True:
            queue = await client.ok("GET", f"/api/tournaments/{tournament_id}/queue")
            called = [s["match"] for s in queue["stations"] if s["match"]]
            if not called:
                return
            match = rng.choice(called)
            mid, players = match["match_id"], match["participant_ids"]
            for player in players:
                if player not in match["checked_in"]:
                    await client.call("POST", f"/api/matches/{mid}/check-in", {"participant_id": player})
            await client.call("POST", f"/api/matches/{mid}/start")
            scores = {players[0]: 2, players[1]: 1}
            status, body = await client.call("POST", f"/api/matches/{mid}/result", {"scores": scores})
            if status == 200:
                acks.append(Ack(mid, body["version"], body["seq"], "match_completed", scores))
    except ServerGone:
        return


async def check_stations(client: Client, tournament_id: str, context: str) -> list[str]:
    """No station holds two open matches, no player is in two called or played ones; every
    match's log is gap-free. Returns the tournament's match ids."""
    everything = (await client.ok("GET", f"/api/tournaments/{tournament_id}/matches"))["matches"]
    open_calls = [m for m in everything if m["call"] and m["state"] not in ("completed", "forfeit", "cancelled")]
    stations = [m["call"]["station_id"] for m in open_calls]
    assert len(stations) == len(set(stations)), f"{context}: a station holds two matches"
    engaged = [p for m in everything if m in open_calls or m["state"] in ("live", "pending_result", "disputed")
               for p in m["participant_ids"]]
    assert len(engaged) == len(set(engaged)), f"{context}: a player is double-booked"
    return [m["id"] for m in everything]


@pytest.mark.gen_test(timeout=120)
async def test_kill_9_and_ctrl_c_while_the_queue_calls_matches(tmp_path: Path) -> None:
    """A bracket run by auto-assign on 4 stations: kill -9 mid-play, then Ctrl-C to the process
    group mid-play; after each restart every acknowledged result is stored, every log is
    gap-free, no station or player is double-booked, and the free stations are filled again."""
    rng = random.Random(SEED + 4)
    port, data_dir = free_port(), tmp_path / "data"
    acks: list[Ack] = []
    tournament_id = ""
    for cycle, stop in enumerate(("kill", "kill", "ctrl-c", "check")):
        context = f"seed {SEED + 4}, cycle {cycle}"
        server = cycle_server(port, data_dir, tmp_path, cycle, stop)
        async with server:
            client = Client(port, server.token)
            if not tournament_id:
                tournament_id = (await client.ok("POST", "/api/tournaments",
                                                 {"name": "Queue Cup", "format": "single_elimination"}, 201))["id"]
                for i in range(16):
                    await client.ok("POST", f"/api/tournaments/{tournament_id}/participants", {"name": f"q{i}"}, 201)
                for i in range(4):
                    await client.ok("POST", f"/api/tournaments/{tournament_id}/stations", {"name": f"S{i}"}, 201)
                await client.ok("PATCH", f"/api/tournaments/{tournament_id}/calling",
                                {"auto_assign": True, "check_in_s": None})
                await client.ok("POST", f"/api/tournaments/{tournament_id}/start", {})
            else:  # a restart: the free stations were filled before it listened, nothing writes now
                for match_id in await check_stations(client, tournament_id, context):
                    match, log = await check_log(client, match_id, context)
                    check_acks(match, log, acks, context)
                queue = await client.ok("GET", f"/api/tournaments/{tournament_id}/queue")
                free = [s for s in queue["stations"] if s["match"] is None]
                assert not (free and any(row["ready"] and not row["held"] for row in queue["queue"])), \
                    f"{context}: a free station and a ready match after the restart"
            if stop == "check":
                assert await server.signal(signal.SIGTERM) == 0
                break
            await stop_mid_play(server, stop, play_called(client, tournament_id, acks, rng), rng.uniform(0.3, 1.0),
                                context)
    assert sum(a.event == "match_completed" for a in acks) >= 3, f"seed {SEED + 4}: too few results acknowledged"


async def play_groups(client: Client, tournament_id: str, acks: list[Ack], out: list[str],
                      rng: random.Random) -> None:
    """Play the ready (and the live) matches over REST, the lower id winning, and disqualify a player now and
    then, until the server goes; each acknowledged result goes into `acks`, each acknowledged
    disqualification into `out`."""
    try:
        while True:
            matches = (await client.ok("GET", f"/api/tournaments/{tournament_id}/matches"))["matches"]
            ready = [m for m in matches if m["state"] in ("scheduled", "live") and None not in m["participant_ids"]]
            if not ready:
                return
            if not out and rng.random() < 0.05:
                who = rng.choice(ready)["participant_ids"][1]
                status, _ = await client.call("POST", f"/api/tournaments/{tournament_id}/participants/{who}/disqualify",
                                              {"reason": "crash test"})
                if status == 200:
                    out.append(who)
                continue
            match = rng.choice(ready)
            mid, (a, b) = match["id"], match["participant_ids"]
            if match["state"] == "scheduled":  # a match a stop left live is decided as it is
                await client.call("POST", f"/api/matches/{mid}/start")
            scores = {a: 2, b: 1} if a < b else {a: 1, b: 2}
            status, body = await client.call("POST", f"/api/matches/{mid}/result", {"scores": scores})
            if status == 200:
                acks.append(Ack(mid, body["version"], body["seq"], "match_completed", scores))
    except ServerGone:
        return


@pytest.mark.gen_test(timeout=120)
async def test_kill_9_and_ctrl_c_through_groups_a_disqualification_and_the_playoff(tmp_path: Path) -> None:
    """Groups, then playoffs, registered by a bulk add and played over REST with a player
    disqualified on the way: kill -9 twice and Ctrl-C to the process group mid-play. After each
    restart every acknowledged result and disqualification is stored, every log is gap-free, no
    open match has a disqualified player in it, and once the groups are decided the playoff is
    open, each of its matches once."""
    rng = random.Random(SEED + 5)
    port, data_dir = free_port(), tmp_path / "data"
    acks: list[Ack] = []
    out: list[str] = []
    tournament_id = ""
    for cycle, stop in enumerate(("kill", "kill", "ctrl-c", "check")):
        context = f"seed {SEED + 5}, cycle {cycle}"
        server = cycle_server(port, data_dir, tmp_path, cycle, stop)
        async with server:
            client = Client(port, server.token)
            if not tournament_id:
                tournament_id = (await client.ok("POST", "/api/tournaments",
                                                 {"name": "Group Cup", "format": "groups_playoffs"}, 201))["id"]
                csv = "name,id\n" + "\n".join(f"G{i},g{i:02}" for i in range(32))
                await client.ok("POST", f"/api/tournaments/{tournament_id}/participants/bulk", {"csv": csv}, 201)
                await client.ok("POST", f"/api/tournaments/{tournament_id}/start", {"groups": {"count": 4}})
            else:
                tournament = await client.ok("GET", f"/api/tournaments/{tournament_id}")
                assert set(out) <= {d["participant_id"] for d in tournament["disqualified"]}, f"{context}: lost a DQ"
                matches = (await client.ok("GET", f"/api/tournaments/{tournament_id}/matches"))["matches"]
                for match in matches:
                    stored, log = await check_log(client, match["id"], context)
                    check_acks(stored, log, acks, context)
                    if stored["state"] not in ("completed", "forfeit", "cancelled") and None not in stored["participant_ids"]:
                        assert not set(stored["participant_ids"]) & {d["participant_id"] for d in
                                                                     tournament["disqualified"]}, \
                            f"{context}: {stored['id']} still waits for a disqualified player"
                groups = [m for m in matches if m["bracket"]["group"]]
                playoff = [m["bracket"]["key"] for m in matches if not m["bracket"]["group"]]
                assert len(playoff) == len(set(playoff)), f"{context}: a playoff match twice"
                if all(m["state"] in ("completed", "forfeit") or m["bracket"]["walkover"] for m in groups):
                    assert tournament["settings"]["stage"] == "playoff" and playoff, f"{context}: no playoff"
            if stop == "check":  # what is left plays to the end: the playoff opens once, the tournament ends
                await play_groups(client, tournament_id, acks, out, rng)
                assert (await client.ok("GET", f"/api/tournaments/{tournament_id}"))["state"] == "completed", context
                assert await server.signal(signal.SIGTERM) == 0
                break
            await stop_mid_play(server, stop, play_groups(client, tournament_id, acks, out, rng),
                                rng.uniform(0.2, 0.6), context)
    assert len(acks) >= 3, f"seed {SEED + 5}: too few results acknowledged"
    assert out, f"seed {SEED + 5}: nobody was disqualified"


async def live_matches(client: Client, count: int, rng: random.Random) -> dict[str, list[str]]:
    """`count` new live matches of one new tournament, with their players."""
    tournament_id = await new_tournament(client)
    matches = {}
    for _ in range(count):
        players = pair(rng)
        matches[(await client.live_match(tournament_id, players))["id"]] = players
    return matches


def scorers_of(matches: dict[str, list[str]]) -> list[Scorer]:
    """A socket for each player of each match."""
    return [Scorer(match_id, player) for match_id, players in matches.items() for player in players]


async def check_scores_stored(client: Client, scorers: list[Scorer], context: str) -> None:
    """The last acknowledged score of every socket is its player's stored score."""
    for scorer in scorers:
        match, _ = await check_log(client, scorer.match_id, context)
        assert scorer.acked is not None, f"{context}: {scorer} was never acknowledged"
        assert match["scores"].get(scorer.player) == scorer.acked, f"{context}: {scorer} vs {match['scores']}"


def warnings(stderr: str) -> list[str]:
    """The server's warnings and errors (a store that died, a failed write), access log aside."""
    return [line for line in stderr.splitlines()
            if (" WARNING " in line or " ERROR " in line) and "tornado.access" not in line]


def store_errors(stderr: str) -> list[str]:
    """Log lines that show a write reached a closed or dead store."""
    return [line for line in stderr.splitlines()
            if "score flush" in line or "after close" in line or "Traceback" in line]


@pytest.mark.gen_test(timeout=60)
async def test_sigterm_keeps_the_last_acknowledged_score_of_every_socket(tmp_path: Path) -> None:
    """SIGTERM mid-scores: exit 0, sockets closed with 1001, each socket's last acked score stored."""
    rng = random.Random(SEED + 1)
    port, data_dir = free_port(), tmp_path / "data"
    for cycle in range(4):
        context = f"seed {SEED + 1}, cycle {cycle}"
        async with ServerProcess(*server_args(port, data_dir), log_path=tmp_path / f"server-{cycle}.log") as server:
            client = Client(port, server.token)
            matches = await live_matches(client, 2, rng)
            scorers = scorers_of(matches)
            tasks = [asyncio.ensure_future(socket_scorer(port, server.token, s, {})) for s in scorers]
            await asyncio.wait_for(asyncio.gather(*(s.answered.wait() for s in scorers)), 20)
            await asyncio.sleep(rng.uniform(0.0, 0.5))  # the random point of the stop
            assert await server.signal(signal.SIGTERM) == 0, server.stderr()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            assert not store_errors(server.stderr()), server.stderr()
            assert {s.close_code for s in scorers} <= {1001, None}, (context, scorers)
            assert set(sum((s.refused for s in scorers), [])) <= {"shutting_down"}, (context, scorers)
        async with ServerProcess(*server_args(port, data_dir), log_path=tmp_path / f"after-{cycle}.log") as server:
            await check_scores_stored(Client(port, server.token), scorers, context)
            assert await server.signal(signal.SIGTERM) == 0


@pytest.mark.gen_test(timeout=60)
async def test_ctrl_c_writes_waiting_scores_and_leaves_no_orphan(tmp_path: Path) -> None:
    """Ctrl-C to the process group: exit 0, batched scores written, the store stopped by the server after."""
    rng = random.Random(SEED + 2)
    port, data_dir = free_port(), tmp_path / "data"
    # A long batch window: every acknowledged score is still waiting when Ctrl-C comes.
    args = server_args(port, data_dir, "--batch-window-s", "10")
    async with ServerProcess(*args, log_path=tmp_path / "server.log", new_session=True) as server:
        client = Client(port, server.token)
        scorers = scorers_of(await live_matches(client, 2, rng))
        socks = [await Socket.open(port, f"/ws/match/{s.match_id}", server.token) for s in scorers]
        for sock, scorer in zip(socks, scorers):
            assert (await sock.recv() or {}).get("type") == "connection_established"
            await sock.send({"type": "update_score", "id": "u", "data": {"scores": {scorer.player: 7}}})
            assert (await reply_to(sock, "u") or {}).get("type") == "ack"
            scorer.acked = 7
        pid = store_pid(data_dir)
        assert os.getpgid(pid) != os.getpgid(server.pid), "the embedded store is in the terminal's group"
        assert await server.interrupt_group() == 0, server.stderr()
        assert process_gone(pid), "the embedded store outlived the server"
        stderr = server.stderr()
        assert not store_errors(stderr) and not warnings(stderr), stderr  # the store did not go first
        assert "embedded store stopped" in stderr.rpartition("shutting down")[2], stderr
        for sock in socks:
            sock.close()
    async with ServerProcess(*server_args(port, data_dir), log_path=tmp_path / "after.log") as server:
        await check_scores_stored(Client(port, server.token), scorers, f"seed {SEED + 2}")
        assert await server.signal(signal.SIGTERM) == 0


@pytest.mark.gen_test(timeout=60)
async def test_a_killed_embedded_store_is_restarted(tmp_path: Path) -> None:
    """A kill -9'd store is restarted on its port with backoff, logged, announced both ways; writes go on."""
    rng = random.Random(SEED + 3)
    port, data_dir = free_port(), tmp_path / "data"
    down, up = ({"type": "store_status", "data": {"available": available}} for available in (False, True))
    async with ServerProcess(*server_args(port, data_dir), log_path=tmp_path / "server.log") as server:
        client = Client(port, server.token)
        (match_id, players), = (await live_matches(client, 1, rng)).items()
        sock = await Socket.open(port, f"/ws/match/{match_id}", server.token)
        try:
            assert (await sock.recv() or {}).get("type") == "connection_established"
            first_pid = pid = store_pid(data_dir)
            first_port = store_port(pid)
            for score in (3, 4):  # twice in a row: the second restart waits twice as long
                os.kill(pid, signal.SIGKILL)
                assert (await sock.recv(), await sock.recv()) == (down, up)
                assert store_pid(data_dir) != pid and store_port(store_pid(data_dir)) == first_port
                pid = store_pid(data_dir)
                scored = await client.ok("POST", f"/api/matches/{match_id}/score", {"scores": {players[0]: score}})
                assert scored["scores"][players[0]] == score and scored["state"] == "live"
                frame = await sock.recv()
                assert frame is not None and (frame["type"], frame["seq"]) == ("score_updated", scored["seq"])
        finally:
            sock.close()
        assert await server.signal(signal.SIGTERM) == 0
    errors = [line for line in server.stderr().splitlines() if " ERROR " in line]
    assert len(errors) == 2 and all("SIGKILL" in e and "nx-27017.log" in e for e in errors), errors
    assert [e.split("restarting it in ")[1].split(";")[0] for e in errors] == ["0.5 s", "1.0 s"], errors
    assert f"(pid {first_pid})" in errors[0] and process_gone(pid)


def store_port(pid: int) -> str:
    """The --port the embedded store process was started with."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return argv[argv.index(b"--port") + 1].decode()
