"""BaseHandler: services, bearer auth, bounded JSON bodies, idempotent writes, one error writer."""

from __future__ import annotations

import hashlib
import http
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tornado import web

from realtime.errors import INTERNAL, ApiError, Problem, describe, is_expected
from realtime.limits import client_ip, retry_after_ms
from tournament import fields
from tournament.roles import Principal
from tournament.store import IdempotencyRecord, StorageError
from tournament.tokens import AuthError

if TYPE_CHECKING:
    from handlers.services import Services

log = logging.getLogger(__name__)

ID = r"[A-Za-z0-9_-]{1,64}"  # every id in a route
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")

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

    async def prepare(self) -> None:
        length = self.request.headers.get("Content-Length")  # Tornado has checked it is digits
        limit = self.services.config.max_body_bytes
        if length and length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > limit):
            raise self._too_large()
        try:
            principal = self.current_user
        except (ApiError, AuthError):
            return  # refused when the route asks for its user
        if isinstance(principal, Principal) and principal.tournament_id is not None:
            try:
                await self.services.links.check(principal)  # an event link revoked, or ended
            except (AuthError, StorageError) as e:
                self._link_refusal = e  # raised when the route asks for its user: public routes answer

    _link_refusal: Exception | None = None

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
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_json", "the body is not valid UTF-8") from None
        except ValueError as e:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON: {e}") from None
        except RecursionError:
            raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
        if not isinstance(value, dict):
            raise fields.bad_request("the body must be a JSON object")
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
        if self._link_refusal is not None:
            raise self._link_refusal
        assert isinstance(principal, Principal)
        return principal

    def if_match_version(self) -> int | None:
        """The version in an `If-Match` header, if any. Raises SchemaError (400) or
        InvalidValueError (422)."""
        value = self.request.headers.get("If-Match")
        if value is None:
            return None
        return fields.whole_number(value.strip().removeprefix("W/").strip('"'), "If-Match", 0, 2**53)

    def query(self, name: str) -> str | None:
        """A query argument as sent (Tornado's own reader strips spaces: `1 ` is not a number)."""
        return self.get_query_argument(name, None, strip=False)

    def cursor(self) -> str | None:
        """The `after` query argument of a paged list: an id. Raises SchemaError, InvalidValueError."""
        after = self.query("after")
        return None if after is None else fields.identifier({"after": after}, "after")

    def query_number(self, name: str, default: int, low: int, high: int) -> int:
        """A whole-number query argument. Raises SchemaError (400) or InvalidValueError (422)."""
        raw = self.query(name)
        return default if raw is None else fields.whole_number(raw, name, low, high)

    def reply(self, status: int, payload: dict[str, Any]) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload))

    def count_write(self) -> Principal:
        """The authenticated user, once this write is counted against their write rate.
        Raises ApiError 401 or 429."""
        user = self.user()
        wait = self.services.limits.writes_by_user.check(user.key)
        if wait:
            raise ApiError(429, "rate_limit_exceeded", "too many writes; slow down",
                           retry_after_ms=retry_after_ms(wait))
        return user

    async def once_per_key(self, user: Principal, operation: Callable[[], Awaitable[Reply]]) -> None:
        """Run a write at most once per `Idempotency-Key` and user, and answer it.

        A retry with the same key and request gets the first answer again (header
        `Idempotent-Replayed: true`); the same key with another request is a 422; a retry
        while the first is still running is a 409 (with `retry_after_ms`: a claim left by a
        request that was cut off is taken over after `idempotency_claim_s`). Failed writes
        keep no record; keys are forgotten after `idempotency_ttl_s`.
        """
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            self.reply(*await operation())
            return
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise fields.bad_request("Idempotency-Key must be 1 to 128 printable ASCII characters")
        store, config, now = self.services.store, self.services.config, self.services.clock()
        scope = f"{user.key}|{key}"
        fingerprint = hashlib.sha256(
            b"\n".join([self.request.method.encode(), self.request.path.encode(), self.body])
        ).hexdigest()
        earlier = await store.claim_idempotency_key(scope, fingerprint, now, now - config.idempotency_claim_s)
        if earlier is not None and earlier.created_at < now - config.idempotency_ttl_s:
            await store.release_idempotency_key(scope)
            earlier = await store.claim_idempotency_key(scope, fingerprint, now, now - config.idempotency_claim_s)
        if earlier is not None:
            self._replay(earlier, fingerprint, now)
            return
        try:
            status, payload = await operation()
            location = self._headers.get("Location")
            await store.complete_idempotency_key(scope, status, {"payload": payload, "location": location})
        except BaseException:
            await store.release_idempotency_key(scope)
            raise
        self.reply(status, payload)

    def _replay(self, earlier: IdempotencyRecord, fingerprint: str, now: float) -> None:
        if earlier.fingerprint != fingerprint:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
        if earlier.status is None or earlier.body is None:
            taken_over_in = earlier.created_at + self.services.config.idempotency_claim_s - now
            raise ApiError(409, "request_in_progress", "a request with this Idempotency-Key is still being handled",
                           retry_after_ms=retry_after_ms(max(taken_over_in, 0.001)))
        self.set_header("Idempotent-Replayed", "true")
        if earlier.body["location"]:
            self.set_header("Location", earlier.body["location"])
        self.reply(earlier.status, earlier.body["payload"])

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs["exc_info"][1] if "exc_info" in kwargs else None
        problem = describe(exc) if exc is not None and not isinstance(exc, web.HTTPError) else \
            http_problem(exc.status_code if isinstance(exc, web.HTTPError) else status_code)
        write_problem(self, problem)

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        if is_expected(value) or isinstance(value, web.HTTPError):
            return  # a refusal answered on purpose: the access log line says enough
        super().log_exception(typ, value, tb)


T = TypeVar("T", bound=Any)


def paged(items: list[T], limit: int | None) -> tuple[list[T], str | None]:
    """A page read with `limit + 1` items: (the page, the id of its last item when more follow)."""
    if limit is None or len(items) <= limit:
        return items, None
    return items[:limit], items[limit - 1].id


def write_problem(handler: web.RequestHandler, problem: Problem) -> None:
    """Answer with `problem`: its status, the JSON error body and the headers it implies. The
    one error writer of every handler (BaseHandler's and the static files')."""
    handler.clear()
    handler.set_default_headers()
    handler.set_header("Content-Type", "application/json; charset=utf-8")
    if problem.status == 401:
        handler.set_header("WWW-Authenticate", 'Bearer realm="livebracket"')
    if "retry_after_ms" in problem.details:
        handler.set_header("Retry-After", str(-(-problem.details["retry_after_ms"] // 1000)))
    handler.set_status(problem.status)
    handler.finish(json.dumps(problem.body()))


def http_problem(status: int) -> Problem:
    """A plain HTTP refusal (a method not allowed, say) as a problem; any 5xx is INTERNAL."""
    if status >= 500:
        return INTERNAL
    phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error"
    return Problem(status, phrase.lower().replace(" ", "_").replace("-", "_"), phrase)


class NotFoundHandler(BaseHandler):
    """Every path no route matches: a JSON 404 rather than Tornado's HTML page."""

    async def prepare(self) -> None:
        raise ApiError(404, "not_found", f"no route for {self.request.path}")
