"""Unit tests of the Hub: fan-out to rooms, catch-up on join, recovery, presence and shutdown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from realtime import hub as hub_module
from realtime import protocol
from realtime.frames import Frame
from realtime.hub import Hub, Member, match_room, tournament_room
from realtime.protocol import CloseCode
from tests.realtime.fakes import FakeClock, FakeConnection, FakeScheduler
from tournament.models import Event

M1, M2 = match_room("m1"), match_room("m2")
T1, T2 = tournament_room("t1"), tournament_room("t2")


def match_event(seq: int, match_id: str = "m1", tournament_id: str | None = "t1",
                kind: str = "score_updated") -> Event:
    data: dict[str, Any] = {"match_id": match_id, "scores": {"a": seq}}
    if tournament_id is not None:
        data["tournament_id"] = tournament_id
    return Event(stream=f"match:{match_id}", seq=seq, type=kind, data=data, ts=100.0 + seq)


def frame_json(event: Event, **extra: Any) -> dict[str, Any]:
    """The JSON a member of the match room receives for `event` (with `extra`, the tournament's)."""
    return {"type": event.type, "seq": event.seq, "ts": int(event.ts * 1000), **extra, "data": event.data}


def live(hub: Hub, key: str, conn: FakeConnection) -> Member:
    """A member that joined and resumed from a fresh snapshot of the room."""
    member = hub.join(key, conn)
    hub.resume(member, None, None, hub.room(key).seq)
    return member


class FakeLog:
    """A `persisted` source: the stored events after `since`, recording each call."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.calls: list[int] = []

    async def __call__(self, since: int, limit: int) -> list[Event]:
        self.calls.append(since)
        return [e for e in self.events if e.seq > since][:limit]


@pytest.fixture
def scheduler() -> FakeScheduler:
    return FakeScheduler()


@pytest.fixture
def hub(scheduler: FakeScheduler) -> Hub:
    return Hub(scheduler, presence_interval_s=1.0)


@pytest.fixture
def short_hub(scheduler: FakeScheduler) -> Hub:
    """A hub whose rooms keep only 4 frames of history."""
    return Hub(scheduler, presence_interval_s=1.0, history_frames=4)


# -- fan-out -------------------------------------------------------------------------------------

def test_match_event_reaches_match_room_with_its_seq(hub: Hub) -> None:
    """Members of the match room get each event numbered with the event's own seq."""
    a, b = FakeConnection("a"), FakeConnection("b")
    live(hub, M1, a)
    live(hub, M1, b)
    events = [match_event(seq) for seq in (5, 6, 7)]
    for event in events:
        hub.publish(event)
    assert a.json() == [frame_json(e) for e in events]
    assert b.json() == a.json()
    assert a.seqs == [5, 6, 7]
    assert hub.room(M1).seq == 7


def test_match_event_reaches_tournament_room_with_tournament_seq(hub: Hub) -> None:
    """The tournament room numbers match events 1, 2, 3 and says which match seq each was."""
    viewer = FakeConnection()
    live(hub, T1, viewer)
    events = [match_event(5), match_event(6), match_event(1, match_id="m2")]
    for event in events:
        hub.publish(event)
    assert viewer.json() == [
        {"type": "score_updated", "seq": 1, "ts": 105000, "match_seq": 5, "data": events[0].data},
        {"type": "score_updated", "seq": 2, "ts": 106000, "match_seq": 6, "data": events[1].data},
        {"type": "score_updated", "seq": 3, "ts": 101000, "match_seq": 1, "data": events[2].data},
    ]
    assert viewer.seqs == [1, 2, 3]
    assert viewer.texts[0] == ('{"type":"score_updated","seq":1,"ts":105000,"match_seq":5,'
                               '"data":{"match_id":"m1","scores":{"a":5},"tournament_id":"t1"}}')


def test_frame_is_serialized_once_for_all_members(hub: Hub) -> None:
    """Every member of a room is handed the same Frame object."""
    conns = [FakeConnection(str(i)) for i in range(3)]
    for conn in conns:
        live(hub, M1, conn)
    hub.publish(match_event(1))
    assert len({id(conn.frames[0]) for conn in conns}) == 1
    assert (hub.stats.broadcasts, hub.stats.frames_out) == (2, 3)


def test_match_isolation(hub: Hub) -> None:
    """Members of another match's room, or another tournament's, get nothing."""
    other_match, other_tournament, mine = FakeConnection(), FakeConnection(), FakeConnection()
    live(hub, M2, other_match)
    live(hub, T2, other_tournament)
    live(hub, M1, mine)
    hub.publish(match_event(1))
    hub.publish(match_event(2))
    assert other_match.frames == []
    assert other_tournament.frames == []
    assert mine.seqs == [1, 2]


def test_match_event_without_tournament_skips_tournament_room(hub: Hub) -> None:
    """An event whose data names no tournament goes to the match room only."""
    viewer, player = FakeConnection(), FakeConnection()
    live(hub, T1, viewer)
    live(hub, M1, player)
    hub.publish(match_event(1, tournament_id=None))
    assert viewer.frames == []
    assert player.seqs == [1]


def test_tournament_stream_event_is_numbered_by_the_room(hub: Hub) -> None:
    """An event of a tournament stream goes to its room with the room's next seq."""
    viewer = FakeConnection()
    live(hub, T1, viewer)
    hub.publish(match_event(9))
    hub.publish(Event(stream="tournament:t1", seq=1, type="bracket_updated", data={"round": 2}, ts=200.0))
    assert viewer.json()[1] == {"type": "bracket_updated", "seq": 2, "ts": 200000, "data": {"round": 2}}


def test_publish_never_raises(hub: Hub) -> None:
    """Malformed events are logged and dropped; the hub keeps working afterwards."""
    player, viewer = FakeConnection(), FakeConnection()
    live(hub, M1, player)
    live(hub, T1, viewer)
    hub.publish(Event(stream="no-colon", seq=1, type="x", data={}, ts=1.0))
    hub.publish(Event(stream="player:p1", seq=1, type="x", data={}, ts=1.0))
    hub.publish(Event(stream="match:m1", seq=1, type="x", data={"tournament_id": "t1", "bad": object()}, ts=1.0))
    hub.publish(Event(stream="match:m1", seq=1, type="x", data={"tournament_id": "t1"}, ts=float("nan")))
    hub.publish(Event(stream="tournament:t1", seq=1, type="x", data={"bad": {1, 2}}, ts=1.0))
    assert player.frames == [] and viewer.frames == []
    good = match_event(2)
    hub.publish(good)
    assert player.json() == [frame_json(good)]
    assert [f["type"] for f in viewer.json()] == ["score_updated"]


# -- joining and catching up ---------------------------------------------------------------------

def test_joined_member_is_held_until_resume(hub: Hub) -> None:
    """A member that joined gets nothing until resume(); held frames it already has stay unsent."""
    for seq in (1, 2):
        hub.publish(match_event(seq))
    conn = FakeConnection()
    member = hub.join(M1, conn)
    for seq in (3, 4):
        hub.publish(match_event(seq))
    assert conn.frames == []
    assert member.held is not None and [f.seq for f in member.held] == [3, 4]
    hub.resume(member, [], 4, 4)
    assert conn.frames == []  # everything held was already reflected by since=4
    hub.publish(match_event(5))
    assert conn.seqs == [5]


def test_resume_with_replay_sends_missed_then_held_without_duplicates(hub: Hub, io_loop: Any) -> None:
    """Replayed frames come first; held frames already replayed (seq <= last_seq) are skipped."""
    for seq in (1, 2):
        hub.publish(match_event(seq))
    conn = FakeConnection()
    member = hub.join(M1, conn)
    for seq in (3, 4):
        hub.publish(match_event(seq))
    replay = io_loop.run_sync(lambda: hub.missed(M1, 2, 1, None))
    assert replay is not None and [f.seq for f in replay] == [2, 3, 4]
    hub.resume(member, replay, 1, 2)
    assert conn.seqs == [2, 3, 4]
    assert member.last_seq == 4 and member.held is None
    assert hub.stats.replayed == 3
    hub.publish(match_event(5))
    assert conn.seqs == [2, 3, 4, 5]


def test_resume_from_snapshot_skips_held_frames_it_reflects(hub: Hub) -> None:
    """Without a replay, held frames up to the snapshot's seq are dropped and later ones sent."""
    for seq in (1, 2):
        hub.publish(match_event(seq))
    conn = FakeConnection()
    member = hub.join(M1, conn)
    for seq in (3, 4):
        hub.publish(match_event(seq))
    hub.resume(member, None, None, 3)
    assert conn.seqs == [4]
    assert member.last_seq == 4


def test_held_member_gets_no_live_frames_before_resume(hub: Hub) -> None:
    """Frames of a held member wait for resume even while others in the room get them live."""
    waiting, watching = FakeConnection(), FakeConnection()
    live(hub, M1, watching)
    member = hub.join(M1, waiting)
    hub.publish(match_event(1))
    assert (waiting.seqs, watching.seqs) == ([], [1])
    hub.resume(member, None, None, 0)
    assert waiting.seqs == [1]


def test_live_member_ignores_stale_seq(hub: Hub) -> None:
    """A match frame numbered at or below what the member already has is not sent again."""
    conn = FakeConnection()
    live(hub, M1, conn)
    hub.publish(match_event(1))
    hub.publish(match_event(2))
    hub.publish(match_event(2))
    hub.publish(match_event(1))
    assert conn.seqs == [1, 2]


# -- missed --------------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_missed_without_since_is_none(hub: Hub) -> None:
    """A client that gives no `since` starts from the snapshot, and that is no refusal."""
    hub.publish(match_event(1))
    assert await hub.missed(M1, 1, None, FakeLog([])) is None
    assert hub.stats.recoveries_refused == 0


@pytest.mark.gen_test
async def test_missed_since_latest_is_empty(hub: Hub) -> None:
    """A client already at the latest seq missed nothing."""
    for seq in (1, 2, 3):
        hub.publish(match_event(seq))
    source = FakeLog([])
    assert await hub.missed(M1, 3, 3, source) == []
    assert source.calls == []


@pytest.mark.gen_test
async def test_missed_since_in_memory(hub: Hub) -> None:
    """A client behind within the kept history gets exactly the frames after `since`, in order."""
    events = [match_event(seq) for seq in range(1, 6)]
    for event in events:
        hub.publish(event)
    source = FakeLog(events)
    replay = await hub.missed(M1, 5, 2, source)
    assert replay is not None
    assert [f.seq for f in replay] == [3, 4, 5]
    assert [f.text for f in replay] == [protocol.frame(e.type, e.data, seq=e.seq, ts=int(e.ts * 1000))
                                        for e in events[2:]]
    assert source.calls == []


@pytest.mark.gen_test
async def test_missed_from_zero_in_memory(hub: Hub) -> None:
    """`since=0` replays the whole kept history when it starts at seq 1."""
    for seq in (1, 2):
        hub.publish(match_event(seq))
    replay = await hub.missed(M1, 2, 0, None)
    assert replay is not None and [f.seq for f in replay] == [1, 2]


@pytest.mark.gen_test
async def test_missed_tournament_room_in_memory(hub: Hub) -> None:
    """A tournament room is replayed from memory with its own numbering."""
    for seq in (1, 2, 3):
        hub.publish(match_event(seq + 10))
    replay = await hub.missed(T1, hub.room(T1).seq, 1, None)
    assert replay is not None and [f.seq for f in replay] == [2, 3]


def test_rooms_keep_the_history_the_hub_was_built_with() -> None:
    """Each room keeps `history_frames` frames, HISTORY_FRAMES by default."""
    scheduler = FakeScheduler()
    assert Hub(scheduler, history_frames=4).room("x").history.maxlen == 4
    assert Hub(scheduler).room("x").history.maxlen == hub_module.HISTORY_FRAMES


@pytest.mark.gen_test
async def test_missed_older_than_history_reads_persisted(short_hub: Hub) -> None:
    """Further behind than memory keeps, the missed events come from `persisted` as frames."""
    hub = short_hub
    events = [match_event(seq) for seq in range(1, 11)]
    for event in events:
        hub.publish(event)
    assert [f.seq for f in hub.room(M1).history] == [7, 8, 9, 10]
    source = FakeLog(events)
    replay = await hub.missed(M1, 10, 2, source)
    assert source.calls == [2]
    assert replay is not None
    assert [f.seq for f in replay] == list(range(3, 11))
    assert [f.text for f in replay] == [protocol.frame(e.type, e.data, seq=e.seq, ts=int(e.ts * 1000))
                                        for e in events[2:]]
    assert hub.stats.recoveries_refused == 0


@pytest.mark.gen_test
async def test_missed_with_default_history(hub: Hub) -> None:
    """With the real HISTORY_FRAMES, 600 events leave the first ones to `persisted`."""
    events = [match_event(seq) for seq in range(1, 601)]
    for event in events:
        hub.publish(event)
    assert len(hub.room(M1).history) == hub_module.HISTORY_FRAMES == 512
    in_memory = await hub.missed(M1, 600, 88, None)
    assert in_memory is not None and [f.seq for f in in_memory] == list(range(89, 601))
    source = FakeLog(events)
    replay = await hub.missed(M1, 600, 87, source)
    assert source.calls == [87]
    assert replay is not None and [f.seq for f in replay] == list(range(88, 601))


@pytest.mark.gen_test
async def test_missed_persisted_gap_is_none(short_hub: Hub) -> None:
    """A stored log that does not start right after `since` is refused: never a partial catch-up."""
    hub = short_hub
    events = [match_event(seq) for seq in range(1, 11)]
    for event in events:
        hub.publish(event)
    source = FakeLog([e for e in events if e.seq != 3])
    assert await hub.missed(M1, 10, 2, source) is None
    assert source.calls == [2]
    assert hub.stats.recoveries_refused == 1


@pytest.mark.gen_test
async def test_missed_persisted_empty_is_none(short_hub: Hub) -> None:
    """A stored log with nothing after `since` while the room is further on is refused too."""
    hub = short_hub
    for seq in range(1, 11):
        hub.publish(match_event(seq))
    assert await hub.missed(M1, 10, 2, FakeLog([])) is None
    assert hub.stats.recoveries_refused == 1


@pytest.mark.gen_test
async def test_missed_without_persisted_source_is_none(short_hub: Hub) -> None:
    """Further behind than memory keeps and no stored log: None, counted as refused."""
    hub = short_hub
    for seq in range(1, 11):
        hub.publish(match_event(seq))
    assert await hub.missed(M1, 10, 2, None) is None
    assert hub.stats.recoveries_refused == 1


@pytest.mark.gen_test
async def test_missed_after_restart_reads_persisted(hub: Hub) -> None:
    """An empty room whose snapshot is ahead (the process restarted) recovers from the stored log."""
    events = [match_event(seq) for seq in range(1, 6)]
    source = FakeLog(events)
    replay = await hub.missed(M1, 5, 3, source)
    assert replay is not None and [f.seq for f in replay] == [4, 5]


@pytest.mark.gen_test
async def test_missed_too_far_behind_is_none() -> None:
    """`replay_limit` stored events or more is refused: a snapshot is better."""
    hub = Hub(FakeScheduler(), replay_limit=3)
    events = [match_event(seq) for seq in range(1, 6)]
    assert await hub.missed(M1, 5, 2, FakeLog(events)) is None
    replay = await hub.missed(M1, 5, 3, FakeLog(events))
    assert replay is not None and [f.seq for f in replay] == [4, 5]
    assert hub.stats.recoveries_refused == 1


@pytest.mark.gen_test
async def test_missed_since_ahead_of_latest_is_none(hub: Hub) -> None:
    """A `since` beyond anything published is refused and counted."""
    for seq in (1, 2, 3):
        hub.publish(match_event(seq))
    source = FakeLog([])
    assert await hub.missed(M1, 3, 4, source) is None
    assert source.calls == []
    assert hub.stats.recoveries_refused == 1


@pytest.mark.gen_test
async def test_history_survives_members_leaving(hub: Hub) -> None:
    """A room keeps its history and seq after its last member leaves."""
    conn = FakeConnection()
    member = live(hub, M1, conn)
    for seq in (1, 2, 3):
        hub.publish(match_event(seq))
    hub.leave(M1, member)
    assert hub.watchers(M1) == 0
    replay = await hub.missed(M1, 3, 1, None)
    assert replay is not None and [f.seq for f in replay] == [2, 3]
    assert hub.room(M1).seq == 3


def test_left_member_gets_nothing_more(hub: Hub) -> None:
    """After leave(), publishing to the room no longer reaches the connection."""
    conn = FakeConnection()
    member = live(hub, M1, conn)
    hub.publish(match_event(1))
    hub.leave(M1, member)
    hub.leave(M1, member)  # twice is harmless
    hub.publish(match_event(2))
    assert conn.seqs == [1]


# -- rooms kept ----------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_idle_rooms_are_forgotten_first() -> None:
    """Past `history_rooms`, the least recently used empty room goes; occupied ones stay."""
    hub = Hub(FakeScheduler(), history_rooms=2)
    live(hub, match_room("a"), FakeConnection())
    hub.publish(match_event(1, match_id="b", tournament_id=None))
    hub.publish(match_event(1, match_id="c", tournament_id=None))
    assert hub.watchers(match_room("a")) == 1
    kept = await hub.missed(match_room("c"), 1, 0, None)
    assert kept is not None and [f.seq for f in kept] == [1]
    assert await hub.missed(match_room("b"), 1, 0, None) is None  # forgotten: made anew, empty


def test_new_room_is_kept_when_every_other_room_is_occupied() -> None:
    """Joining a new room works even when all kept rooms have members."""
    hub = Hub(FakeScheduler(), history_rooms=2)
    live(hub, match_room("a"), FakeConnection())
    live(hub, match_room("b"), FakeConnection())
    conn = FakeConnection()
    live(hub, match_room("c"), conn)
    assert hub.watchers(match_room("c")) == 1
    hub.publish(match_event(1, match_id="c", tournament_id=None))
    assert conn.seqs == [1]


# -- presence ------------------------------------------------------------------------------------

def presence(key: str, watchers: int, participants: tuple[str, ...] = ()) -> dict[str, Any]:
    """The presence frame of a room nobody identified in: in a match room every watcher is a spectator."""
    data: dict[str, Any] = {"room": key, "watchers": watchers}
    if key.startswith("match:"):
        data.update(participants=list(participants), spectators=watchers - len(participants))
    elif key.startswith("tournament:"):
        data["online"] = {}
    return {"type": "presence", "data": data}


def test_presence_is_sent_once_per_interval(hub: Hub, scheduler: FakeScheduler) -> None:
    """Joins within one interval schedule one presence frame with the count at its time."""
    a, b, c = FakeConnection("a"), FakeConnection("b"), FakeConnection("c")
    live(hub, M1, a)
    live(hub, M1, b)
    member_c = live(hub, M1, c)
    hub.leave(M1, member_c)
    assert len(scheduler.pending) == 1
    assert scheduler.delays == [1.0]
    scheduler.advance(0.999)
    assert a.frames == []
    scheduler.advance(0.001)
    assert a.json() == [presence(M1, 2)]
    assert b.json() == [presence(M1, 2)]
    assert c.frames == []
    assert a.frames[0].seq is None
    assert scheduler.pending == []
    scheduler.advance(10.0)
    assert len(a.frames) == 1


def test_presence_after_leave(hub: Hub, scheduler: FakeScheduler) -> None:
    """A leave after the last presence frame schedules the next one."""
    a, b = FakeConnection("a"), FakeConnection("b")
    live(hub, M1, a)
    member_b = live(hub, M1, b)
    scheduler.advance(1.0)
    hub.leave(M1, member_b)
    assert len(scheduler.pending) == 1
    scheduler.advance(1.0)
    assert a.json() == [presence(M1, 2), presence(M1, 1)]
    assert b.json() == [presence(M1, 2)]


def test_presence_per_room(hub: Hub, scheduler: FakeScheduler) -> None:
    """Each room has its own presence timer and count."""
    a, b, c = FakeConnection("a"), FakeConnection("b"), FakeConnection("c")
    live(hub, M1, a)
    scheduler.advance(0.5)
    live(hub, M2, b)
    live(hub, M2, c)
    assert len(scheduler.pending) == 2
    scheduler.advance(0.5)
    assert (a.json(), b.json()) == ([presence(M1, 1)], [])
    scheduler.advance(0.5)
    assert b.json() == c.json() == [presence(M2, 2)]
    assert a.json() == [presence(M1, 1)]


def test_presence_reaches_held_member_after_resume(hub: Hub, scheduler: FakeScheduler) -> None:
    """A presence frame sent while a member is held is delivered when it resumes."""
    conn = FakeConnection()
    member = hub.join(M1, conn)
    scheduler.advance(1.0)
    assert conn.frames == []
    hub.resume(member, None, None, 0)
    assert conn.json() == [presence(M1, 1)]


# -- shutdown ------------------------------------------------------------------------------------

def test_close_all(hub: Hub, scheduler: FakeScheduler) -> None:
    """close_all closes every connection with the code and cancels the presence timers."""
    conns = [FakeConnection(str(i)) for i in range(3)]
    live(hub, M1, conns[0])
    live(hub, M1, conns[1])
    hub.join(T1, conns[2])
    assert len(scheduler.pending) == 2
    assert hub.close_all(CloseCode.GOING_AWAY, "server shutting down") == 3
    assert [c.closes for c in conns] == [[(1001, "server shutting down")]] * 3
    assert all(c.closed for c in conns)
    assert scheduler.pending == []
    assert (hub.watchers(M1), hub.watchers(T1)) == (0, 0)
    scheduler.advance(5.0)
    hub.publish(match_event(1))
    assert [c.frames for c in conns] == [[], [], []]


def test_close_all_with_no_rooms(hub: Hub) -> None:
    """Closing an idle hub closes nothing."""
    assert hub.close_all(CloseCode.GOING_AWAY, "bye") == 0


def test_frames_are_frames(hub: Hub) -> None:
    """What a connection receives is a Frame whose text and seq agree."""
    conn = FakeConnection()
    live(hub, M1, conn)
    hub.publish(match_event(3))
    (frame,) = conn.frames
    assert isinstance(frame, Frame)
    assert frame.seq == 3 and conn.json()[0]["seq"] == 3


def test_empty_rooms_idle_too_long_are_forgotten_when_a_room_is_made() -> None:
    """An empty room unused for room_idle_s goes when the next new room is made; one with a
    member, or used since, stays."""
    clock = FakeClock()
    hub = Hub(FakeScheduler(clock), room_idle_s=60.0, clock=clock)
    live(hub, tournament_room("busy"), FakeConnection())
    hub.publish(match_event(1, match_id="old", tournament_id=None))
    clock.advance(30)
    hub.publish(match_event(1, match_id="recent", tournament_id=None))
    clock.advance(31)
    hub.room(match_room("new"))
    assert [key in hub for key in ("match:old", "match:recent", "tournament:busy", "match:new")] == [
        False, True, True, True]


def test_memory_does_not_grow_with_the_tournaments_seen() -> None:
    """Thousands of tournaments, each announced once, leave at most history_rooms rooms."""
    hub = Hub(FakeScheduler(), history_rooms=100)
    for i in range(5000):
        hub.broadcast_event(tournament_room(f"t{i}"), "participant_added", {"tournament_id": f"t{i}"}, 0)
    assert len(hub) == 100


def test_a_tournament_room_made_again_has_a_new_epoch() -> None:
    """A forgotten tournament room numbers from 1 again, under another epoch, so a client
    with the old epoch is not caught up across the two."""
    clock = FakeClock()
    hub = Hub(FakeScheduler(clock), room_idle_s=1.0, clock=clock)
    first = hub.room(tournament_room("t1"))
    hub.broadcast_event(tournament_room("t1"), "participant_added", {}, 0)
    clock.advance(5)
    hub.room(match_room("other"))
    again = hub.room(tournament_room("t1"))
    assert (again.seq, again.epoch != first.epoch) == (0, True)


# -- a tournament room's live scores, one frame per window ---------------------------------------

@pytest.fixture
def windowed(scheduler: FakeScheduler) -> Hub:
    """A hub whose tournament rooms coalesce live scores for 0.1 s (the server's default)."""
    return Hub(scheduler, presence_interval_s=1.0, scores_window_s=0.1)


def test_a_window_of_scores_is_one_tournament_frame_latest_per_match(windowed: Hub, scheduler: FakeScheduler) -> None:
    """Scores of two matches within a window: the match rooms get every one; the tournament room
    one scores_updated with each match's latest (and its match seq), numbered as one event."""
    viewer, m1 = FakeConnection(), FakeConnection()
    live(windowed, T1, viewer)
    live(windowed, M1, m1)
    latest = match_event(6)
    latest.data["match"] = {"id": "m1", "version": 9, "updated_at": "2026-12-03T08:00:00Z", "scores": {"a": 6}}
    for event in (match_event(5), match_event(1, match_id="m2"), latest):
        windowed.publish(event)
    assert m1.seqs == [5, 6] and viewer.frames == []
    assert m1.json()[-1]["data"]["match"]["version"] == 9  # the match room keeps the snapshot
    scheduler.advance(0.1)
    (frame,) = viewer.json()
    assert (frame["type"], frame["seq"], frame["ts"]) == ("scores_updated", 1, 106000)
    # what each score changed, not its snapshot (the room holds the match already)
    assert frame["data"] == {"tournament_id": "t1", "updates": [
        {"match_id": "m2", "scores": {"a": 1}, "match_seq": 1},
        {"match_id": "m1", "scores": {"a": 6}, "version": 9, "updated_at": "2026-12-03T08:00:00Z", "match_seq": 6}]}
    windowed.publish(match_event(7))
    scheduler.advance(0.1)
    assert [f["seq"] for f in viewer.json()] == [1, 2]
    assert [u["match_seq"] for u in viewer.json()[1]["data"]["updates"]] == [7]


def test_any_other_event_sends_the_waiting_scores_first(windowed: Hub, scheduler: FakeScheduler) -> None:
    """A match's final score is always before its completion, and the room's seq stays gap-free."""
    viewer = FakeConnection()
    live(windowed, T1, viewer)
    windowed.publish(match_event(5))
    windowed.publish(match_event(6, kind="match_completed"))
    assert [(f["type"], f["seq"]) for f in viewer.json()] == [("scores_updated", 1), ("match_completed", 2)]
    assert windowed.room(T1).scores_timer is None and 0.1 not in [t.deadline for t in scheduler.pending]
    windowed.publish(Event(stream="tournament:t1", seq=0, type="participant_added", data={}, ts=200.0))
    assert [f["seq"] for f in viewer.json()] == [1, 2, 3]


@pytest.mark.gen_test
async def test_a_coalesced_frame_is_recovered_like_any_other(windowed: Hub, scheduler: FakeScheduler) -> None:
    """A member that reconnects with since gets the scores_updated it missed from the room's history."""
    windowed.publish(match_event(5))
    scheduler.advance(0.1)
    windowed.publish(match_event(6, kind="match_completed"))
    replay = await windowed.missed(T1, windowed.room(T1).seq, 0, None)
    assert replay is not None
    assert [(f.seq, protocol_type(f)) for f in replay] == [(1, "scores_updated"), (2, "match_completed")]


def test_a_shutdown_sends_the_waiting_scores_before_closing(windowed: Hub) -> None:
    viewer = FakeConnection()
    live(windowed, T1, viewer)
    windowed.publish(match_event(5))
    windowed.close_all(CloseCode.GOING_AWAY, "server shutting down")
    assert [f["type"] for f in viewer.json()] == ["scores_updated"]
    assert viewer.closes == [(CloseCode.GOING_AWAY, "server shutting down")]


def protocol_type(frame: Frame) -> str:
    return str(json.loads(frame.text)["type"])
