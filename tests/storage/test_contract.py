"""One contract for every store: memory, the embedded MongoDB-wire server over TCP, and a real
MongoDB when LIVEBRACKET_TEST_MONGO_URL is set."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from storage.memory import MemoryStore
from storage.mongo import MongoStore
from tournament.store import ConflictError, NotFoundError, StorageError, StorageUnavailableError, Store
from tests.conftest import real_mongo_url
from tournament.models import (BracketSlot, Delivery, DeliveryStatus, Dispute, DisputeStatus, Event, Game, GameState,
                               Match, MatchState, Participant, Report, SeriesFormat, Tournament, Webhook, match_stream)

BACKENDS = ["memory", "embedded"] + (["mongo"] if real_mongo_url() else [])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, io_loop: Any) -> Iterator[Store]:
    """A fresh, empty store of each kind (a database of its own for the MongoDB ones)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("embedded_url") if request.param == "embedded" else real_mongo_url()
    assert url
    mongo = MongoStore(url, f"contract_{uuid.uuid4().hex[:10]}")
    io_loop.run_sync(mongo.setup)
    yield mongo
    io_loop.run_sync(mongo.drop)
    io_loop.run_sync(mongo.close)


def tournament(tid: str = "t1", at: float = 100.0) -> Tournament:
    return Tournament(id=tid, name="Cup", game="CS2", format="single_elimination", state="draft",
                      created_by="org", created_at=at)


def match(mid: str = "m1", tid: str = "t1", at: float = 100.0) -> Match:
    return Match(id=mid, tournament_id=tid, participant_ids=("a", "b"), state=MatchState.SCHEDULED,
                 created_at=at, updated_at=at)


def event(mid: str, seq: int, **data: Any) -> Event:
    return Event(stream=match_stream(mid), seq=seq, type="score_updated",
                 data={"n": seq, "nested": [{"k": [1, 2]}], **data}, ts=100.0 + seq)


def moved(m: Match, **changes: Any) -> Match:
    return dataclasses.replace(m, version=m.version + 1, **changes)


@pytest.mark.gen_test
async def test_tournament_round_trip(backend: Store) -> None:
    """A tournament reads back equal to what was written."""
    await backend.insert_tournament(tournament())
    assert await backend.get_tournament("t1") == tournament()


@pytest.mark.gen_test
async def test_save_tournament_guards_the_version(backend: Store) -> None:
    """A tournament with settings and placements is saved over its previous version only."""
    await backend.insert_tournament(tournament())
    live = dataclasses.replace(tournament(), version=2, state="live", settings={"seeding": "random", "rng_seed": 7},
                               seed_order=("b", "a"), placements=({"place": 1, "participant_id": "b"},),
                               started_at=101.0)
    await backend.save_tournament(live)
    with pytest.raises(ConflictError):
        await backend.save_tournament(dataclasses.replace(tournament(), version=2, state="cancelled"))
    assert await backend.get_tournament("t1") == live
    with pytest.raises(NotFoundError):
        await backend.save_tournament(dataclasses.replace(tournament("t9"), version=2))


@pytest.mark.gen_test
async def test_bracket_slots_round_trip_and_matches_delete_per_tournament(backend: Store) -> None:
    """A match's bracket slot reads back equal; delete_matches removes one tournament's bracket
    matches and their logs, never its ad-hoc matches or another tournament's."""
    slot = BracketSlot(key="W1-1", bracket="winners", position=1, feeds=("seed 1", "bye"),
                       winner_to=("W2-1", 0), loser_to=None, byes=(False, True), walkover=True)
    await backend.insert_match(dataclasses.replace(match(), slot=slot))
    await backend.insert_match(match("m2"))
    await backend.insert_match(match("m3", tid="t2"))
    assert (await backend.get_match("m1")).slot == slot
    bracketed = dataclasses.replace(match(), slot=slot)
    await backend.save_match(moved(bracketed, seq=1), [event("m1", 1)], None)
    await backend.save_match(moved(match("m2"), seq=1), [event("m2", 1)], None)
    assert await backend.delete_matches("t1") == 1
    assert [m.id for m in await backend.list_matches("t1")] == ["m2"]
    assert [m.id for m in await backend.list_matches("t2")] == ["m3"]
    assert await backend.list_events(match_stream("m1")) == []
    assert len(await backend.list_events(match_stream("m2"))) == 1


@pytest.mark.gen_test
async def test_missing_records_raise_not_found(backend: Store) -> None:
    """Reading an unknown id raises NotFoundError, never returns None."""
    with pytest.raises(NotFoundError):
        await backend.get_tournament("nope")
    with pytest.raises(NotFoundError):
        await backend.get_match("nope")
    with pytest.raises(NotFoundError):
        await backend.get_dispute("nope")


@pytest.mark.gen_test
async def test_duplicate_ids_conflict(backend: Store) -> None:
    """Inserting an existing id raises ConflictError and keeps the first record."""
    await backend.insert_tournament(tournament())
    with pytest.raises(ConflictError):
        await backend.insert_tournament(dataclasses.replace(tournament(), name="Other"))
    assert (await backend.get_tournament("t1")).name == "Cup"


@pytest.mark.gen_test
async def test_tournaments_list_newest_first(backend: Store) -> None:
    """Tournaments are listed newest first."""
    for i, at in enumerate([100.0, 300.0, 200.0]):
        await backend.insert_tournament(tournament(f"t{i}", at))
    assert [t.id for t in await backend.list_tournaments()] == ["t1", "t2", "t0"]


@pytest.mark.gen_test
async def test_tournaments_list_in_pages(backend: Store) -> None:
    """Pages of `limit` follow each other with `before` (created_at, id), ties broken by id."""
    for tid, at in [("a", 100.0), ("b", 200.0), ("c", 200.0), ("d", 300.0), ("e", 50.0)]:
        await backend.insert_tournament(tournament(tid, at))
    first = await backend.list_tournaments(limit=2)
    assert [t.id for t in first] == ["d", "b"]
    second = await backend.list_tournaments(limit=2, before=(first[-1].created_at, first[-1].id))
    assert [t.id for t in second] == ["c", "a"]
    third = await backend.list_tournaments(limit=2, before=(second[-1].created_at, second[-1].id))
    assert [t.id for t in third] == ["e"]


@pytest.mark.gen_test
async def test_participants_per_tournament_in_registration_order(backend: Store) -> None:
    """Participants list in registration order, per tournament; one id per tournament."""
    for i, name in enumerate(["c", "a", "b"]):
        await backend.insert_participant(Participant(name, "t1", name.upper(), i + 1, 100.0 + i))
    await backend.insert_participant(Participant("a", "t2", "A", None, 50.0))
    with pytest.raises(ConflictError):
        await backend.insert_participant(Participant("a", "t1", "Again", None, 200.0))
    assert [p.id for p in await backend.list_participants("t1")] == ["c", "a", "b"]
    assert await backend.list_participants("t2") == [Participant("a", "t2", "A", None, 50.0)]


def person(pid: str, tid: str = "t1", at: float = 100.0, seed: int | None = None) -> Participant:
    return Participant(pid, tid, pid.upper(), seed, at)


@pytest.mark.gen_test
async def test_entries_list_every_status_participants_only_the_registered(backend: Store) -> None:
    """list_entries has everyone in registration order, with status and check-in time kept;
    list_participants only the registered; one id across statuses."""
    waiting = dataclasses.replace(person("w", at=101.0), status="waitlisted", checked_in_at=150.5)
    await backend.insert_participants([person("a"), waiting, dataclasses.replace(person("d", at=102.0),
                                                                               status="dropped")])
    await backend.insert_participant(dataclasses.replace(person("p", at=103.0), status="pending"))
    assert [(p.id, p.status) for p in await backend.list_entries("t1")] == [
        ("a", "registered"), ("w", "waitlisted"), ("d", "dropped"), ("p", "pending")]
    assert (await backend.list_entries("t1"))[1] == waiting
    assert await backend.list_participants("t1") == [person("a")]
    with pytest.raises(ConflictError):
        await backend.insert_participant(person("w", at=104.0))
    await backend.save_participant(dataclasses.replace(waiting, status="registered"))
    assert [p.id for p in await backend.list_participants("t1")] == ["a", "w"]
    assert await backend.list_entries("t2") == []


@pytest.mark.gen_test
async def test_participants_inserted_together_in_order(backend: Store) -> None:
    """insert_participants keeps its order; the same ids in another tournament are no conflict."""
    await backend.insert_participant(person("z", at=100.0))
    await backend.insert_participants([person("c", at=101.0, seed=1), person("a", at=101.5), person("b", at=102.0)])
    await backend.insert_participants([person("a", tid="t2"), person("z", tid="t2")])
    assert [p.id for p in await backend.list_participants("t1")] == ["z", "c", "a", "b"]
    assert (await backend.list_participants("t1"))[1] == person("c", at=101.0, seed=1)
    assert [p.id for p in await backend.list_participants("t2")] == ["a", "z"]
    await backend.insert_participants([])
    assert len(await backend.list_participants("t1")) == 4


@pytest.mark.gen_test
async def test_participants_inserted_together_or_not_at_all(backend: Store) -> None:
    """An id taken in the tournament, or twice in the batch, is a ConflictError, and none of the
    batch is kept, wherever in it the duplicate is."""
    await backend.insert_participant(person("a"))
    for batch in ([person("n1", at=101.0), person("a", at=102.0), person("n2", at=103.0)],
                  [person("n1", at=101.0), person("n2", at=102.0), person("n1", at=103.0)],
                  [person("a", at=101.0), person("n1", at=102.0)]):
        with pytest.raises(ConflictError):
            await backend.insert_participants(batch)
        assert await backend.list_participants("t1") == [person("a")]


@pytest.mark.gen_test
async def test_save_participant_replaces_by_tournament_and_id(backend: Store) -> None:
    """save_participant rewrites one tournament's participant (its place in the list kept);
    an unknown one is NotFoundError, text no database can store a StorageError."""
    await backend.insert_participants([person("a"), person("b", at=101.0)])
    await backend.insert_participant(person("a", tid="t2"))
    renamed = dataclasses.replace(person("a"), name="Alice", seed=4)
    await backend.save_participant(renamed)
    assert await backend.list_participants("t1") == [renamed, person("b", at=101.0)]
    assert await backend.list_participants("t2") == [person("a", tid="t2")]
    await backend.save_participant(dataclasses.replace(renamed, seed=None))
    assert (await backend.list_participants("t1"))[0].seed is None
    with pytest.raises(NotFoundError):
        await backend.save_participant(person("x"))
    with pytest.raises(NotFoundError):
        await backend.save_participant(person("b", tid="t2"))
    with pytest.raises(StorageError):
        await backend.save_participant(dataclasses.replace(renamed, name="bad \ud800"))
    assert [p.name for p in await backend.list_participants("t1")] == ["Alice", "B"]


@pytest.mark.gen_test
async def test_delete_participant_by_tournament_and_id(backend: Store) -> None:
    """delete_participant removes one tournament's participant; deleting it again, or one that
    only another tournament has, is NotFoundError."""
    await backend.insert_participants([person("a"), person("b", at=101.0)])
    await backend.insert_participant(person("a", tid="t2"))
    await backend.delete_participant("t1", "a")
    assert await backend.list_participants("t1") == [person("b", at=101.0)]
    assert await backend.list_participants("t2") == [person("a", tid="t2")]
    with pytest.raises(NotFoundError):
        await backend.delete_participant("t1", "a")
    with pytest.raises(NotFoundError):
        await backend.delete_participant("t3", "b")
    await backend.insert_participant(person("a", at=200.0))  # the id is free again
    assert [p.id for p in await backend.list_participants("t1")] == ["b", "a"]


@pytest.mark.gen_test
async def test_match_round_trip_with_nested_values(backend: Store) -> None:
    """A match with scores, reports and a result reads back equal (no JSON-string elements)."""
    report = Report(scores={"a": 3, "b": 1}, winner_id="a")
    full = dataclasses.replace(match(), state=MatchState.COMPLETED, scores={"a": 3, "b": 1},
                               checked_in=("a", "b"), reports={"a": report}, result=report,
                               winner_id="a", round=2, label="Final", started_at=101.5,
                               ended_at=130.25)
    await backend.insert_match(full)
    assert await backend.get_match("m1") == full


@pytest.mark.gen_test
async def test_series_round_trip(backend: Store) -> None:
    """A series' format, games (maps, sides, who decided) and a report of the whole series read back equal."""
    games = (Game(number=1, state=GameState.COMPLETED, scores={"a": 13, "b": 9}, map="Mirage",
                  sides={"a": "CT", "b": "T"}, winner_id="a", reported_by="a", confirmed_by="b",
                  started_at=101.0, ended_at=140.0),
             Game(number=2, state=GameState.LIVE, scores={"a": 3, "b": 5}, map="Inferno", started_at=141.0))
    report = Report(scores={"a": 2, "b": 0}, winner_id="a", games=({"a": 13, "b": 9}, {"a": 13, "b": 11}))
    series = dataclasses.replace(match(), state=MatchState.PENDING_RESULT, format=SeriesFormat(3), games=games,
                                 scores={"a": 1, "b": 0}, reports={"a": report,
                                                                   "b": Report({"a": 1, "b": 13}, "b", game=2)})
    await backend.insert_match(series)
    assert await backend.get_match("m1") == series
    drawn = dataclasses.replace(series, state=MatchState.COMPLETED, format=SeriesFormat(2, True), reports={},
                                result=Report({"a": 1, "b": 1}, None, games=({"a": 1, "b": 0}, {"a": 0, "b": 1})))
    await backend.save_match(moved(drawn), [], None)
    assert await backend.get_match("m1") == moved(drawn)


@pytest.mark.gen_test
async def test_matches_listed_per_tournament_in_creation_order(backend: Store) -> None:
    """Matches list by tournament, oldest first."""
    await backend.insert_match(match("m2", at=200.0))
    await backend.insert_match(match("m1", at=100.0))
    await backend.insert_match(match("m3", tid="t2"))
    assert [m.id for m in await backend.list_matches("t1")] == ["m1", "m2"]


@pytest.mark.gen_test
async def test_save_match_guards_the_version(backend: Store) -> None:
    """save_match commits only over the version it was derived from; a stale write conflicts
    and leaves the match as it was."""
    await backend.insert_match(match())
    live = moved(match(), state=MatchState.LIVE, seq=1)
    await backend.save_match(live, [event("m1", 1)], None)
    stale = moved(match(), state=MatchState.CANCELLED, seq=1)
    with pytest.raises(ConflictError):
        await backend.save_match(stale, [], None)
    assert await backend.get_match("m1") == live
    assert [e.seq for e in await backend.list_events(match_stream("m1"))] == [1]


@pytest.mark.gen_test
async def test_events_of_a_write_that_never_committed_are_overwritten(backend: Store) -> None:
    """Events are written before the match: a write cut off between the two leaves events above
    the match's seq, which `until` keeps out of reads and the next write replaces."""
    await backend.insert_match(match())
    one = moved(match(), state=MatchState.LIVE, seq=1)
    await backend.save_match(one, [event("m1", 1)], None)
    with pytest.raises(ConflictError):  # as if the process died before its commit landed
        await backend.save_match(moved(match(), seq=3), [event("m1", 2, cut=True), event("m1", 3, cut=True)], None)
    stream = match_stream("m1")
    assert [e.seq for e in await backend.list_events(stream, until=1)] == [1]
    two = moved(one, seq=2)
    await backend.save_match(two, [event("m1", 2)], None)
    assert await backend.list_events(stream, until=2) == [event("m1", 1), event("m1", 2)]
    assert [e.data.get("cut") for e in await backend.list_events(stream, since=1, until=5)] == [None, True]


@pytest.mark.gen_test
async def test_text_no_database_can_store_is_refused_alike(backend: Store) -> None:
    """A lone surrogate cannot be encoded by a MongoDB driver: every store refuses it with a
    StorageError and keeps nothing (the edge refuses such text before; this is the net)."""
    with pytest.raises(StorageError):
        await backend.insert_tournament(dataclasses.replace(tournament(), name="bad \ud800"))
    with pytest.raises(NotFoundError):
        await backend.get_tournament("t1")
    await backend.insert_match(match())
    with pytest.raises(StorageError):
        await backend.save_match(moved(match(), seq=1), [event("m1", 1, note="\udfff")], None)
    assert await backend.get_match("m1") == match()


@pytest.mark.gen_test
async def test_save_unknown_match_is_not_found(backend: Store) -> None:
    """Saving a match that was never inserted raises NotFoundError."""
    with pytest.raises(NotFoundError):
        await backend.save_match(moved(match()), [], None)


@pytest.mark.gen_test
async def test_events_since_in_order_with_limit(backend: Store) -> None:
    """Events come back after `since`, in seq order, per stream, up to `limit`."""
    await backend.insert_match(match())
    await backend.insert_match(match("m2"))
    current = match()
    for seq in range(1, 6):
        current = moved(current, seq=seq)
        await backend.save_match(current, [event("m1", seq)], None)
    await backend.save_match(moved(match("m2"), seq=1), [event("m2", 1)], None)
    events = await backend.list_events(match_stream("m1"), since=2)
    assert [e.seq for e in events] == [3, 4, 5]
    assert events[0] == event("m1", 3)
    assert [e.seq for e in await backend.list_events(match_stream("m1"), since=0, limit=2)] == [1, 2]
    assert await backend.list_events(match_stream("m1"), since=5) == []


@pytest.mark.gen_test
async def test_disputes_saved_with_the_match(backend: Store) -> None:
    """A match keeps its dispute; a lookup copy is found by id and by match."""
    await backend.insert_match(match())
    opened = Dispute(id="d1", match_id="m1", tournament_id="t1", raised_by="b", reason="lag",
                     status=DisputeStatus.OPEN, created_at=110.0)
    disputed = moved(match(), state=MatchState.DISPUTED, dispute=opened)
    await backend.save_match(disputed, [], opened)
    assert (await backend.get_match("m1")).open_dispute == opened
    closed = dataclasses.replace(opened, status=DisputeStatus.REJECTED, resolution="no lag",
                                 resolved_by="org", resolved_at=120.0)
    await backend.save_match(moved(disputed, state=MatchState.COMPLETED, dispute=closed), [], closed)
    assert (await backend.get_match("m1")).open_dispute is None
    assert (await backend.get_match("m1")).dispute == closed
    assert await backend.get_dispute("d1") == closed
    assert await backend.list_disputes("m1") == [closed]
    assert await backend.list_disputes("m2") == []


@pytest.mark.gen_test
async def test_idempotency_keys_claim_complete_release_purge(backend: Store) -> None:
    """A key is claimed once; later claims see it pending, then done; release and purge forget it."""
    assert await backend.claim_idempotency_key("u|k", "fp", 100.0, 0.0) is None
    pending = await backend.claim_idempotency_key("u|k", "fp2", 101.0, 0.0)
    assert pending is not None and pending.fingerprint == "fp" and not pending.done
    await backend.complete_idempotency_key("u|k", 201, {"id": "x", "list": [1, {"a": 2}]})
    done = await backend.claim_idempotency_key("u|k", "fp", 102.0, 0.0)
    assert done is not None and done.status == 201 and done.body == {"id": "x", "list": [1, {"a": 2}]}
    await backend.release_idempotency_key("u|k")
    assert await backend.claim_idempotency_key("u|k", "fp3", 103.0, 0.0) is None
    assert await backend.claim_idempotency_key("u|old", "fp", 10.0, 0.0) is None
    assert await backend.purge_idempotency_keys(older_than=50.0) == 1
    assert await backend.claim_idempotency_key("u|old", "fp", 104.0, 0.0) is None


@pytest.mark.gen_test
async def test_a_claim_cut_off_is_taken_over(backend: Store) -> None:
    """A pending claim made before `abandoned_before` is taken over by the next claim; a done one never is."""
    assert await backend.claim_idempotency_key("u|k", "fp", 100.0, 0.0) is None
    assert await backend.claim_idempotency_key("u|k", "fp", 120.0, abandoned_before=90.0) is not None
    assert await backend.claim_idempotency_key("u|k", "fp", 140.0, abandoned_before=110.0) is None
    again = await backend.claim_idempotency_key("u|k", "fp", 141.0, abandoned_before=110.0)
    assert again is not None and again.created_at == 140.0
    await backend.complete_idempotency_key("u|k", 200, {})
    done = await backend.claim_idempotency_key("u|k", "fp", 500.0, abandoned_before=400.0)
    assert done is not None and done.status == 200


@pytest.mark.gen_test
async def test_ping_and_setup_are_repeatable(backend: Store) -> None:
    """setup() may run on every start; ping() answers."""
    await backend.setup()
    await backend.setup()
    await backend.ping()


@pytest.mark.gen_test(timeout=20)
async def test_unreachable_mongo_raises_unavailable() -> None:
    """A MongoDB that does not answer is StorageUnavailableError, quickly."""
    from storage.embedded import free_port

    store = MongoStore(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", "x", timeout_s=0.3)
    try:
        with pytest.raises(StorageUnavailableError):
            await store.ping()
        with pytest.raises(StorageUnavailableError):
            await store.get_match("m1")
    finally:
        await store.close()


@pytest.mark.gen_test
async def test_tournaments_listed_archived_or_not(backend: Store) -> None:
    """`archived` lists only the archived (True) or the others (False, also those stored before
    the field existed); None lists all."""
    for tid, at in [("a", 100.0), ("b", 200.0), ("c", 300.0)]:
        await backend.insert_tournament(tournament(tid, at))
    b = await backend.get_tournament("b")
    await backend.save_tournament(dataclasses.replace(b, archived=True, version=b.version + 1))
    assert [t.id for t in await backend.list_tournaments(archived=True)] == ["b"]
    assert [t.id for t in await backend.list_tournaments(archived=False)] == ["c", "a"]
    assert [t.id for t in await backend.list_tournaments(limit=1, before=(300.0, "c"), archived=False)] == ["a"]
    assert [t.id for t in await backend.list_tournaments()] == ["c", "b", "a"]
    assert (await backend.get_tournament("b")).archived


@pytest.mark.gen_test
async def test_delete_tournament_takes_its_records_and_no_other(backend: Store) -> None:
    for tid in ("t1", "t2"):
        await backend.insert_tournament(tournament(tid))
        await backend.insert_participant(person(f"p-{tid}", tid))
        await backend.insert_match(match(f"m-{tid}", tid))
        opened = Dispute(id=f"d-{tid}", match_id=f"m-{tid}", tournament_id=tid, raised_by="b", reason="lag",
                         status=DisputeStatus.OPEN, created_at=110.0)
        await backend.save_match(moved(match(f"m-{tid}", tid), seq=1, dispute=opened),
                                 [event(f"m-{tid}", 1)], opened)
    await backend.delete_tournament("t1")
    with pytest.raises(NotFoundError):
        await backend.get_tournament("t1")
    with pytest.raises(NotFoundError):
        await backend.get_match("m-t1")
    with pytest.raises(NotFoundError):
        await backend.get_dispute("d-t1")
    assert await backend.list_participants("t1") == [] and await backend.list_events(match_stream("m-t1")) == []
    assert [p.id for p in await backend.list_participants("t2")] == ["p-t2"]  # the other is whole
    assert (await backend.get_match("m-t2")).seq == 1 and len(await backend.list_events(match_stream("m-t2"))) == 1
    assert (await backend.get_dispute("d-t2")).id == "d-t2"
    await backend.delete_tournament("t1")  # again: nothing left, no error


def hook(wid: str, tid: str = "t1", at: float = 100.0) -> Webhook:
    return Webhook(id=wid, tournament_id=tid, url="https://hooks.example.com/lb?x=1", secret="s" * 32,
                   created_by="org", created_at=at, events=("match_completed", "score_updated"))


def delivery(wid: str, seq: int, **changes: Any) -> Delivery:
    row = Delivery(webhook_id=wid, seq=seq, stream=match_stream("m1"), stream_seq=seq + 10, type="score_updated",
                   tournament_id="t1", data={"scores": {"a": seq}, "nested": [{"k": [1]}], "text": "Ünïcode ✓"},
                   ts=100.0 + seq)
    return dataclasses.replace(row, **changes)


@pytest.mark.gen_test
async def test_webhooks_round_trip_per_tournament(backend: Store) -> None:
    """Webhooks are kept whole, listed per tournament (or all) oldest first, replaced, deleted once."""
    await backend.insert_webhook(hook("w2", at=200.0))
    await backend.insert_webhook(hook("w1", at=100.0))
    await backend.insert_webhook(hook("w3", "t2"))
    with pytest.raises(ConflictError):
        await backend.insert_webhook(hook("w1"))
    assert await backend.list_webhooks("t1") == [hook("w1", at=100.0), hook("w2", at=200.0)]
    assert {w.id for w in await backend.list_webhooks()} == {"w1", "w2", "w3"}
    paused = dataclasses.replace(hook("w1"), enabled=False, paused="delivery 3 failed 10 times", paused_seq=3,
                                 events=())
    await backend.save_webhook(paused)
    assert (await backend.list_webhooks("t1"))[0] == paused
    with pytest.raises(NotFoundError):
        await backend.save_webhook(hook("nope"))
    await backend.delete_webhook("w1")
    await backend.delete_webhook("w1")  # again: no error
    assert [w.id for w in await backend.list_webhooks("t1")] == ["w2"]


@pytest.mark.gen_test
async def test_an_outbox_is_read_in_seq_order_and_replayed(backend: Store) -> None:
    """Rows upserted by webhook and seq; read after a seq (undelivered only, on request), newest
    first for the log; a replay makes rows pending again; deleting the webhook takes its rows."""
    await backend.insert_webhook(hook("w1"))
    await backend.insert_webhook(hook("w2"))
    await backend.insert_deliveries([delivery("w1", n) for n in range(1, 13)] + [delivery("w2", 1)])
    await backend.insert_deliveries([delivery("w1", 12)])  # written again after an unknown outcome
    done = delivery("w1", 2, status=DeliveryStatus.DELIVERED, attempts=2, last_attempt_at=150.5, last_status=200,
                    delivered_at=150.6)
    await backend.save_delivery(done)
    failed = delivery("w1", 3, status=DeliveryStatus.FAILED, attempts=10, last_status=None,
                      last_error="ConnectionRefusedError: refused")
    await backend.save_delivery(failed)
    assert [r.seq for r in await backend.list_deliveries("w1")] == list(range(1, 13))
    assert [r.seq for r in await backend.list_deliveries("w1", after_seq=1, limit=3, undelivered=True)] == [3, 4, 5]
    assert (await backend.list_deliveries("w1", after_seq=1, limit=1))[0] == done
    assert (await backend.list_deliveries("w1", after_seq=2, limit=1))[0] == failed
    assert [r.seq for r in await backend.recent_deliveries("w1", limit=3)] == [12, 11, 10]
    assert [r.seq for r in await backend.recent_deliveries("w1", before_seq=3)] == [2, 1]
    assert await backend.reset_deliveries("w1", 3) == 10
    again = (await backend.list_deliveries("w1", after_seq=2, limit=1))[0]
    assert (again.status, again.attempts, again.last_error) == (DeliveryStatus.PENDING, 0, failed.last_error)
    assert (await backend.list_deliveries("w1", after_seq=1, limit=1))[0].status == DeliveryStatus.DELIVERED
    await backend.delete_webhook("w1")
    assert await backend.list_deliveries("w1") == [] and len(await backend.list_deliveries("w2")) == 1


@pytest.mark.gen_test
async def test_deleting_a_tournament_takes_its_webhooks_and_their_outboxes(backend: Store) -> None:
    for tid in ("t1", "t2"):
        await backend.insert_tournament(tournament(tid))
        await backend.insert_webhook(hook(f"w-{tid}", tid))
        await backend.insert_deliveries([delivery(f"w-{tid}", 1)])
    await backend.delete_tournament("t1")
    assert await backend.list_webhooks("t1") == [] and await backend.list_deliveries("w-t1") == []
    assert [w.id for w in await backend.list_webhooks("t2")] == ["w-t2"]
    assert len(await backend.list_deliveries("w-t2")) == 1
