"""The socket protocol: close codes, frame types, error codes and client-frame parsing.

Every frame is JSON `{"type": ..., "data": {...}}`. Parsing is pure: it turns text into a
ClientMessage or raises ProtocolError with a stable code; no I/O happens here.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

from tournament import fields
from tournament.commands import BY_SOCKET
from tournament.errors import InvalidValueError, SchemaError

MAX_SEQ = 2**53  # the largest sequence number a JavaScript client holds exactly


class CloseCode(enum.IntEnum):
    """Why the server closed a socket: one meaning each (docs/protocol.md#close-codes).

    Below 4500, reconnect (with backoff, and `since`/`epoch` to recover); from 4500 on,
    reconnecting as before cannot succeed until something changes (a new token, another URL,
    another origin): 45xx mirrors the HTTP status 4xx of the same refusal.
    """

    NORMAL = 1000  # a normal close: the client asked (Tornado's own ping timeout also sends it)
    GOING_AWAY = 1001  # the server is shutting down
    PROTOCOL_ERROR = 1002  # the client broke RFC 6455 (an unmasked frame, say)
    INTERNAL_ERROR = 1011  # the server failed (or its database is unreachable); reconnect
    HEARTBEAT_TIMEOUT = 4005  # no frame from the client for two heartbeat intervals
    PAYLOAD_TOO_LARGE = 4008  # a frame over the size limit (do not send it again)
    SLOW_CONSUMER = 4009  # the client did not read its frames; its buffer overflowed
    RATE_LIMITED = 4029  # the client kept sending faster than allowed
    CONNECTION_LIMIT = 4030  # too many open sockets for this user or address
    ROOM_FULL = 4031  # the tournament room has as many watchers as it may
    BAD_REQUEST = 4500  # the URL is malformed: the id, `since` or `epoch`
    AUTH_REQUIRED = 4501  # no token in ?token=
    TOKEN_EXPIRED = 4502  # the token has expired: get a new one
    INVALID_TOKEN = 4503  # the token cannot be used (the reason says why): get a new one
    NOT_FOUND = 4504  # no such match or tournament
    ORIGIN_NOT_ALLOWED = 4506  # the page's origin may not connect

    @property
    def reconnect(self) -> bool:
        """Whether a client should reconnect by itself after this close."""
        return self < 4500


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
    CHAT_RATE_LIMITED = "chat_rate_limited"


# Commands a client may send, from the one command table REST uses too; and a match room's chat.
COMMANDS = tuple(BY_SOCKET)
CHAT = ("chat_send", "chat_typing", "chat_delete", "chat_mute")
CLIENT_TYPES = ("ping", "pong", "subscribe", *COMMANDS, *CHAT)


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


def parse_since(raw: str | int | None) -> int | None:
    """A `since` as clients send it (the digits of a query, a frame's integer), read the same
    way on every path. None when absent. Raises SchemaError (not a whole number) or
    InvalidValueError (above MAX_SEQ)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return fields.whole_number(raw, "since", 0, MAX_SEQ)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise SchemaError("since must be a non-negative integer", field="since")
    if raw > MAX_SEQ:
        raise InvalidValueError(f"since: must be between 0 and {MAX_SEQ}", field="since")
    return raw


def parse_epoch(raw: object) -> str | None:
    """An `epoch` as clients send it: None when absent (other types count as absent in a
    frame). Raises SchemaError for a text that no epoch can be."""
    if not isinstance(raw, str):
        return None
    if not 1 <= len(raw) <= 64 or not raw.isascii() or not raw.isalnum():
        raise SchemaError("epoch must be the epoch of a welcome frame", field="epoch")
    return raw


def frame(kind: str, data: dict[str, Any] | None = None, **fields: Any) -> str:
    """A server frame as text."""
    return json.dumps({"type": kind, **fields, "data": data if data is not None else {}},
                      separators=(",", ":"))


class Serialized(dict[str, Any]):
    """A frame's fields and their JSON (`json`, an object), serialized once for every frame that
    carries them: a tournament room's snapshot, shared by the sockets that join at one seq."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self.json = json.dumps(fields, separators=(",", ":"))


def spliced_frame(kind: str, head: dict[str, Any], body: Serialized, tail: dict[str, Any]) -> str:
    """`frame(kind, {**head, **body, **tail})`, with the body's JSON spliced in as it is. A key
    of `head` that the body has too is the body's (as in the merge); `tail` must not repeat one."""
    parts = [json.dumps({k: v for k, v in head.items() if k not in body}, separators=(",", ":"))[1:-1],
             body.json[1:-1], json.dumps(tail, separators=(",", ":"))[1:-1]]
    return '{"type":' + json.dumps(kind) + ',"data":{' + ",".join(p for p in parts if p) + "}}"


def error_frame(code: str, message: str, ref: str | int | None = None, **details: Any) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message, **details}
    if ref is not None:
        body["id"] = ref
    return json.dumps(body, separators=(",", ":"))
