"""make_app: the Tornado application from the services container and every module's routes."""

from __future__ import annotations

import logging
import re
from typing import Any

from tornado import web

from handlers import (brackets, draws, exports, health, links, matches, metrics, openapi, pages, participants,
                      registration, sockets, sse, stations, teams, tokens, tournaments, webhooks)
from handlers.base import NotFoundHandler
from handlers.services import Services

access_log = logging.getLogger("tornado.access")
_TOKEN_IN_QUERY = re.compile(r"(?i)([?&](?:token|access_token)=)[^&#\s]*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def scrub(text: str) -> str:
    """`text` with every token replaced by `***`: a `token=` in a query, and any JWT."""
    return _JWT.sub("***", _TOKEN_IN_QUERY.sub(r"\1***", text))


class ScrubTokens(logging.Filter):
    """Keeps tokens out of every log line it passes, tracebacks included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def scrub_logs(logger: logging.Logger | None = None) -> None:
    """Put ScrubTokens on every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, ScrubTokens) for f in handler.filters):
            handler.addFilter(ScrubTokens())


def log_request(handler: web.RequestHandler) -> None:
    """Tornado's access log line, without tokens."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    request = handler.request
    access_log.log(level, "%d %s %s (%s) %.2fms", status, request.method, scrub(request.uri or ""),
                   request.remote_ip, 1000.0 * request.request_time())


def _with_services(route: tuple[Any, ...], services: Services) -> tuple[str, Any, dict[str, Any]]:
    """(pattern, handler[, kwargs]) -> the rule Tornado wants, every handler given `services`."""
    pattern, handler, *rest = route
    return pattern, handler, {"services": services, **(rest[0] if rest else {})}


def make_app(services: Services, **settings: Any) -> web.Application:
    routes: list[tuple[Any, ...]] = [
        *tournaments.routes, *participants.routes, *brackets.routes, *exports.routes, *draws.routes,
        *matches.routes, *stations.routes, *teams.routes, *links.routes, *registration.routes, *webhooks.routes,
        *tokens.routes,
        *health.routes, *sockets.routes, *sse.routes, *metrics.routes, *openapi.routes, *pages.routes]
    # No websocket_ping_interval: Tornado's protocol pings would be a task and a timer per socket
    # (1.3 KB of each idle one), and the heartbeat sweep (realtime/heartbeat.py) already closes
    # every client, dead TCP peers among them, that sends nothing for two intervals.
    # Frames over max_frame_bytes are refused in on_message (4008); Tornado drops larger ones (1009).
    settings.setdefault("websocket_max_message_size", services.config.max_message_bytes)
    return web.Application(
        [_with_services(route, services) for route in routes],
        default_handler_class=NotFoundHandler,
        default_handler_args={"services": services},
        log_function=log_request,
        **settings,
    )
