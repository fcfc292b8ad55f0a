"""Server frames as typed dataclasses, and `parse_frame` from a socket's text (docs/protocol.md).

A room hands its reader `Snapshot`, `Event`, `Presence`, `StoreStatus`, `ErrorFrame` and
`Notice` (any other unnumbered frame, unknown types included); `Welcome`, `Ack`, `Ping` and
`Pong` are what the room itself reads. Every dataclass keeps the frame as it came in `raw`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeAlias

WELCOME_TYPES = ("connection_established", "subscribed")
ERROR_FIELDS = ("type", "code", "message", "id", "close_code", "retry_after_ms")


class FrameError(ValueError):
    """A frame that is not the protocol's: not JSON, not an object, no string `type`, or a
    welcome without its `seq` and `epoch`."""


def _whole(value: object) -> int | None:
    """An integer that is not a boolean, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclasses.dataclass(frozen=True)
class Welcome:
    """`connection_established` (or `subscribed`): who you are, the room's snapshot in `data`,
    and where its numbering stands."""

    type: str
    data: dict[str, Any]
    seq: int
    epoch: str
    recovered: bool
    heartbeat_interval_ms: int | None
    watchers: int | None
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The room's whole state: the first welcome, and every later one that says
    `recovered: false` (`initial` False: the events in between are lost, redraw from this).
    `data` is the welcome's: `match` on a match room; `tournament`, `participants`, `matches`
    (and `queue`) on a tournament room; `tournaments` on the lobby."""

    welcome: Welcome
    initial: bool

    @property
    def data(self) -> dict[str, Any]:
        return self.welcome.data

    @property
    def seq(self) -> int:
        return self.welcome.seq

    @property
    def epoch(self) -> str:
        return self.welcome.epoch


@dataclasses.dataclass(frozen=True)
class Event:
    """A numbered event: delivered once each, in `seq` order. `seq` is the room's (on a
    tournament room, `match_seq` is the match's own); `ts` is epoch milliseconds. Any type
    with a `seq` is an event, types this client does not know included."""

    type: str
    seq: int
    data: dict[str, Any]
    ts: int | None
    match_seq: int | None
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)

    @property
    def match(self) -> dict[str, Any] | None:
        """The match after the whole move, on match events; compare its `version` with the one
        held (a tournament room may repeat a change its snapshot already showed)."""
        match = self.data.get("match")
        return match if isinstance(match, dict) else None


@dataclasses.dataclass(frozen=True)
class Ack:
    """A command was applied: `data` has `command`, `match_id`, `accepted`, and except for
    `update_score` (acknowledged before it is written) `state`, `version` and `seq`."""

    id: str | int | None
    data: dict[str, Any]
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)

    @property
    def command(self) -> str | None:
        command = self.data.get("command")
        return command if isinstance(command, str) else None

    @property
    def state(self) -> str | None:
        state = self.data.get("state")
        return state if isinstance(state, str) else None

    @property
    def version(self) -> int | None:
        return _whole(self.data.get("version"))

    @property
    def seq(self) -> int | None:
        return _whole(self.data.get("seq"))


@dataclasses.dataclass(frozen=True)
class ErrorFrame:
    """An `error` frame: `code` is stable, `message` for people, `details` the other fields
    (`field`, `state`, `reason`, ...). `id` names the command it answers; `close_code` marks
    a refusal (the close follows); `retry_after_ms` says when to try again."""

    code: str
    message: str
    id: str | int | None
    close_code: int | None
    retry_after_ms: int | None
    details: dict[str, Any]
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Ping:
    """The server's heartbeat: answered with a `pong` carrying the same `timestamp`."""

    timestamp: Any
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Pong:
    timestamp: Any
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Presence:
    """Who watches the room: `data` has `room`, `watchers`, and `participants` and
    `spectators` (a match room) or `online` (a tournament room)."""

    data: dict[str, Any]
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)

    @property
    def watchers(self) -> int | None:
        return _whole(self.data.get("watchers"))


@dataclasses.dataclass(frozen=True)
class StoreStatus:
    """The server's database went away (`available` False: commands fail meanwhile) or came back."""

    available: bool
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Notice:
    """Any other unnumbered frame (`chat_typing`, or a type newer than this client), as it came."""

    type: str
    data: dict[str, Any]
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)


ServerFrame: TypeAlias = Welcome | Event | Ack | ErrorFrame | Ping | Pong | Presence | StoreStatus | Notice
RoomItem: TypeAlias = Snapshot | Event | Presence | StoreStatus | ErrorFrame | Notice
"""What `async for item in room` yields."""


def parse_frame(text: str | bytes) -> ServerFrame:
    """One server frame. Raises FrameError when it is not the protocol's."""
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FrameError("a frame that is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise FrameError("a frame is a JSON object with a string type")
    return frame_from(value)


def frame_from(raw: dict[str, Any]) -> ServerFrame:
    """One server frame from its decoded JSON object (which has a string `type`)."""
    kind: str = raw["type"]
    data = _object(raw.get("data"))
    if kind in WELCOME_TYPES:
        seq, epoch = _whole(data.get("seq")), data.get("epoch")
        if seq is None or not isinstance(epoch, str):
            raise FrameError(f"a {kind} frame without its seq and epoch")
        return Welcome(type=kind, data=data, seq=seq, epoch=epoch, recovered=data.get("recovered") is True,
                       heartbeat_interval_ms=_whole(data.get("heartbeat_interval")),
                       watchers=_whole(data.get("watchers")), raw=raw)
    if kind == "ack":
        return Ack(id=_ref(raw.get("id")), data=data, raw=raw)
    if kind == "error":
        return ErrorFrame(code=str(raw.get("code", "")), message=str(raw.get("message", "")),
                          id=_ref(raw.get("id")), close_code=_whole(raw.get("close_code")),
                          retry_after_ms=_whole(raw.get("retry_after_ms")),
                          details={k: v for k, v in raw.items() if k not in ERROR_FIELDS}, raw=raw)
    if kind == "ping":
        return Ping(timestamp=raw.get("timestamp"), raw=raw)
    if kind == "pong":
        return Pong(timestamp=raw.get("timestamp"), raw=raw)
    if kind == "presence":
        return Presence(data=data, raw=raw)
    if kind == "store_status":
        return StoreStatus(available=data.get("available") is True, raw=raw)
    seq = _whole(raw.get("seq"))
    if seq is None:
        return Notice(type=kind, data=data, raw=raw)
    ts = _whole(raw.get("ts"))
    return Event(type=kind, seq=seq, data=data, ts=ts, match_seq=_whole(raw.get("match_seq")), raw=raw)


def _ref(value: object) -> str | int | None:
    if isinstance(value, str):
        return value
    return _whole(value)
