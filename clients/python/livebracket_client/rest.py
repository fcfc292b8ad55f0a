"""An async client of the REST API (docs/api.md): JSON in and out, one ApiError, 429s waited out."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from livebracket_client.errors import ApiError

Sleep = Callable[[float], Awaitable[None]]


class RestClient:
    """`await api.post("/api/tournaments", {"name": "Cup"})` is the answer's JSON (None when
    it has no body); any other status raises ApiError with the server's `code`.

    A 429 is waited out and sent again, up to `rate_limit_retries` times and only when the
    server's wait (`retry_after_ms`, else `Retry-After`) is at most `max_retry_wait_s`: the
    server applies nothing of a request it answers with 429, so sending it again is safe for
    every method. Nothing else is retried: a write that failed in another way may have been
    applied (send an `idempotency_key` to make a retry of your own safe).
    """

    def __init__(self, base_url: str, token: str | None = None, *, timeout_s: float = 10.0,
                 rate_limit_retries: int = 2, max_retry_wait_s: float = 10.0,
                 headers: Mapping[str, str] | None = None, sleep: Sleep = asyncio.sleep,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token  # may be replaced (a renewed token); read by every request
        self.rate_limit_retries = rate_limit_retries
        self.max_retry_wait_s = max_retry_wait_s
        self._sleep = sleep
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s, transport=transport,
                                       headers={"Accept": "application/json", **(headers or {})})

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, body: Any = None, *,
                      params: Mapping[str, str | int] | None = None, headers: Mapping[str, str] | None = None,
                      idempotency_key: str | None = None, if_match: int | None = None) -> Any:
        """Send one request (`body` as JSON when not None); the answer's JSON. Raises ApiError:
        the server's status and error body, or status 0 with `network_error` or `timeout`."""
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        if idempotency_key is not None:
            sent["Idempotency-Key"] = idempotency_key
        if if_match is not None:
            sent["If-Match"] = str(if_match)
        retries = 0
        while True:
            response = await self._send(method, path, body, params, sent)
            if response.status_code != 429 or retries >= self.rate_limit_retries:
                return _answer(response)
            wait_s = _retry_after_s(response)
            if wait_s > self.max_retry_wait_s:
                return _answer(response)
            retries += 1
            await self._sleep(wait_s)

    async def _send(self, method: str, path: str, body: Any, params: Mapping[str, str | int] | None,
                    headers: dict[str, str]) -> httpx.Response:
        try:
            return await self._http.request(method, path, json=body, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise ApiError(0, "timeout", f"{method} {path}: no answer in time") from exc
        except httpx.HTTPError as exc:
            raise ApiError(0, "network_error", f"{method} {path}: {exc or type(exc).__name__}") from exc

    async def get(self, path: str, *, params: Mapping[str, str | int] | None = None, **kw: Any) -> Any:
        return await self.request("GET", path, params=params, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.request("POST", path, body, **kw)

    async def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.request("PUT", path, body, **kw)

    async def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.request("PATCH", path, body, **kw)

    async def delete(self, path: str, **kw: Any) -> Any:
        return await self.request("DELETE", path, **kw)


def _answer(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer (None when empty); raises ApiError for any other."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
        if response.is_success:
            raise ApiError(response.status_code, "invalid_response", "the answer is not JSON") from None
    if response.is_success:
        return body
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise ApiError(response.status_code, f"http_{response.status_code}", response.reason_phrase)
    details = {k: v for k, v in error.items() if k not in ("code", "message")}
    raise ApiError(response.status_code, str(error.get("code", f"http_{response.status_code}")),
                   str(error.get("message", response.reason_phrase)), details)


def _retry_after_s(response: httpx.Response) -> float:
    """How long a 429 asks to wait, in seconds: the body's `retry_after_ms` (exact), else the
    `Retry-After` header (whole seconds), else 1 s."""
    try:
        body = response.json()
        ms = body["error"]["retry_after_ms"]
        if isinstance(ms, (int, float)) and not isinstance(ms, bool) and math.isfinite(ms) and ms >= 0:
            return float(ms) / 1000.0
    except (ValueError, KeyError, TypeError):
        pass
    header = response.headers.get("Retry-After", "")
    return float(header) if header.isdigit() else 1.0
