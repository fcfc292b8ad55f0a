"""A live room: follows /ws/match/<id>, /ws/tournament/<id> or /ws/lobby through every reconnect.

The room owns one background task that connects, reads, answers heartbeats and reconnects;
its reader gets the room's items from `async for item in room` (docs/protocol.md#sequence-numbers-and-recovery):

- a `Snapshot` first, and again whenever the server answers a reconnect with
  `recovered: false` (`initial` False): the state to redraw from;
- every `Event` exactly once, in `seq` order, across reconnects: a cut connection is resumed
  with `?since=<last seq>&epoch=<its epoch>`, and a gap in the numbering is never delivered
  (the room reconnects with `since` and the server replays what was missing);
- `Presence`, `StoreStatus`, `ErrorFrame` (one that answers no pending command) and `Notice`
  (any other unnumbered frame) as they come.

Closes below 4500 (and lost connections) reconnect after `Backoff`'s delay; 4500 and up end
the iteration with RoomClosed, and so does an HTTP 4xx refusal of the upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import json
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from livebracket_client.backoff import Backoff
from livebracket_client.closecodes import CloseCode, reconnects
from livebracket_client.errors import CommandError, RoomClosed
from livebracket_client.events import (Ack, ErrorFrame, Event, FrameError, Notice, Ping, Pong, Presence,
                                       RoomItem, ServerFrame, StoreStatus, Welcome, parse_frame)
from livebracket_client.sequence import Sequencer, Verdict

Sleep = Callable[[float], Awaitable[None]]
SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
RESERVED = ("ping", "pong", "subscribe")  # frames the room sends itself
WATCHDOG_INTERVALS = 2.5  # a server silent for this many heartbeat intervals is given up on
LAST_EVENT = "tournament_deleted"  # a tournament room's last event: the room ends after it


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"  # before the first welcome
    CONNECTED = "connected"  # a welcome came on the open socket
    RECONNECTING = "reconnecting"  # the socket closed (or never opened); waiting, or connecting again
    CLOSED = "closed"  # for good: close() was called, a final close came, or the tournament was deleted


@dataclasses.dataclass
class RoomStats:
    """What a room did, for logs and tests."""

    connects: int = 0  # welcomes received
    snapshots: int = 0  # of them, the ones handed over as a Snapshot
    events: int = 0  # events delivered
    skipped: int = 0  # events not delivered again (a replay overlapping what was delivered)
    gaps: int = 0  # gaps in the numbering, each resumed by a reconnect
    pongs: int = 0  # server heartbeats answered
    malformed: int = 0  # frames that were not the protocol's, ignored
    last_delay_s: float | None = None  # the last wait before a reconnect


@dataclasses.dataclass(frozen=True)
class _Closed:
    """How one connection ended."""

    final: RoomClosed | None = None  # do not reconnect: end the room with this
    floor_s: float = 0.0  # the server's retry_after for the next wait
    done: bool = False  # the room's last event came: end without an error


@dataclasses.dataclass(frozen=True)
class _End:
    error: BaseException | None


class _Resync(Exception):
    """A gap in the numbering: this connection is dropped and resumed with `since`."""


class _Done(Exception):
    """The room's last event was delivered."""


class Room:
    """`async with Room.match(base_url, match_id, token) as room: async for item in room: ...`

    `url` is a whole room URL, `ws(s)://` or `http(s)://` (`http://host:8888/ws/match/m_1`);
    the token goes in its query, as the server reads it. `send(command, data)` sends a command
    and returns its Ack (raises CommandError). Leaving the `async with` (or `await
    room.close()`) closes the socket with 1000 and ends the iteration.

    Options: `backoff` (delays between reconnects: full jitter, 1 s doubling to 30 s);
    `open_timeout_s` (for the handshake and the welcome); `command_timeout_s` (for an ack);
    `max_pending` (items read but not yet taken by the reader: past it the room stops reading,
    and a server that drops the room as a slow consumer is resumed like any cut);
    `max_frame_bytes` (the largest frame read, a tournament welcome included); `sleep` (how
    the room waits between reconnects; inject one to test without waiting).
    """

    def __init__(self, url: str, token: str, *, backoff: Backoff | None = None, open_timeout_s: float = 10.0,
                 command_timeout_s: float = 10.0, max_pending: int = 10_000,
                 max_frame_bytes: int | None = 64 * 2**20, sleep: Sleep = asyncio.sleep) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.netloc:
            raise ValueError(f"not a room URL (ws://, wss://, http:// or https://): {parts.path!r}")
        self._parts = parts._replace(scheme=SCHEMES[parts.scheme], fragment="")
        self.path = parts.path  # names the room in errors and logs (the URL holds the token)
        self.token = token  # may be replaced (a renewed token); read by every reconnect
        self.stats = RoomStats()
        self._backoff = backoff or Backoff()
        self._open_timeout_s = open_timeout_s
        self._command_timeout_s = command_timeout_s
        self._max_pending = max(1, max_pending)
        self._max_frame_bytes = max_frame_bytes
        self._sleep = sleep
        self._sequencer = Sequencer()
        self._state = ConnectionState.CONNECTING
        self._welcome: Welcome | None = None
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[RoomItem | _End] = asyncio.Queue()
        self._taken = asyncio.Event()  # the reader took an item: room for more
        self._refusal: ErrorFrame | None = None  # the error frame that announced the coming close
        self._pending: dict[str, tuple[asyncio.Future[Ack], str]] = {}
        self._next_ref = 0
        self._stopped = False

    @classmethod
    def match(cls, base_url: str, match_id: str, token: str, **options: Any) -> Room:
        """The room of one match: its events, its chat."""
        return cls(_join(base_url, f"/ws/match/{urllib.parse.quote(match_id, safe='')}"), token, **options)

    @classmethod
    def tournament(cls, base_url: str, tournament_id: str, token: str, **options: Any) -> Room:
        """The room of one tournament: every match's events (`seq` is the room's, `match_seq` the
        match's), registrations, stations, the bracket."""
        return cls(_join(base_url, f"/ws/tournament/{urllib.parse.quote(tournament_id, safe='')}"), token, **options)

    @classmethod
    def lobby(cls, base_url: str, token: str, **options: Any) -> Room:
        """The lobby: the newest tournaments' summaries, kept live."""
        return cls(_join(base_url, "/ws/lobby"), token, **options)

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def welcome(self) -> Welcome | None:
        """The last welcome (its `recovered` says whether the last reconnect caught up)."""
        return self._welcome

    @property
    def last_seq(self) -> int | None:
        """The seq of the last event delivered, or of the last snapshot."""
        return self._sequencer.last_seq

    @property
    def epoch(self) -> str | None:
        return self._sequencer.epoch

    def start(self) -> Room:
        """Connect in the background (iterating or `async with` starts it too). Needs a running loop."""
        if self._task is None and not self._stopped:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"livebracket {self.path}")
        return self

    async def close(self) -> None:
        """Close the socket (1000) and end the iteration; pending commands fail with connection_lost."""
        self._stopped = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._state = ConnectionState.CLOSED

    async def __aenter__(self) -> Room:
        return self.start()

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def __aiter__(self) -> Room:
        return self

    async def __anext__(self) -> RoomItem:
        """The next item. Raises RoomClosed after a final close, StopAsyncIteration once closed
        (or after the tournament's deletion was delivered)."""
        if self._stopped:
            raise StopAsyncIteration
        self.start()
        item = await self._queue.get()
        self._taken.set()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # the room stays ended for every later call
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        return item

    async def send(self, command: str, data: Mapping[str, Any] | None = None, *,
                   timeout_s: float | None = None) -> Ack:
        """Send a command (`ready_up`, `update_score`, `report_score`, `chat_send`, ...: the
        command table of docs/protocol.md) and wait for its Ack. The events the command caused
        come before its ack, so they are already in the room's items when this returns
        (`update_score` is acknowledged before it is written: its `score_updated` follows).
        Raises CommandError: the server's error frame (`code`, `details`), or `not_connected`,
        `connection_lost`, `timeout`."""
        if command in RESERVED:
            raise ValueError(f"the room sends {command!r} frames itself")
        ws = self._ws
        if ws is None or self._state is not ConnectionState.CONNECTED:
            raise CommandError("not_connected", "not connected; send again once the room is back", command=command)
        self._next_ref += 1
        ref = f"c{self._next_ref}"
        answer: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[ref] = (answer, command)
        try:
            await ws.send(json.dumps({"type": command, "id": ref, "data": dict(data or {})}, separators=(",", ":")))
            async with asyncio.timeout(self._command_timeout_s if timeout_s is None else timeout_s):
                return await answer
        except ConnectionClosed:
            raise _lost(command, ref) from None
        except TimeoutError:
            raise CommandError("timeout", f"no answer to {command} in time; check the state before sending it again",
                               command=command, ref=ref) from None
        finally:
            self._pending.pop(ref, None)

    def _url(self) -> str:
        query = [(k, v) for k, v in urllib.parse.parse_qsl(self._parts.query, keep_blank_values=True)
                 if k not in ("token", "since", "epoch")]
        query += [("token", self.token), *self._sequencer.resume_query().items()]
        return self._parts._replace(query=urllib.parse.urlencode(query)).geturl()

    async def _run(self) -> None:
        end: BaseException | None = None
        try:
            while True:
                closed = await self._connection()
                if closed.final is not None:
                    raise closed.final
                if closed.done:
                    return
                self._state = ConnectionState.RECONNECTING
                delay = self._backoff.next_delay(closed.floor_s)
                self.stats.last_delay_s = delay
                await self._sleep(delay)
        except RoomClosed as exc:
            end = exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failure of this client: the reader sees it rather than a silent room
            end = exc
        finally:
            self._state = ConnectionState.CLOSED
            self._queue.put_nowait(_End(end))

    async def _connection(self) -> _Closed:
        """One connection, from the handshake to its close."""
        self._refusal = None
        try:
            # permessage-deflate, as browsers offer it: the server deflates each frame once for
            # every socket that takes it (a tournament's welcome goes out at a tenth of its size)
            ws = await connect(self._url(), compression="deflate", open_timeout=self._open_timeout_s,
                               max_size=self._max_frame_bytes)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if 400 <= status < 500 and status not in (408, 429):
                return _Closed(final=RoomClosed(self.path, None, f"http_{status}",
                                                f"the server refused the upgrade with HTTP {status}",
                                                {"status": status}))
            return _Closed()
        except InvalidURI as exc:  # its text would repeat the URL, token and all
            return _Closed(final=RoomClosed(self.path, None, "invalid_url", f"not a WebSocket URL: {exc.msg}"))
        except (OSError, TimeoutError, WebSocketException):
            return _Closed()  # refused, unreachable, or a broken handshake: try again later
        self._ws = ws
        try:
            return await self._read(ws)
        finally:
            self._ws = None
            for ref, (answer, command) in self._pending.items():
                if not answer.done():
                    answer.set_exception(_lost(command, ref))
            await ws.close()

    async def _read(self, ws: ClientConnection) -> _Closed:
        timeout_s: float | None = self._open_timeout_s  # for the welcome; then the heartbeat watchdog
        while True:
            try:
                async with asyncio.timeout(timeout_s):
                    text = await ws.recv()
                frame = parse_frame(text)
                await self._take(ws, frame)
            except FrameError:
                self.stats.malformed += 1
                continue
            except TimeoutError:
                return _Closed()  # a silent server (or a link dead without a close): reconnect
            except ConnectionClosed as exc:
                return self._closed(exc)
            except _Resync:
                return _Closed()
            except _Done:
                return _Closed(done=True)
            if isinstance(frame, Welcome) and frame.heartbeat_interval_ms:
                timeout_s = WATCHDOG_INTERVALS * frame.heartbeat_interval_ms / 1000.0

    async def _take(self, ws: ClientConnection, frame: ServerFrame) -> None:
        """Act on one frame. Raises _Resync (a gap) or _Done (the room's last event)."""
        if isinstance(frame, Welcome):
            self._welcome = frame
            self._refusal = None
            self._backoff.reset()
            self._state = ConnectionState.CONNECTED
            self.stats.connects += 1
            snapshot = self._sequencer.welcome(frame)
            if snapshot is not None:
                self.stats.snapshots += 1
                await self._deliver(snapshot)
        elif isinstance(frame, Event):
            verdict = self._sequencer.event(frame)
            if verdict is Verdict.GAP:
                self.stats.gaps += 1
                raise _Resync()
            if verdict is Verdict.SKIP:
                self.stats.skipped += 1
                return
            self.stats.events += 1
            await self._deliver(frame)
            if frame.type == LAST_EVENT:
                raise _Done()
        elif isinstance(frame, Ping):
            await ws.send(json.dumps({"type": "pong", "timestamp": frame.timestamp}, separators=(",", ":")))
            self.stats.pongs += 1
        elif isinstance(frame, Ack):
            waiting = self._pending.get(str(frame.id))
            if waiting is not None and not waiting[0].done():
                waiting[0].set_result(frame)
        elif isinstance(frame, ErrorFrame):
            waiting = self._pending.get(str(frame.id)) if frame.id is not None else None
            if frame.close_code is not None:
                self._refusal = frame  # the close follows: it says why, and how long to wait
            elif waiting is not None and not waiting[0].done():
                waiting[0].set_exception(CommandError(frame.code, frame.message, frame.details,
                                                      command=waiting[1], ref=frame.id))
            else:
                await self._deliver(frame)  # a late failure (a batched score), a dropped frame
        elif isinstance(frame, (Presence, StoreStatus, Notice)):
            await self._deliver(frame)
        elif not isinstance(frame, Pong):
            raise AssertionError(f"a frame parse_frame does not make: {frame!r}")

    async def _deliver(self, item: RoomItem) -> None:
        """Queue an item for the reader; past `max_pending` wait until the reader takes some."""
        while self._queue.qsize() >= self._max_pending:
            self._taken.clear()
            await self._taken.wait()
        self._queue.put_nowait(item)

    def _closed(self, exc: ConnectionClosed) -> _Closed:
        """What the server's close means: reconnect (after the refusal's retry_after), or stop."""
        code = exc.rcvd.code if exc.rcvd is not None else int(CloseCode.ABNORMAL)
        reason = exc.rcvd.reason if exc.rcvd is not None else ""
        refusal = self._refusal
        if reconnects(code):
            wait_ms = refusal.retry_after_ms if refusal is not None and refusal.retry_after_ms else 0
            return _Closed(floor_s=wait_ms / 1000.0)
        if refusal is not None:
            final = RoomClosed(self.path, code, refusal.code, refusal.message, refusal.details)
        else:
            final = RoomClosed(self.path, code, reason or f"close_{code}", reason or "closed by the server")
        return _Closed(final=final)


def _join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _lost(command: str, ref: str) -> CommandError:
    return CommandError("connection_lost", f"the connection was lost before {command} was answered; "
                        "check the state before sending it again", command=command, ref=ref)
