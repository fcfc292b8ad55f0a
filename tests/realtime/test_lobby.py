"""Unit tests of the Lobby on a fake clock: summaries from the store once, then from events."""

from __future__ import annotations

import pytest

from realtime.hub import Hub, tournament_room
from realtime.lobby import LOBBY_ROOM, Lobby
from storage.memory import MemoryStore
from tests.realtime.fakes import FakeClock, FakeConnection, FakeScheduler
from tournament import participant_rows
from tournament.events import RecordingPublisher
from tournament.participants import ParticipantService
from tournament.roles import Principal, Role
from tournament.tournaments import TournamentService

ORG = Principal("org", "Org", Role.ORGANIZER)


@pytest.mark.gen_test
async def test_the_lobby_reads_the_store_once_then_follows_events() -> None:
    """The first summaries come from the store (with what was published meanwhile); after that
    each change is announced in the lobby room, and the oldest shown tournament leaves past the
    limit."""
    clock = FakeClock()
    scheduler = FakeScheduler(clock)
    hub = Hub(scheduler, clock=clock)
    lobby = Lobby(hub, scheduler, clock, max_tournaments=2)
    events = RecordingPublisher()
    store = MemoryStore()
    tournaments = TournamentService(store, clock, publisher=events)
    participants = ParticipantService(store, clock, publisher=events)
    first = await tournaments.create(ORG, "First")
    for event in events.events:
        lobby.publish(event)  # before anyone watched: nothing kept (the store has it)
    assert lobby._early == []  # a LAN day with no lobby page open kept 10,000 events here
    assert [s["name"] for s in await lobby.summaries(tournaments)] == ["First"]
    conn = FakeConnection()
    member = hub.join(LOBBY_ROOM, conn)
    hub.resume(member, None, None, hub.room(LOBBY_ROOM).seq)
    events.events.clear()
    clock.advance(1)
    second = await tournaments.create(ORG, "Second")
    await participants.add(second.id, ORG, "Alice", "alice")
    clock.advance(1)
    await tournaments.create(ORG, "Third")
    for event in events.events:
        lobby.publish(event)
    frames = [f for f in conn.json() if f["type"] != "presence"]
    assert [(f["type"], f["data"]["tournament"]["name"]) for f in frames] == [
        ("tournament_listed", "Second"), ("tournament_summary", "Second"), ("tournament_listed", "Third")]
    assert [f["seq"] for f in frames] == [1, 2, 3]
    assert [s["name"] for s in await lobby.summaries(tournaments)] == ["Third", "Second"]
    hub.join(tournament_room(second.id), FakeConnection())
    lobby.count_watchers()
    assert conn.json()[-1]["data"]["tournament"]["watchers"] == 1
    assert first.id not in {s["id"] for s in await lobby.summaries(tournaments)}


@pytest.mark.gen_test
async def test_the_lobby_counts_participants_added_and_removed() -> None:
    """Participants added at once count one by one, a removal counts down, and a rename or a
    re-seed announces nothing (the count did not move)."""
    clock = FakeClock()
    scheduler = FakeScheduler(clock)
    hub = Hub(scheduler, clock=clock)
    lobby = Lobby(hub, scheduler, clock)
    store = MemoryStore()
    tournaments = TournamentService(store, clock, publisher=lobby)
    participants = ParticipantService(store, clock, publisher=lobby)
    cup = await tournaments.create(ORG, "Cup")
    assert (await lobby.summaries(tournaments))[0]["participants"] == 0
    conn = FakeConnection()
    hub.resume(hub.join(LOBBY_ROOM, conn), None, None, hub.room(LOBBY_ROOM).seq)
    alice, bob, carol = await participants.add_many(cup.id, ORG, participant_rows.from_csv("Alice\nBob\nCarol\n"))
    await participants.remove(cup.id, bob.id, ORG)
    await participants.update(cup.id, alice.id, ORG, name="Alicia", seed=1)
    await participants.reseed(cup.id, ORG, [carol.id, alice.id])
    summaries = [f["data"]["tournament"] for f in conn.json() if f["type"] == "tournament_summary"]
    assert [s["participants"] for s in summaries] == [1, 2, 3, 2]
    assert (await lobby.summaries(tournaments))[0]["participants"] == 2
