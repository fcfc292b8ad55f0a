"""What a recovering client is promised, as a check: the frames of one room, across reconnects.

docs/protocol.md#sequence-numbers-and-recovery: after a reconnect with `since` and `epoch`, the
welcome says `recovered: true`, then every event after `since` comes once and in order, then the
live ones. `Stream` counts every way a client's frames can break that; bench/stormgen.py keeps one
per socket. The frame readers take the server's bytes as they are, without parsing the JSON of
a 55 KB welcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re

from picows import WSFrame, WSListener, WSTransport, ws_connect

WELCOME_PREFIX = b'{"type":"connection_established"'  # how a welcome frame begins
_TYPE_AT = len(b'{"type":"')
_SEQ = b',"seq":'
# the welcome's last fields (realtime/session.py: _subscribe), after the snapshot
_WELCOME_TAIL = re.compile(rb'"seq":(\d+),"epoch":"([A-Za-z0-9]+)","recovered":(true|false),"heartbeat_interval"')


def numbered(payload: bytes) -> int | None:
    """The top-level `seq` of an event frame (`{"type":"X","seq":N,...}`); None for frames
    that are not numbered (welcome, presence, ping, ack, error)."""
    end = payload.find(b'"', _TYPE_AT)
    if end < 0 or not payload.startswith(_SEQ, end + 1):
        return None
    start = end + 1 + len(_SEQ)
    return int(payload[start:payload.index(b",", start)])


async def room_head(url: str, timeout_s: float = 20.0) -> int:
    """A room's seq now: the welcome's `seq` of a fresh socket on `url` (closed once welcomed)."""
    head: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Once(WSListener):
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            payload = frame.get_payload_as_bytes()
            if payload.startswith(WELCOME_PREFIX) and not head.done():
                head.set_result(welcome_fields(payload)[0])
                transport.send_close()
                transport.disconnect()

    await ws_connect(Once, url, enable_auto_ping=False)
    return await asyncio.wait_for(head, timeout_s)


# -- the check -------------------------------------------------------------------------------


@dataclasses.dataclass
class Stream:
    """One client's numbered events across its connections, checked against the promise of
    docs/protocol.md#sequence-numbers-and-recovery: after a reconnect with `since` and
    `epoch`, `recovered: true`, then every event after `since` once and in order, then live ones.

    Call `welcome` for each welcome, `event` for each numbered frame, and `reconnecting`
    before a reconnect (it asks for `since` = the last event applied)."""

    last: int = 0  # the seq of the last event applied
    epoch: str | None = None
    since: int | None = None  # what the current connection asked for (None: a first connect)
    gaps: int = 0  # an event came while one before it had not
    duplicates: int = 0  # an event at or below the last one: sent twice, or out of order
    unrecovered: int = 0  # a reconnect answered recovered: false, or under another epoch
    welcomes: int = 0
    # the current connection
    snapshot_seq: int = 0  # the welcome's seq: events up to it are the replay
    replay_frames: int = 0
    replay_bytes: int = 0
    live: bool = False  # the first event after the replay arrived

    def welcome(self, seq: int, epoch: str, recovered: bool) -> None:
        self.welcomes += 1
        if self.since is None:
            self.last = seq  # a first connect: the snapshot is the state
        elif not recovered or epoch != self.epoch:
            self.unrecovered += 1
            self.last = seq  # what a page does: take the fresh snapshot
        self.epoch = epoch
        self.snapshot_seq = seq
        self.replay_frames = self.replay_bytes = 0
        self.live = False

    def event(self, seq: int, size: int) -> bool:
        """Apply one numbered event of `size` bytes; True when it is the connection's first live one."""
        if seq <= self.last:
            self.duplicates += 1
            return False
        if seq > self.last + 1:
            self.gaps += 1
        self.last = seq
        if seq <= self.snapshot_seq:
            self.replay_frames += 1
            self.replay_bytes += size
            return False
        if self.live:
            return False
        self.live = True
        return True

    def reconnecting(self) -> None:
        self.since = self.last

    @property
    def ok(self) -> bool:
        return not (self.gaps or self.duplicates or self.unrecovered)


def welcome_fields(payload: bytes) -> tuple[int, str, bool]:
    """A welcome's (`seq`, `epoch`, `recovered`), read from its tail (JSON-parsed if it has another shape)."""
    tail = _WELCOME_TAIL.search(payload, max(0, len(payload) - 400))
    if tail is None:
        data = json.loads(payload)["data"]
        return int(data["seq"]), str(data["epoch"]), bool(data["recovered"])
    return int(tail[1]), tail[2].decode(), tail[3] == b"true"
