"""livebracket's asyncio client: `RestClient` for the REST API, `Room` for a live room's events."""

from __future__ import annotations

from livebracket_client.backoff import Backoff
from livebracket_client.closecodes import CloseCode, reconnects
from livebracket_client.errors import ApiError, CommandError, LiveBracketError, RoomClosed
from livebracket_client.events import (Ack, ErrorFrame, Event, FrameError, Notice, Ping, Pong, Presence, RoomItem,
                                       ServerFrame, Snapshot, StoreStatus, Welcome, parse_frame)
from livebracket_client.rest import RestClient
from livebracket_client.room import ConnectionState, Room, RoomStats
from livebracket_client.sequence import Sequencer, Verdict

__version__ = "0.1.0"

__all__ = [
    "Ack", "ApiError", "Backoff", "CloseCode", "CommandError", "ConnectionState", "ErrorFrame", "Event",
    "FrameError", "LiveBracketError", "Notice", "Ping", "Pong", "Presence", "RestClient", "Room", "RoomClosed",
    "RoomItem", "RoomStats", "Sequencer", "ServerFrame", "Snapshot", "StoreStatus", "Verdict", "Welcome",
    "parse_frame", "reconnects",
]
