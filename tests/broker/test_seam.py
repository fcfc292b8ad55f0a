"""The hub's broker seam, with a fake broker: hand-off, delivery, renumbering, detach, recovery."""

from __future__ import annotations

import pytest

from realtime.frames import Frame
from realtime.hub import Hub
from tests.broker.conftest import match_event
from tests.realtime.fakes import FakeConnection, FakeScheduler
from tournament.models import Event

M1, T1 = "match:m1", "tournament:t1"


class FakeBroker:
    """Records what the hub asks; `held` is what its stream would return."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.attached: list[str] = []
        self.detached: list[str] = []
        self.expected: list[tuple[str, int]] = []
        self.held: dict[str, list[Frame]] = {}

    def publish(self, event: Event) -> None:
        self.published.append(event)

    async def attach(self, key: str, sink: Hub) -> None:
        self.attached.append(key)

    def detach(self, key: str) -> None:
        self.detached.append(key)

    async def history(self, key: str, since: int, latest: int, epoch: str) -> list[Frame] | None:
        frames = [f for f in self.held.get(key, []) if since < (f.seq or 0) <= latest]
        return frames if [f.seq for f in frames] == list(range(since + 1, latest + 1)) else None

    def expect(self, key: str, seq: int) -> None:
        self.expected.append((key, seq))


def frame(seq: int) -> Frame:
    return Frame(f'{{"type":"x","seq":{seq}}}', seq)


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


@pytest.fixture
def hub(broker: FakeBroker) -> Hub:
    return Hub(FakeScheduler(), broker=broker)


@pytest.mark.gen_test
async def test_publish_goes_to_the_broker_and_only_its_delivery_fans_out(hub: Hub, broker: FakeBroker) -> None:
    """With a broker nothing is fanned out at publish: members get what the broker delivers."""
    conn = FakeConnection()
    member = hub.join(M1, conn)
    await hub.ready(M1)
    hub.resume(member, None, None, 0)
    hub.publish(match_event(1))
    assert [e.seq for e in broker.published] == [1] and conn.frames == [] and broker.attached == [M1]
    hub.deliver(M1, frame(1))
    assert conn.seqs == [1] and hub.room(M1).seq == 1


@pytest.mark.gen_test
async def test_the_last_member_leaving_detaches_the_room(hub: Hub, broker: FakeBroker) -> None:
    """The node stops carrying a room once nobody here watches it."""
    first, second = hub.join(M1, FakeConnection()), hub.join(M1, FakeConnection())
    hub.leave(M1, first)
    assert broker.detached == []
    hub.leave(M1, second)
    assert broker.detached == [M1]


@pytest.mark.gen_test
async def test_renumbering_holds_frames_until_the_fresh_snapshot(hub: Hub) -> None:
    """A renumbered room asks each member for a fresh snapshot and holds its frames meanwhile; a
    snapshot read before the renumbering does not release it."""
    conn, asked = FakeConnection(), []
    member = hub.join(T1, conn, resync=lambda: asked.append(1))
    stale = member.generation  # a snapshot read began before the renumbering
    hub.renumber(T1, "e2", 10, resync=True)
    hub.deliver(T1, frame(11))
    assert asked == [1] and conn.frames == [] and hub.room(T1).epoch == "e2"
    hub.resume(member, None, None, 9, stale)
    assert conn.frames == []  # still held: the fresh snapshot follows
    hub.resume(member, None, None, 10, member.generation)
    assert conn.seqs == [11]


@pytest.mark.gen_test
async def test_recovery_reads_the_brokers_stream_between_the_ring_and_the_log(hub: Hub, broker: FakeBroker) -> None:
    """The local ring first; else the broker's stream; else the store's log."""
    hub.join(T1, FakeConnection())
    hub.renumber(T1, "e1", 5, resync=False)
    broker.held[T1] = [frame(s) for s in range(1, 6)]
    replay = await hub.missed(T1, 5, 2, None)
    assert replay is not None and [f.seq for f in replay] == [3, 4, 5]
    broker.held[T1] = [frame(5)]
    assert await hub.missed(T1, 5, 2, None) is None  # trimmed: a fresh snapshot, never a part


@pytest.mark.gen_test
async def test_a_client_ahead_of_this_node_is_recovered_if_the_broker_holds_its_frames(
        hub: Hub, broker: FakeBroker) -> None:
    """`since` above what this node delivered (another node was quicker): nothing to replay."""
    hub.join(T1, FakeConnection())
    hub.renumber(T1, "e1", 3, resync=False)
    broker.held[T1] = [frame(s) for s in range(1, 6)]
    assert await hub.missed(T1, 3, 5, None) == []
    assert await hub.missed(T1, 3, 9, None) is None


@pytest.mark.gen_test
async def test_a_snapshot_ahead_of_the_deliveries_is_expected(hub: Hub, broker: FakeBroker) -> None:
    """A match's committed seq above what this node delivered: the broker is told to see to it."""
    hub.join(M1, FakeConnection())
    hub.renumber(M1, None, 4, resync=False)
    await hub.missed(M1, 6, None, None)
    assert broker.expected == [(M1, 6)]
