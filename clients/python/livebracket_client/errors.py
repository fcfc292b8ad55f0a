"""The client's exceptions: one family, each carrying the server's stable error `code`."""

from __future__ import annotations

from typing import Any


class LiveBracketError(Exception):
    """Anything the server (or the way to it) refused: switch on `code`, show `message`.

    `details` holds the error's other fields as the server sent them (`field`, `state`,
    `retry_after_ms`, `reason`, ...).
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class ApiError(LiveBracketError):
    """A REST call that failed: the HTTP `status` (0 when no answer came: `network_error`,
    `timeout`) and the body's `{"error": {"code", "message", ...}}`."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, details)
        self.status = status

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class CommandError(LiveBracketError):
    """A socket command that was not applied: the server's error frame for it, or
    `not_connected` (nothing was sent), `connection_lost` (sent, but the socket closed before
    its answer: read the state in the next snapshot or event before sending it again) or
    `timeout` (no answer in time)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None,
                 command: str = "", ref: str | int | None = None) -> None:
        super().__init__(code, message, details)
        self.command = command
        self.ref = ref


class RoomClosed(LiveBracketError):
    """A room that will not reconnect by itself: the server closed it with a code of 4500 or
    more (a malformed URL, a refused token, an unknown match, a refused origin), or refused the
    upgrade with an HTTP 4xx. `close_code` is the WebSocket close code (None for an HTTP
    refusal, whose status is in `details["status"]`); `code` and `message` are the refusal's
    error frame's, or the close reason's when none came."""

    def __init__(self, path: str, close_code: int | None, code: str, message: str,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, details)
        self.path = path
        self.close_code = close_code

    def __str__(self) -> str:
        how = f"close {self.close_code}" if self.close_code is not None else f"HTTP {self.details.get('status')}"
        return f"{self.path}: {how} {self.code}: {self.message}"
