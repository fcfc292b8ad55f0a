"""Unit tests of the Heartbeat sweep: pings each interval, closes the silent, on a fake clock."""

from __future__ import annotations

import pytest

from realtime.heartbeat import Heartbeat
from realtime.protocol import CloseCode
from tests.realtime.fakes import FakeClock, FakeConnection, FakeScheduler

INTERVAL_S = 10.0
T0 = 1_700_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def scheduler(clock: FakeClock) -> FakeScheduler:
    return FakeScheduler(clock)


@pytest.fixture
def heartbeat(scheduler: FakeScheduler, clock: FakeClock) -> Heartbeat:
    beat = Heartbeat(scheduler, clock, INTERVAL_S)
    beat.start()
    return beat


def ping(at: float) -> dict[str, object]:
    return {"type": "ping", "timestamp": int(at * 1000)}


def test_start_schedules_a_sweep_every_half_interval(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """start() schedules one sweep half an interval on, and each sweep schedules the next."""
    heartbeat.start()  # starting twice keeps one timer
    assert [t.deadline for t in scheduler.pending] == [T0 + 5.0]
    scheduler.advance(20.0)
    assert scheduler.fired == [T0 + 5.0, T0 + 10.0, T0 + 15.0, T0 + 20.0]
    assert scheduler.delays == [5.0] * 5
    assert [t.deadline for t in scheduler.pending] == [T0 + 25.0]


def test_live_client_is_pinged_once_per_interval(scheduler: FakeScheduler, clock: FakeClock,
                                                 heartbeat: Heartbeat) -> None:
    """A client that keeps answering gets one ping per interval, stamped in epoch ms."""
    conn = FakeConnection()
    heartbeat.watch(conn)
    for _ in range(10):  # 50 s, answering after every sweep
        scheduler.advance(5.0)
        heartbeat.seen(conn)
    assert conn.json() == [ping(T0 + t) for t in (10.0, 20.0, 30.0, 40.0, 50.0)]
    assert conn.texts[0] == '{"type":"ping","timestamp":%d}' % ((T0 + 10.0) * 1000)
    assert not conn.closed
    assert len(heartbeat) == 1


def test_all_clients_share_one_ping_frame(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """One sweep builds one ping frame for every client."""
    a, b = FakeConnection("a"), FakeConnection("b")
    heartbeat.watch(a)
    heartbeat.watch(b)
    scheduler.advance(10.0)
    assert a.frames[0] is b.frames[0]


def test_seen_client_keeps_living(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """A client heard from within every two intervals is never closed."""
    conn = FakeConnection()
    heartbeat.watch(conn)
    for _ in range(10):  # 150 s, a frame every 15 s
        scheduler.advance(15.0)
        heartbeat.seen(conn)
    assert conn.closes == []
    assert heartbeat.timeouts == 0
    assert len(conn.frames) == 15


TIMEOUT_FRAME = {"type": "error", "code": "heartbeat_timeout", "message": "no frame for two heartbeat intervals",
                 "close_code": 4005}


def test_silent_client_is_closed_after_two_intervals(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """A client silent since it was watched is closed with 4005 at two intervals, not before."""
    conn = FakeConnection()
    heartbeat.watch(conn)
    scheduler.advance(2 * INTERVAL_S - 0.001)
    assert conn.closes == []
    assert conn.json() == [ping(T0 + 10.0)]
    scheduler.advance(0.001)
    assert conn.closes == [(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat timeout")]
    assert conn.closes[0][0] == 4005
    assert heartbeat.timeouts == 1
    assert len(heartbeat) == 0
    scheduler.advance(100.0)
    assert len(conn.closes) == 1
    assert conn.json() == [ping(T0 + 10.0), TIMEOUT_FRAME]


def test_silent_client_is_closed_by_two_and_a_half_intervals(scheduler: FakeScheduler, clock: FakeClock,
                                                             heartbeat: Heartbeat) -> None:
    """A client last heard between sweeps is closed at the first sweep two intervals after it."""
    conn = FakeConnection()
    scheduler.advance(1.0)
    heartbeat.watch(conn)  # at T0 + 1: not yet silent for two intervals at the sweep of T0 + 20
    scheduler.advance(19.0)
    assert conn.closes == []
    scheduler.advance(4.999)
    assert conn.closes == []
    scheduler.advance(0.001)
    assert conn.closes == [(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat timeout")]
    assert clock() - (T0 + 1.0) == pytest.approx(24.0)  # between 2 and 2.5 intervals of silence


def test_silence_counts_from_the_last_frame(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """seen() restarts the count: the close comes two intervals after the last frame."""
    conn = FakeConnection()
    heartbeat.watch(conn)
    scheduler.advance(10.0)
    heartbeat.seen(conn)
    scheduler.advance(19.999)
    assert conn.closes == []
    scheduler.advance(0.001)
    assert conn.closes == [(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat timeout")]


def test_only_the_silent_client_is_closed(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """A silent client is closed while a talking one keeps its socket and its pings."""
    silent, talking = FakeConnection("silent"), FakeConnection("talking")
    heartbeat.watch(silent)
    heartbeat.watch(talking)
    for _ in range(4):
        scheduler.advance(5.0)
        heartbeat.seen(talking)
    assert silent.closed and not talking.closed
    assert talking.json() == [ping(T0 + 10.0), ping(T0 + 20.0)]
    assert silent.json() == [ping(T0 + 10.0), TIMEOUT_FRAME]
    assert len(heartbeat) == 1


def test_forget_removes_the_client(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """A forgotten client is neither pinged nor closed; seen() does not bring it back."""
    conn = FakeConnection()
    heartbeat.watch(conn)
    heartbeat.forget(conn)
    heartbeat.seen(conn)
    heartbeat.forget(conn)  # twice is harmless
    assert len(heartbeat) == 0
    scheduler.advance(60.0)
    assert conn.frames == [] and conn.closes == []
    assert heartbeat.timeouts == 0


def test_stop_cancels_the_timer(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """stop() removes the sweep timer: nothing is pinged or closed afterwards."""
    conn = FakeConnection()
    heartbeat.watch(conn)
    heartbeat.stop()
    heartbeat.stop()  # twice is harmless
    assert scheduler.pending == []
    scheduler.advance(100.0)
    assert conn.frames == [] and conn.closes == []
    heartbeat.start()
    assert [t.deadline for t in scheduler.pending] == [T0 + 105.0]


def test_sweep_keeps_running_when_a_close_fails(scheduler: FakeScheduler, heartbeat: Heartbeat) -> None:
    """A connection whose close raises does not stop the sweeps."""

    class Broken(FakeConnection):
        def close(self, code: int, reason: str) -> None:
            raise RuntimeError("socket gone")

    heartbeat.watch(Broken())
    with pytest.raises(RuntimeError):
        scheduler.advance(20.0)
    assert len(scheduler.pending) == 1
    assert len(heartbeat) == 0


@pytest.mark.parametrize("interval_s", [0.0, -1.0])
def test_non_positive_interval_is_refused(scheduler: FakeScheduler, clock: FakeClock, interval_s: float) -> None:
    """A zero or negative interval raises ValueError."""
    with pytest.raises(ValueError, match="the heartbeat interval must be positive"):
        Heartbeat(scheduler, clock, interval_s)
