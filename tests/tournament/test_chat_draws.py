"""Unit tests of ChatService and DrawService over a MemoryStore, on a fake clock."""

from __future__ import annotations

import hashlib
import random

import pytest

from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock
from tournament.chat import ChatService
from tournament.draws import DrawService
from tournament.errors import ForbiddenError, InvalidTransitionError, InvalidValueError
from tournament.events import RecordingPublisher
from tournament.models import Match, MatchState, Participant, Tournament, TournamentState
from tournament.roles import Principal, Role
from tournament.writer import MatchWriter

ORG = Principal("org", "Org", Role.ORGANIZER)
ALICE = Principal("alice", "Alice", Role.PLAYER)
SAM = Principal("sam", "Sam", Role.SPECTATOR)
T0 = 1000.0


@pytest.fixture
def world(io_loop: object) -> tuple[MemoryStore, RecordingPublisher, FakeClock]:
    return MemoryStore(), RecordingPublisher(), FakeClock(T0)


async def seeded(store: MemoryStore, *, spectator_chat: bool = False, players: int = 2) -> None:
    await store.insert_tournament(Tournament(id="t1", name="Cup", game="", format="single_elimination",
                                             state=TournamentState.REGISTRATION, created_by="org", created_at=T0,
                                             spectator_chat=spectator_chat))
    for i in range(1, players + 1):
        await store.insert_participant(Participant(f"p{i}", "t1", f"P{i}", None, T0 + i))
    await store.insert_match(Match(id="m1", tournament_id="t1", participant_ids=("alice", "bob"),
                                   state=MatchState.LIVE, created_at=T0, updated_at=T0))


@pytest.mark.gen_test
async def test_chat_keeps_the_last_messages_and_the_version(world: tuple[MemoryStore, RecordingPublisher, FakeClock]) -> None:
    """Messages are numbered events; the match keeps its last `kept`, and its version."""
    store, events, clock = world
    await seeded(store)
    chat = ChatService(store, MatchWriter(store, events, clock), clock, kept=3)
    for i in range(5):
        await chat.post("m1", ALICE, f"message {i}")
    match = await store.get_match("m1")
    assert [m.text for m in match.chat.messages] == ["message 2", "message 3", "message 4"]
    assert (match.version, match.seq, [e.seq for e in events.events]) == (1, 5, [1, 2, 3, 4, 5])


@pytest.mark.gen_test
async def test_chat_refusals(world: tuple[MemoryStore, RecordingPublisher, FakeClock]) -> None:
    """Empty, too long, a spectator without spectator_chat, a muted player: each its code, nothing written."""
    store, events, clock = world
    await seeded(store)
    chat = ChatService(store, MatchWriter(store, events, clock), clock)
    for text, code in [(" \n ", "chat_empty"), ("x" * 401, "chat_too_long")]:
        with pytest.raises(InvalidValueError) as refused:
            await chat.post("m1", ALICE, text)
        assert refused.value.code == code
    with pytest.raises(ForbiddenError) as forbidden:
        await chat.post("m1", SAM, "hi")
    assert forbidden.value.code == "chat_forbidden"
    await chat.mute("m1", ORG, "alice", "player")
    with pytest.raises(ForbiddenError) as muted:
        await chat.post("m1", ALICE, "hi")
    assert muted.value.code == "chat_muted"
    assert [e.type for e in events.events] == ["chat_user_muted"]
    await chat.mute("m1", ORG, "alice", "player")  # already muted: nothing more
    assert len(events.events) == 1


@pytest.mark.gen_test
async def test_a_draw_is_the_recorded_shuffle(world: tuple[MemoryStore, RecordingPublisher, FakeClock]) -> None:
    """The order is random.Random(seed)'s shuffle of the registration order, fixed at start;
    undo and reveal move only what is shown; the commitment is the seed's SHA-256."""
    store, events, clock = world
    await seeded(store, players=5)
    draws = DrawService(store, events, clock)
    started = await draws.start("t1", ORG, rng_seed=7)
    expected = [f"p{i}" for i in range(1, 6)]
    random.Random(7).shuffle(expected)
    assert started.draw is not None and list(started.draw.order) == expected
    assert started.to_json()["draw"] == {"revealed": [], "total": 5, "complete": False,
                                         "commitment": hashlib.sha256(b"7").hexdigest(), "rng_seed": None}
    await draws.reveal("t1", ORG)
    await draws.undo("t1", ORG)
    done = await draws.reveal("t1", ORG, all_=True)
    assert done.to_json()["draw"]["revealed"] == expected and done.to_json()["draw"]["rng_seed"] == 7
    with pytest.raises(InvalidTransitionError) as complete:
        await draws.reveal("t1", ORG)
    assert complete.value.code == "draw_complete"
    with pytest.raises(ForbiddenError):
        await draws.start("t1", ALICE)
