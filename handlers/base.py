"""BaseHandler: services, bearer auth, bounded JSON bodies, idempotent writes, one error writer."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tornado import web

from handlers.errors import ApiError, bad_request, describe, is_expected
from realtime.limits import client_ip, retry_after_ms
from storage.base import IdempotencyRecord
from tournament.roles import Principal

if TYPE_CHECKING:
    from handlers.app import Services

log = logging.getLogger(__name__)

ID = r"[A-Za-z0-9_-]{1,64}"  # every id in a route
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")
IDEMPOTENCY_TTL_S = 24 * 3600

Reply = tuple[int, dict[str, Any]]


@web.stream_request_body
class BaseHandler(web.RequestHandler):
    """JSON in and out. Bodies are streamed so an oversized one is refused with 413, not read."""

    services: Services

    def initialize(self, services: Services) -> None:
        self.services = services
        self._chunks: list[bytes] = []
        self._received = 0

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        length = self.request.headers.get("Content-Length")
        if length and length.isascii() and length.isdigit() and int(length) > self.services.config.max_body_bytes:
            raise self._too_large()

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self.services.config.max_body_bytes:
            self._chunks.append(chunk)

    def _too_large(self) -> ApiError:
        limit = self.services.config.max_body_bytes
        return ApiError(413, "payload_too_large", f"request bodies are limited to {limit} bytes",
                        limit_bytes=limit)

    @property
    def body(self) -> bytes:
        if self._received > self.services.config.max_body_bytes:
            raise self._too_large()
        return b"".join(self._chunks)

    def json_body(self) -> dict[str, Any]:
        """The body as a JSON object ({} when empty). Raises ApiError 400 or 413."""
        raw = self.body
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON: {e}") from None
        except RecursionError:
            raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
        if not isinstance(value, dict):
            raise bad_request("the body must be a JSON object")
        return value

    @property
    def client_ip(self) -> str:
        """The caller's address (X-Forwarded-For believed only from trusted proxies)."""
        return client_ip(self.request.remote_ip or "", self.request.headers.get("X-Forwarded-For"),
                         self.services.config.trusted_proxies)

    def get_current_user(self) -> Principal | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            return None
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "authentication_required", "use 'Authorization: Bearer <token>'")
        return self.services.tokens.decode(token.strip())

    def user(self) -> Principal:
        """The authenticated user. Raises ApiError 401 (or AuthError) without a usable token."""
        principal = self.current_user
        if principal is None:
            raise ApiError(401, "authentication_required", "this route needs a bearer token")
        assert isinstance(principal, Principal)
        return principal

    def if_match_version(self) -> int | None:
        """The version in an `If-Match` header, if any. Raises ApiError 400."""
        value = self.request.headers.get("If-Match")
        if value is None:
            return None
        digits = value.strip().removeprefix("W/").strip('"')
        if not (digits.isascii() and digits.isdigit()):
            raise bad_request("If-Match must be a match version number")
        return int(digits)

    def reply(self, status: int, payload: dict[str, Any]) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload))

    async def write_once(self, operation: Callable[[], Awaitable[Reply]]) -> None:
        """Authenticate, then run a write at most once per `Idempotency-Key` and user.

        A retry with the same key and request gets the first answer again (header
        `Idempotent-Replayed: true`); the same key with another request is a 422; a retry
        while the first is still running is a 409. Failed writes keep no record; keys are
        forgotten after IDEMPOTENCY_TTL_S.
        """
        user = self.user()
        wait = self.services.limits.writes_by_user.check(user.user_id)
        if wait:
            raise ApiError(429, "rate_limit_exceeded", "too many writes; slow down",
                           retry_after_ms=retry_after_ms(wait))
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            self.reply(*await operation())
            return
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise bad_request("Idempotency-Key must be 1 to 128 printable ASCII characters")
        store, now = self.services.store, self.services.clock()
        scope = f"{user.user_id}|{key}"
        fingerprint = hashlib.sha256(
            b"\n".join([self.request.method.encode(), self.request.path.encode(), self.body])
        ).hexdigest()
        earlier = await store.claim_idempotency_key(scope, fingerprint, now)
        if earlier is not None and earlier.created_at < now - IDEMPOTENCY_TTL_S:
            await store.release_idempotency_key(scope)
            earlier = await store.claim_idempotency_key(scope, fingerprint, now)
        if earlier is not None:
            self._replay(earlier, fingerprint)
            return
        try:
            status, payload = await operation()
            location = self._headers.get("Location")
            await store.complete_idempotency_key(scope, status, {"payload": payload, "location": location})
        except BaseException:
            await store.release_idempotency_key(scope)
            raise
        self.reply(status, payload)

    def _replay(self, earlier: IdempotencyRecord, fingerprint: str) -> None:
        if earlier.fingerprint != fingerprint:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
        if earlier.status is None or earlier.body is None:
            raise ApiError(409, "request_in_progress", "a request with this Idempotency-Key is still being handled")
        self.set_header("Idempotent-Replayed", "true")
        if earlier.body["location"]:
            self.set_header("Location", earlier.body["location"])
        self.reply(earlier.status, earlier.body["payload"])

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs["exc_info"][1] if "exc_info" in kwargs else None
        status, body = describe(exc, status_code)
        self.clear()
        self.set_default_headers()
        if status == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="livebracket"')
        if "retry_after_ms" in body["error"]:
            self.set_header("Retry-After", str(-(-body["error"]["retry_after_ms"] // 1000)))
        self.set_status(status)
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        if is_expected(value):
            return  # a refusal answered on purpose: the access log line says enough
        super().log_exception(typ, value, tb)


class NotFoundHandler(BaseHandler):
    """Every path no route matches: a JSON 404 rather than Tornado's HTML page."""

    def prepare(self) -> None:
        raise ApiError(404, "not_found", f"no route for {self.request.path}")
