"""Hypothesis fuzzing over real sockets and HTTP: malformed input is refused cleanly and changes nothing."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from tornado.ioloop import IOLoop

from handlers.services import Services
from handlers.openapi import DOCUMENT
from realtime.protocol import CLIENT_TYPES, ErrorCode
from tests.conftest import Api
from tests.wsclient import Socket, connect
from tournament import events
from tournament.models import FINAL_STATES
from tournament.roles import ROLE_NAMES, Role
from tournament.tournaments import FORMATS

# The domain codes of docs/api.md ("Errors") that a match command can meet.
DOMAIN_CODES = frozenset({"insufficient_permissions", "not_opponent", "invalid_state", "invalid_value",
                          "invalid_schema", "players_missing", "already_checked_in", "version_conflict",
                          "already_exists", "dispute_not_open", "chat_empty", "chat_too_long", "chat_muted",
                          "chat_forbidden", "bracket_match", "game_over", "game_decided", "game_not_started",
                          "no_game_live", "veto_in_progress", "no_veto", "veto_complete", "not_your_turn",
                          "wrong_action", "map_taken"})
# internal_error says the server failed on the frame: no input may cause that.
ERROR_CODES = frozenset(code.value for code in ErrorCode if code is not ErrorCode.INTERNAL_ERROR) | DOMAIN_CODES
# Valid JSON nested past Python's recursion limit, well inside the frame and body size limits.
DEEP = '{"type": "update_score", "data": {"scores": ' + "[" * 3000 + "]" * 3000 + "}}"
ANSWERS = frozenset({"pong", "subscribed", "ack"})
EVENT_TYPES = frozenset(value for name, value in vars(events).items() if name.isupper() and isinstance(value, str))
BACKGROUND = frozenset({"presence", "ping", "chat_typing"})  # who watches, the heartbeat, who types
FUZZ = settings(max_examples=100, derandomize=True, database=None, deadline=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
players = st.sampled_from(["alice", "bob"])
names = st.sampled_from(["alice", "bob", "carol", "nobody", ""]) | players | st.text(max_size=8)
scores = st.dictionaries(names, st.integers(0, 9) | st.integers(-2, 1_000_001), max_size=3)


def fields(plausible: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of these fields, each plausible or any JSON value; unknown keys too."""
    return st.fixed_dictionaries({}, optional={name: values | json_values for name, values in plausible.items()}
                                 | {"extra": json_values})


command_data = fields({"scores": scores, "participant_id": names, "reason": st.text(max_size=20),
                       "since": st.integers(-2, 20), "epoch": st.text(max_size=8), "text": st.text(max_size=20),
                       "message_id": names, "user_id": names, "muted": st.booleans()})
frame_objects = st.fixed_dictionaries(
    {"type": st.sampled_from(CLIENT_TYPES) | st.text(max_size=12) | json_values},
    optional={"data": json_values, "id": json_values, "timestamp": json_values})
commands = st.fixed_dictionaries(
    {"type": st.sampled_from(CLIENT_TYPES)},
    optional={"data": command_data, "id": st.integers() | st.text(max_size=64), "timestamp": json_values})
frames = st.one_of(st.text(max_size=40), st.binary(max_size=24), json_values.map(json.dumps),
                   frame_objects.map(json.dumps), commands.map(json.dumps), commands.map(json.dumps))


@dataclasses.dataclass
class Room:
    """A live match and a socket on it per role; a new match once a fuzzed frame ends this one."""

    api: Api
    services: Services
    match_id: str = ""
    sockets: dict[str, Socket] = dataclasses.field(default_factory=dict)
    markers: itertools.count[int] = dataclasses.field(default_factory=itertools.count)

    async def live(self) -> None:
        if self.match_id and (await self.services.matches.get(self.match_id)).state not in FINAL_STATES:
            return
        self.close()
        _, match = await self.api.match_between("alice", "bob")
        self.match_id = match["id"]
        await self.api.ok("POST", f"/api/matches/{self.match_id}/start")
        for who, token in [("organizer", self.api.organizer), ("alice", self.api.token("alice")),
                           ("viewer", self.api.token("viewer", Role.SPECTATOR))]:
            self.sockets[who], welcome = await connect(self.api, f"/ws/match/{self.match_id}", token)
            assert welcome["type"] == "connection_established"

    async def version(self) -> int:
        await self.services.matches.scores.flush_all()  # a score accepted earlier lands now, not mid-example
        return (await self.services.matches.get(self.match_id)).version

    async def until_pong(self, sock: Socket) -> list[dict[str, Any]]:
        """Ping with a fresh marker; every frame before its pong (the socket must stay open)."""
        marker = f"fuzz-{next(self.markers)}"
        await sock.send({"type": "ping", "timestamp": marker})
        seen = []
        while (frame := await sock.recv(skip=()))["type"] != "pong" or frame.get("timestamp") != marker:
            seen.append(frame)
        return seen

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()


def check_frame(frame: dict[str, Any], raw: str | bytes) -> None:
    """A documented answer, a valid error frame, a match event or background traffic."""
    kind = frame.get("type")
    if kind == "error":
        assert frame["code"] in ERROR_CODES and isinstance(frame["message"], str), (raw, frame)
        assert "close_code" not in frame, (raw, frame)
    elif kind in EVENT_TYPES:
        assert isinstance(frame["seq"], int) and frame["data"]["match_id"], (raw, frame)
    else:
        assert kind in ANSWERS | BACKGROUND, (raw, frame)


def test_random_socket_frames_get_documented_answers(io_loop: IOLoop, api: Api, services: Services) -> None:
    """Random frames get a documented answer or error code, keep the socket open, and refusals change nothing."""
    room = Room(api, services)

    async def exchange(who: str, raw: str | bytes) -> None:
        await room.live()
        sock = room.sockets[who]
        await room.until_pong(sock)  # drain what earlier frames left behind
        before = await room.version()
        await sock.conn.write_message(raw, binary=isinstance(raw, bytes))
        seen = await room.until_pong(sock)
        for frame in seen:
            check_frame(frame, raw)
        answers = [frame["type"] for frame in seen if frame["type"] in ANSWERS | {"error"}]
        if "error" in answers and "ack" not in answers:
            assert await room.version() == before, (raw, seen)

    @FUZZ
    @given(who=st.sampled_from(["organizer", "alice", "viewer"]), raw=frames)
    @example(who="organizer", raw='{"type": "update_score", "data": {"scores": {"alice": 3}}, "id": 1}')
    @example(who="viewer", raw='{"type": "start_match", "id": "s"}')
    @example(who="alice", raw='{"type": "report_score", "data": {"scores": {"alice": 2, "bob": 1}}}')
    @example(who="alice", raw='{"type": "confirm_result"}')
    @example(who="organizer", raw='{"type": "subscribe", "data": {"since": 0}}')
    @example(who="alice", raw='{"type": "pong"}')
    @example(who="organizer", raw='{"type": "confirm_result"}')
    @example(who="organizer", raw='{"type": "ready_up", "data": {"participant_id": "alice"}}')
    def each(who: str, raw: str | bytes) -> None:
        io_loop.run_sync(lambda: exchange(who, raw), timeout=10)

    try:
        each()
    finally:
        room.close()


async def seed(api: Api) -> dict[str, str]:
    """Records to aim at: a tournament, a live match, a disputed match and its dispute, a webhook."""
    tid, live = await api.match_between("alice", "bob", "carol")
    await api.ok("POST", f"/api/matches/{live['id']}/start")
    other = await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["bob", "carol"]}, 201)
    await api.ok("POST", f"/api/matches/{other['id']}/start")
    await api.ok("POST", f"/api/matches/{other['id']}/result", {"scores": {"bob": 2, "carol": 1}},
                 as_=api.token("bob"))
    raised = await api.ok("POST", f"/api/matches/{other['id']}/disputes", {"reason": "lag"}, 201,
                          as_=api.token("carol"))
    hook = await api.ok("POST", f"/api/tournaments/{tid}/webhooks", {"url": "http://127.0.0.1:9/hook"}, 201)
    return {"tournament_id": tid, "match_id": live["id"], "dispute_id": raised["dispute"]["id"],
            "participant_id": "carol", "webhook_id": hook["id"]}


WRITE_PATHS = sorted(path for path, item in DOCUMENT["paths"].items() if "post" in item)
flags = st.booleans()
body_objects = fields({
    "name": st.text(max_size=12), "game": st.text(max_size=8), "format": st.sampled_from(FORMATS), "id": names,
    "seed": st.integers(-1, 5000), "participant_ids": st.lists(names, max_size=3), "round": st.integers(-1, 1001),
    "label": st.text(max_size=8), "participant_id": names, "scores": scores, "reason": st.text(max_size=12),
    "status": st.sampled_from(["resolved", "rejected"]), "resolution": st.text(max_size=12), "user_id": names,
    "role": st.sampled_from([*ROLE_NAMES, "participant"]), "ttl_s": st.integers(0, 700_000),
    "seeding": st.sampled_from(["given", "random", "registration"]), "rng_seed": st.integers(-1, 2**31),
    "third_place": flags, "grand_final_reset": flags, "rounds": st.integers(0, 256), "undo": flags,
    "force": flags, "dry_run": flags,
    "url": st.sampled_from(["http://127.0.0.1:9/x", "https://[::1]:9/", "ftp://x", "http://", ""]) | st.text(max_size=12),
    "events": st.lists(st.sampled_from(["match_completed", "webhook_ping", "nope"]) | st.text(max_size=6), max_size=3),
    "from_seq": st.integers(-1, 5), "secret": st.text(max_size=20)})
bodies = st.one_of(st.binary(max_size=40), st.text(max_size=40).map(str.encode),
                   json_values.map(lambda v: json.dumps(v).encode()),
                   body_objects.map(lambda v: json.dumps(v).encode()),
                   body_objects.map(lambda v: json.dumps(v).encode()))
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=140)
idempotency_keys = st.none() | st.none() | st.uuids().map(str) | header_text
versions = st.none() | st.none() | st.integers(0, 6).map(str) | header_text


def test_random_rest_bodies_get_2xx_or_a_shaped_4xx(io_loop: IOLoop, api: Api) -> None:
    """Random bodies and headers to every write route get a 2xx or a 4xx {"error": {code, message}}, no 5xx."""
    known = io_loop.run_sync(lambda: seed(api))

    @FUZZ
    @given(template=st.sampled_from(WRITE_PATHS), aim=st.booleans(), body=bodies, as_player=st.booleans(),
           key=idempotency_keys, if_match=versions)
    @example(template="/api/tournaments", aim=True, body=b'{"name": "Cup"}', as_player=False, key=None, if_match=None)
    @example(template="/api/tokens", aim=True, body=b'{"user_id": "dave", "role": "player"}', as_player=False,
             key=None, if_match=None)
    @example(template="/api/matches/{match_id}/score", aim=True, body=b'{"scores": {"alice": 1}}', as_player=True,
             key="k-1", if_match=None)
    @example(template="/api/matches/{match_id}/score", aim=True, body=b'{"scores": {"alice": 1}}', as_player=True,
             key="k-1", if_match="1")
    @example(template="/api/disputes/{dispute_id}/resolve", aim=True, as_player=False, key=None, if_match=None,
             body=b'{"resolution": "replayed", "scores": {"bob": 2, "carol": 1}}')
    @example(template="/api/tournaments/{tournament_id}/webhooks/{webhook_id}/replay", aim=True, as_player=False,
             key=None, if_match=None, body=b'{"from_seq": 1}')
    @example(template="/api/tournaments/{tournament_id}/webhooks", aim=True, as_player=False, key=None,
             if_match=None, body='{"url": "http://exa\u200bmple.com/", "events": ["nope"]}'.encode())
    def each(template: str, aim: bool, body: bytes, as_player: bool, key: str | None, if_match: str | None) -> None:
        path = template.format(**(known if aim else dict.fromkeys(known, "x_unknown")))
        headers = {name: value for name, value in (("Idempotency-Key", key), ("If-Match", if_match)) if value}
        who = api.token("alice") if as_player else "organizer"
        status, reply = io_loop.run_sync(lambda: api.post(path, raw=body, headers=headers, as_=who), timeout=10)
        assert 200 <= status < 500, (path, body, status, reply)
        assert api.last_headers["Content-Type"] == "application/json; charset=utf-8"
        if status >= 400:
            assert isinstance(reply, dict) and set(reply) == {"error"}, (path, body, status, reply)
            assert isinstance(reply["error"]["code"], str) and isinstance(reply["error"]["message"], str)
        else:
            assert isinstance(reply, dict), (path, body, status, reply)

    each()


@pytest.mark.gen_test
async def test_deeply_nested_frame_gets_a_clean_error(api: Api) -> None:
    """A frame nested past the JSON parser's recursion limit gets a clean error, not internal_error."""
    _, match = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{match['id']}/start")
    sock, _ = await connect(api, f"/ws/match/{match['id']}", api.token("alice"))
    await sock.conn.write_message(DEEP)
    error = await sock.recv()
    assert error["type"] == "error" and error["code"] in ("invalid_json", "invalid_schema"), error
    await sock.quiet()


@pytest.mark.gen_test
async def test_deeply_nested_body_gets_400(api: Api) -> None:
    """A body nested deeper than the JSON parser recurses gets a 400, not a 500, on every write route."""
    tid, match = await api.match_between("alice", "bob")
    for path in ["/api/tournaments", f"/api/tournaments/{tid}/participants", f"/api/matches/{match['id']}/score",
                 "/api/tokens"]:
        status, body = await api.post(path, raw=DEEP.encode())
        assert status == 400 and body["error"]["code"] in ("invalid_json", "invalid_schema"), (path, status, body)
