"""The socket protocol: close codes, frame types, error codes and client-frame parsing.

Every frame is JSON `{"type": ..., "data": {...}}`. Parsing is pure: it turns text into a
ClientMessage or raises ProtocolError with a stable code; no I/O happens here.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any


class CloseCode(enum.IntEnum):
    """Why the server closed a socket. One meaning each (docs/protocol.md)."""

    NORMAL = 1000  # a normal close: the client asked (Tornado's own ping timeout also sends it)
    GOING_AWAY = 1001  # the server is shutting down
    INTERNAL_ERROR = 1011  # the server failed; reconnect
    BAD_ROUTE_ID = 4000  # the id in the URL is malformed
    AUTH_REQUIRED = 4001  # no token in ?token=
    TOKEN_EXPIRED = 4002  # the token has expired: get a new one
    FORBIDDEN = 4003  # bad token or origin not allowed
    NOT_FOUND = 4004  # no such match or tournament
    HEARTBEAT_TIMEOUT = 4005  # no frame from the client for two heartbeat intervals
    PAYLOAD_TOO_LARGE = 4008  # a frame over the size limit
    SLOW_CONSUMER = 4009  # the client did not read its frames; its buffer overflowed
    RATE_LIMITED = 4029  # the client kept sending faster than allowed
    CONNECTION_LIMIT = 4030  # too many open sockets for this user or address
    ROOM_FULL = 4031  # the tournament room has as many watchers as it may


class ErrorCode(enum.StrEnum):
    """The `code` of an error frame; the socket stays open unless a close follows."""

    INVALID_JSON = "invalid_json"
    INVALID_SCHEMA = "invalid_schema"
    UNSUPPORTED_MESSAGE_TYPE = "unsupported_message_type"
    INSUFFICIENT_PERMISSIONS = "insufficient_permissions"
    INVALID_STATE = "invalid_state"
    INVALID_VALUE = "invalid_value"
    NOT_FOUND = "not_found"
    STORE_UNAVAILABLE = "store_unavailable"
    STORE_ERROR = "store_error"
    CONFLICT = "conflict"
    AUTHENTICATION_REQUIRED = "authentication_required"
    TOKEN_EXPIRED = "token_expired"
    INVALID_TOKEN = "invalid_token"
    INVALID_ORIGIN = "invalid_origin"
    INVALID_ROUTE = "invalid_route"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    INTERNAL_ERROR = "internal_error"
    MESSAGE_RATE_LIMIT_EXCEEDED = "message_rate_limit_exceeded"
    CONNECTION_LIMIT_EXCEEDED = "connection_limit_exceeded"
    IP_CONNECTION_LIMIT_EXCEEDED = "ip_connection_limit_exceeded"
    ROOM_FULL = "room_full"


# Commands a client may send over a match socket, and the service move each one makes.
COMMANDS = ("ready_up", "start_match", "update_score", "report_score", "confirm_result", "raise_dispute")
CLIENT_TYPES = ("ping", "pong", "subscribe", *COMMANDS)


class ProtocolError(Exception):
    """A client frame the server cannot act on; answered with an error frame."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class ClientMessage:
    type: str
    data: dict[str, Any]
    ref: str | int | None = None  # the client's `id`, echoed in the ack or error
    timestamp: Any = None  # a ping's timestamp, echoed in the pong


def parse(text: str | bytes) -> ClientMessage:
    """A client frame. Raises ProtocolError (invalid_json, invalid_schema,
    unsupported_message_type)."""
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(ErrorCode.INVALID_JSON, "frames must be JSON") from None
    except RecursionError:
        raise ProtocolError(ErrorCode.INVALID_JSON, "the frame is nested too deeply") from None
    if not isinstance(value, dict):
        raise ProtocolError(ErrorCode.INVALID_SCHEMA, "a frame is a JSON object with a type")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.INVALID_SCHEMA, "a frame needs a string 'type'")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE_TYPE, f"unknown message type {kind[:40]!r}")
    data = value.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID_SCHEMA, "'data' must be an object")
    ref = value.get("id")
    if ref is not None and (not isinstance(ref, (str, int)) or isinstance(ref, bool)
                            or (isinstance(ref, str) and len(ref) > 64)):
        raise ProtocolError(ErrorCode.INVALID_SCHEMA, "'id' must be a string (up to 64) or an integer")
    return ClientMessage(type=kind, data=data, ref=ref, timestamp=value.get("timestamp"))


def frame(kind: str, data: dict[str, Any] | None = None, **fields: Any) -> str:
    """A server frame as text."""
    return json.dumps({"type": kind, **fields, "data": data if data is not None else {}},
                      separators=(",", ":"))


def error_frame(code: str, message: str, ref: str | int | None = None, **details: Any) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message, **details}
    if ref is not None:
        body["id"] = ref
    return json.dumps(body, separators=(",", ":"))
