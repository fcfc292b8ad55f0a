"""The server's close codes and the one rule a client follows: below 4500, reconnect."""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    """Why a room's socket closed (the server's `realtime/protocol.py`, docs/protocol.md)."""

    NORMAL = 1000  # a normal close
    GOING_AWAY = 1001  # the server is shutting down
    PROTOCOL_ERROR = 1002  # the client broke RFC 6455
    NO_STATUS = 1005  # a close frame without a code
    ABNORMAL = 1006  # the connection was lost without a close frame (never on the wire)
    MESSAGE_TOO_BIG = 1009  # a frame over the server's hard limit (1 MiB)
    INTERNAL_ERROR = 1011  # the server failed, or its database was unreachable
    HEARTBEAT_TIMEOUT = 4005  # no frame from the client for two heartbeat intervals
    PAYLOAD_TOO_LARGE = 4008  # a frame over the size limit (do not send it again)
    SLOW_CONSUMER = 4009  # the client did not read its frames
    RATE_LIMITED = 4029  # the client kept sending faster than allowed
    CONNECTION_LIMIT = 4030  # too many open sockets for this token or address
    ROOM_FULL = 4031  # the tournament room has as many watchers as it may
    BAD_REQUEST = 4500  # the URL is malformed: the id, `since` or `epoch`
    AUTH_REQUIRED = 4501  # no token
    TOKEN_EXPIRED = 4502  # the token has expired
    INVALID_TOKEN = 4503  # the token cannot be used (revoked, forged, ...)
    NOT_FOUND = 4504  # no such match or tournament
    ORIGIN_NOT_ALLOWED = 4506  # the origin may not connect


FINAL_FROM = 4500  # from here on, the same URL with the same token cannot succeed


def reconnects(code: int) -> bool:
    """Whether a room reconnects by itself after a close with this code."""
    return code < FINAL_FROM
