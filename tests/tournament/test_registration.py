"""Waitlist promotion and the check-in cut-off (tournament/waitlist.py), and the cut-off as the
start applies it (tournament/registration.py), on a memory store and a fake clock."""

from __future__ import annotations

import dataclasses

import pytest

from storage.memory import MemoryStore
from tournament import waitlist
from tournament.errors import InvalidValueError
from tournament.events import RecordingPublisher
from tournament.locks import KeyedLocks
from tournament.models import CheckIn, EntryStatus, Participant, Registration, Tournament
from tournament.registration import cut_off_at_start

R, W, P, D = EntryStatus.REGISTERED, EntryStatus.WAITLISTED, EntryStatus.PENDING, EntryStatus.DROPPED


def entry(pid: str, status: str = R, seed: int | None = None, checked: bool = False, at: float = 0.0) -> Participant:
    return Participant(pid, "t1", pid.upper(), seed, at or 100.0 + ord(pid[0]), status=status,
                       checked_in_at=5.0 if checked else None)


def statuses(entries: list[Participant]) -> dict[str, str]:
    return {p.id: str(p.status) for p in entries}


def test_promotions_fill_the_free_places_in_waitlist_order() -> None:
    """Under a cap of 3 with 2 registered, the first waitlisted moves up, the rest keep their order."""
    entries = [entry("a"), entry("b"), entry("c", W), entry("d", P), entry("e", W)]
    promoted = waitlist.promotions(Registration(cap=3, waitlist=True), entries)
    assert [(p.id, p.status) for p in promoted] == [("c", R)]
    assert waitlist.place_of(entries, "e") == 2 and waitlist.place_of(entries, "a") is None


def test_promotions_without_a_cap_take_everyone_and_keep_free_seeds() -> None:
    """With no cap every waitlisted is promoted; a seed a registered one holds is cleared, another kept."""
    entries = [entry("a", seed=1), entry("b", W, seed=1), entry("c", W, seed=2)]
    promoted = waitlist.promotions(Registration(), entries)
    assert [(p.id, p.status, p.seed) for p in promoted] == [("b", R, None), ("c", R, 2)]
    assert waitlist.promotions(Registration(cap=1), entries) == []


def test_room_and_status_for_a_self_registration() -> None:
    """Room under the cap registers, a full one waitlists (or refuses, with no waitlist); approval makes pending."""
    two = [entry("a"), entry("b"), entry("c", W)]
    assert waitlist.status_for(Registration(cap=3), two) == R
    assert waitlist.status_for(Registration(cap=2, waitlist=True), two) == W
    assert waitlist.status_for(Registration(cap=2, approval=True), two) == P
    with pytest.raises(waitlist.RegistrationFullError) as refused:
        waitlist.status_for(Registration(cap=2), two)
    assert refused.value.code == "registration_full"
    with pytest.raises(waitlist.RegistrationFullError):
        waitlist.check_room(Registration(cap=3), two, 2)
    waitlist.check_room(Registration(cap=3), two, 1)


def test_cut_off_drop_drops_the_absent_and_promotes_the_checked_in_waitlisted() -> None:
    """With drop, the registered who did not check in are dropped; the freed places go to the
    waitlisted who checked in, in order, passing over those who did not."""
    settings = Registration(cap=3, waitlist=True, check_in=CheckIn("closed", "drop"))
    entries = [entry("a", checked=True), entry("b"), entry("c"), entry("d", W), entry("e", W, checked=True),
               entry("f", W, checked=True), entry("g", W, checked=True)]
    changes = waitlist.cut_off(settings, entries)
    assert [(p.id, p.status) for p in changes] == [("b", D), ("c", D), ("e", R), ("f", R)]


def test_cut_off_bottom_moves_the_absent_to_the_last_seeds_in_their_order() -> None:
    """With bottom, the checked in keep their seed order on top, the absent follow in theirs; nobody is dropped."""
    settings = Registration(check_in=CheckIn("closed", "bottom"))
    entries = [entry("a", seed=1), entry("b", seed=2, checked=True), entry("c", seed=3), entry("d", checked=True),
               entry("w", W)]
    changes = waitlist.cut_off(settings, entries)
    assert [(p.id, p.seed, p.status) for p in changes] == [("b", 1, R), ("d", 2, R), ("a", 3, R), ("c", 4, R)]
    assert waitlist.cut_off(dataclasses.replace(settings, check_in=CheckIn("off", "bottom")), entries) == []


async def stored(entries: list[Participant], settings: Registration) -> MemoryStore:
    store = MemoryStore()
    await store.insert_tournament(Tournament("t1", "Cup", "", "single_elimination", "registration", "org", 1.0,
                                             registration=settings))
    await store.insert_participants(entries)
    return store


@pytest.mark.gen_test
async def test_cut_off_at_start_writes_the_drops_and_announces_them() -> None:
    """The start's cut-off stores the drops and promotions and sends participant_updated for each;
    run again it changes nothing more."""
    settings = Registration(cap=2, waitlist=True, check_in=CheckIn("closed", "drop"))
    store = await stored([entry("a", checked=True), entry("b"), entry("c", W, checked=True)], settings)
    events = RecordingPublisher()
    await cut_off_at_start(store, KeyedLocks(), events, lambda: 9.0, "t1", "given")
    assert statuses(await store.list_entries("t1")) == {"a": R, "b": D, "c": R}
    assert [p.id for p in await store.list_participants("t1")] == ["a", "c"]
    assert [(e.type, e.data["participant"]["id"], e.data["participant"]["status"]) for e in events.events] == [
        ("participant_updated", "b", "dropped"), ("participant_updated", "c", "registered")]
    await cut_off_at_start(store, KeyedLocks(), events, lambda: 9.0, "t1", "given")
    assert len(events.events) == 2


@pytest.mark.gen_test
async def test_cut_off_at_start_refuses_before_writing() -> None:
    """Too few checked in, or bottom with a seeding that ignores seeds: a 422, nothing written."""
    entries = [entry("a", checked=True), entry("b"), entry("c")]
    store = await stored(entries, Registration(check_in=CheckIn("open", "drop")))
    with pytest.raises(InvalidValueError, match="only 1 participant checked in"):
        await cut_off_at_start(store, KeyedLocks(), RecordingPublisher(), lambda: 9.0, "t1", "given")
    assert await store.list_entries("t1") == entries
    store = await stored(entries, Registration(check_in=CheckIn("open", "bottom")))
    with pytest.raises(InvalidValueError) as refused:
        await cut_off_at_start(store, KeyedLocks(), RecordingPublisher(), lambda: 9.0, "t1", "random")
    assert refused.value.details["field"] == "seeding"
    assert await store.list_entries("t1") == entries
