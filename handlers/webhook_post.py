"""The webhooks' outbound HTTP: one POST with Tornado's client (no redirect followed, the
answer's body discarded), and whether a URL's host and port reach this server itself."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.parse

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from tournament.errors import InvalidValueError

RESOLVE_TIMEOUT_S = 5.0
MAX_CONCURRENT_POSTS = 50  # every webhook sends one at a time; this bounds them all


class TornadoPost:
    """`outbox.Post` over a client of its own (the process's shared one keeps 10 at a time)."""

    def __init__(self) -> None:
        self._client = AsyncHTTPClient(force_instance=True, max_clients=MAX_CONCURRENT_POSTS)

    async def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        """The answer's HTTP status. Raises what stopped an answer (refused, timed out, TLS)."""
        request = HTTPRequest(url, method="POST", body=body, headers=headers, follow_redirects=False,
                              connect_timeout=timeout_s, request_timeout=timeout_s,
                              streaming_callback=lambda chunk: None)  # a receiver's page is not kept
        response = await self._client.fetch(request, raise_error=False)
        if response.code == 599:  # no answer: the error says why
            raise response.error or OSError("no answer")
        return response.code

    def close(self) -> None:
        self._client.close()


def _is_local(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `ip` is one of this machine's addresses (a socket can be bound to it)."""
    if ip.is_loopback or ip.is_unspecified:
        return True
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((str(ip), 0))
        except OSError:
            return False
    return True


class ThisServer:
    """`webhooks.IsThisServer` for a server listening on `port`, reached at `public_url`."""

    def __init__(self, port: int, public_url: str) -> None:
        self._port = port
        public = urllib.parse.urlsplit(public_url)
        self._public = (public.hostname or "", public.port or (443 if public.scheme == "https" else 80))

    async def __call__(self, host: str, port: int) -> bool:
        """Raises InvalidValueError when the host cannot be resolved."""
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S)
        except (OSError, UnicodeError, asyncio.TimeoutError) as e:  # UnicodeError: not a host name (IDNA)
            raise InvalidValueError(f"url's host {host!r} cannot be resolved", field="url",
                                    code="invalid_webhook_url") from e
        if (host.lower(), port) == self._public:
            return True
        if port != self._port:
            return False
        return any(_is_local(ipaddress.ip_address(str(sockaddr[0]).split("%")[0])) for *_, sockaddr in infos)
