"""Counts over real livebracket processes on one Redis: watchers in welcomes and presence frames
summed over the nodes, the per-user and room limits refusing on the other node, a node killed
(kill -9) whose sockets stop counting once its counts expire, and a tournament room showing a
player connected to its match's room on another node."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage.embedded import EmbeddedMongo, free_port
from tests.broker.test_nodes import NO_RATE_LIMITS, SECRET
from tests.redisserver import RedisServer
from tests.serverprocess import Client, ServerProcess, Socket
from tournament.roles import Role
from tournament.tokens import TokenCodec

WAIT_S = 20.0
LOBBY = "/ws/lobby"


def token(user: str, role: Role = Role.PLAYER) -> str:
    return TokenCodec(SECRET).issue(user, user.title(), role, 3600)[0]


class Peer:
    """One socket, read in the background: its welcome, its presence frames, how it ended."""

    def __init__(self, sock: Socket, first: dict[str, Any]) -> None:
        self.sock = sock
        self.first = first
        self.presence: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []  # everything after the first but pings
        self.changed = asyncio.Event()
        self.task = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, port: int, path: str, user_token: str) -> Peer:
        sock = await Socket.open(port, path, user_token)
        first = await sock.recv(skip=("ping", "presence"))
        assert first is not None
        return cls(sock, first)

    @property
    def welcome(self) -> dict[str, Any]:
        assert self.first["type"] == "connection_established", self.first
        return dict(self.first["data"])

    async def _read(self) -> None:
        while (frame := await self.sock.recv(skip=("ping",), timeout_s=120)) is not None:
            self.frames.append(frame)
            if frame["type"] == "presence":
                self.presence.append(frame["data"])
            self.changed.set()
        self.changed.set()

    async def until(self, done: Callable[[dict[str, Any]], bool], what: str) -> None:
        """Until the latest presence frame satisfies `done` (with a deadline)."""
        await self.until_frame(lambda f: f["type"] == "presence" and done(self.presence[-1]), what)

    async def until_frame(self, done: Callable[[dict[str, Any]], bool], what: str) -> None:
        """Until the latest frame satisfies `done` (with a deadline)."""
        async def wait() -> None:
            while not (self.frames and done(self.frames[-1])):
                self.changed.clear()
                await self.changed.wait()
        try:
            await asyncio.wait_for(wait(), WAIT_S)
        except asyncio.TimeoutError:
            raise AssertionError(f"{what}; frames so far: {self.frames[-3:]}") from None

    def close(self) -> None:
        self.task.cancel()
        self.sock.close()


async def refused(port: int, path: str, user_token: str) -> tuple[str, int | None]:
    """A socket that must be refused: its error code and close code."""
    sock = await Socket.open(port, path, user_token)
    try:
        error = await sock.recv(skip=("ping", "presence"))
        assert error is not None and error["type"] == "error", error
        assert await sock.recv(skip=("ping", "presence")) is None
        return error["code"], sock.close_code
    finally:
        sock.close()


async def admitted_soon(port: int, path: str, user_token: str) -> Peer:
    """A socket refused for a limit until the counts catch up: tried again until admitted."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        peer = await Peer.open(port, path, user_token)
        if peer.first["type"] == "connection_established":
            return peer
        peer.close()
        assert peer.first["type"] == "error" and peer.first["close_code"] in (4030, 4031), peer.first
        assert asyncio.get_running_loop().time() < deadline, f"still refused: {peer.first}"
        await asyncio.sleep(0.05)  # a refusal has no event to await: the next try is the check


@contextlib.asynccontextmanager
async def nodes(tmp_path: Path, limits: str, *extra: str, embedded: bool = False
                ) -> AsyncIterator[list[ServerProcess]]:
    """Two nodes on one Redis, over one embedded store (or each its own memory store: enough
    for the lobby, which every node builds from its own)."""
    store = EmbeddedMongo(tmp_path / "store") if embedded else None
    redis_server = RedisServer(tmp_path / "redis").start()
    servers: list[ServerProcess] = []
    try:
        store_args = ["--store", "mongo", "--mongo-url", await store.start()] if store else ["--store", "memory"]
        servers = [ServerProcess("--port", str(free_port()), *store_args, "--broker", redis_server.url,
                                 "--data-dir", str(tmp_path / f"node{i}"), "--jwt-secret", SECRET,
                                 "--limits", f"{NO_RATE_LIMITS},{limits}", *extra,
                                 log_path=tmp_path / f"node{i}.log") for i in range(2)]
        await asyncio.gather(*(server.start() for server in servers))
        yield servers
        for server in servers:
            assert "Traceback" not in server.stderr(), server.stderr()
        for server in servers:  # a clean stop, not the SIGKILL after STOP_TIMEOUT_S
            if server.process is not None and server.process.returncode is None:
                assert await server.stop() == 0, server.stderr()
    finally:
        for server in servers:
            if server.process is not None and server.process.returncode is None:
                await server.stop()
        redis_server.stop()
        if store is not None:
            await store.stop()


@pytest.mark.gen_test(timeout=60)
async def test_watchers_and_socket_limits_count_both_nodes(tmp_path: Path) -> None:
    """Welcomes count the sockets of both nodes; presence frames reach every socket with the
    total; the per-user limit (4030) and the room's (4031) refuse on the other node; a close on
    one node frees a place on the other."""
    async with nodes(tmp_path, "sockets_per_user=2,tournament_room_max=5") as (a, b):
        alice, bob, carol = token("alice"), token("bob"), token("carol")
        peers = [await Peer.open(a.port, LOBBY, alice), await Peer.open(a.port, LOBBY, alice)]
        try:
            assert await refused(b.port, LOBBY, alice) == ("connection_limit_exceeded", 4030)
            peers += [await Peer.open(b.port, LOBBY, bob), await Peer.open(b.port, LOBBY, bob),
                      await Peer.open(a.port, LOBBY, carol)]
            assert [p.welcome["watchers"] for p in peers] == [1, 2, 3, 4, 5]
            assert await refused(b.port, LOBBY, carol) == ("room_full", 4031)
            for peer in peers:
                await peer.until(lambda p: p["watchers"] == 5, "every socket sees the 5 of both nodes")
            peers.pop(0).close()
            late = await admitted_soon(b.port, LOBBY, alice)
            peers.append(late)
            assert late.welcome["watchers"] == 5
        finally:
            for peer in peers:
                peer.close()


@pytest.mark.gen_test(timeout=60)
async def test_a_killed_nodes_sockets_stop_counting_once_its_counts_expire(tmp_path: Path) -> None:
    """a holds alice's two sockets and is killed (-9): once its counts expire (--counts-ttl-s),
    b admits alice again, and b's sockets get presence without a's."""
    async with nodes(tmp_path, "sockets_per_user=2", "--counts-ttl-s", "1.5") as (a, b):
        alice, bob = token("alice"), token("bob")
        on_a = [await Peer.open(a.port, LOBBY, alice), await Peer.open(a.port, LOBBY, alice)]
        on_b = await Peer.open(b.port, LOBBY, bob)
        try:
            assert on_b.welcome["watchers"] == 3
            assert await refused(b.port, LOBBY, alice) == ("connection_limit_exceeded", 4030)
            assert await a.signal(signal.SIGKILL) == -signal.SIGKILL
            await on_b.until(lambda p: p["watchers"] == 1, "b's socket sees a's go")
            again = await admitted_soon(b.port, LOBBY, alice)
            on_a.append(again)
            assert again.welcome["watchers"] == 2
        finally:
            for peer in (*on_a, on_b):
                peer.close()


@pytest.mark.gen_test(timeout=90)
async def test_a_tournament_room_shows_a_player_connected_on_the_other_node(tmp_path: Path) -> None:
    """p0's socket to its match is on a, the organizer's desk (tournament room) and a match
    socket on b: b's presence names p0 in both rooms and counts a's socket; a's lobby counts
    the desk among the tournament's watchers."""
    async with nodes(tmp_path, "", embedded=True) as (a, b):
        api = Client(a.port, a.token)
        tournament = (await api.ok("POST", "/api/tournaments", {"name": "Counts Cup"}, 201))["id"]
        for name in ("p0", "p1"):
            await api.ok("POST", f"/api/tournaments/{tournament}/participants", {"name": name, "id": name}, 201)
        match = (await api.live_match(tournament, ["p0", "p1"]))["id"]
        desk = await Peer.open(b.port, f"/ws/tournament/{tournament}", b.token)
        watching = await Peer.open(b.port, f"/ws/match/{match}", b.token)
        player = await Peer.open(a.port, f"/ws/match/{match}", token("p0"))
        lobby = await Peer.open(a.port, LOBBY, a.token)
        try:
            assert player.welcome["watchers"] == 2 and player.welcome["is_participant"] is True
            await desk.until(lambda p: p["online"] == {match: ["p0"]}, "the desk shows p0 online")
            await watching.until(lambda p: (p["watchers"], p["participants"], p["spectators"]) == (2, ["p0"], 1),
                                 "b's match socket counts a's player")
            await lobby.until_frame(lambda f: f["type"] == "tournament_summary"
                                    and f["data"]["tournament"]["watchers"] == 1, "a's lobby counts b's desk")
            player.close()
            await desk.until(lambda p: p["online"] == {}, "the desk shows p0 gone")
        finally:
            for peer in (desk, watching, player, lobby):
                peer.close()
