"""A tiny keep-alive HTTP/1.1 client on asyncio streams: one request at a time per connection.

The benchmark's publishers and the REST ingest clients use it instead of a general client so
that the load generator spends its (shared) CPU on deliveries, not on HTTP machinery.
Loopback only; no TLS, no proxies, no redirects.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class HttpError(Exception):
    """The connection broke or the server answered something this client cannot read."""


class HttpConnection:
    """One persistent connection to host:port; reconnects once if the server closed it."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.headers = headers or {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    def _encode(self, method: str, path: str, body: bytes, headers: dict[str, str] | None) -> bytes:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    async def open(self) -> None:
        if self._writer is None:
            await self._connect()

    def send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Write a request without waiting for its answer (HTTP/1.1 pipelining: the answers
        come back in order through `receive`). The connection must be open."""
        if self._writer is None:
            raise HttpError("not connected")
        self._writer.write(self._encode(method, path, body, headers))

    async def receive(self) -> tuple[int, bytes]:
        """The answer to the oldest request sent and not yet answered. Raises HttpError."""
        try:
            return await self._read_response()
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            self.close()
            raise HttpError(f"connection lost: {e!r}") from e

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send one request and read its answer: (status, body). Raises HttpError."""
        data = self._encode(method, path, body, headers)
        for attempt in (1, 2):
            if self._writer is None:
                await self._connect()
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(data)
                return await self._read_response()
            except (ConnectionError, asyncio.IncompleteReadError) as e:
                self.close()
                if attempt == 2:
                    raise HttpError(f"{method} {path}: {e!r}") from e
        raise AssertionError("unreachable")

    async def _read_response(self) -> tuple[int, bytes]:
        assert self._reader is not None
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise HttpError(f"bad status line {lines[0]!r}") from None
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            body = await self._reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            body = b"".join(parts)
        else:
            body = b""
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    async def json(self, method: str, path: str, payload: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        body = json.dumps(payload).encode() if payload is not None else b""
        status, raw = await self.request(method, path, body, headers)
        return status, json.loads(raw) if raw else None
