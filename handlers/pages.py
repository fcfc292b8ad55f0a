"""The dashboards: public HTML pages, their static files, and QR codes drawn as SVG.

Pages hold no data: their scripts read it with the viewer's token (REST and the sockets).
The QR route is a pure function of its input, rate-limited per address; POST keeps a link's
token out of the access log.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import segno
from tornado import web

from handlers.base import ID, BaseHandler, http_problem, write_problem
from realtime.errors import ApiError
from tournament.fields import bad_request
from realtime.limits import retry_after_ms

if TYPE_CHECKING:
    from handlers.services import Services

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
QR_MAX_CHARS = 512  # a link with a token is about 330 characters; drawing 512 takes ~15 ms

# Same-origin everything; blob: for the QR image the organizer page draws from a POST.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'")


def _protect(handler: web.RequestHandler) -> None:
    handler.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    handler.set_header("Referrer-Policy", "no-referrer")  # a first load may carry ?token=
    handler.set_header("X-Content-Type-Options", "nosniff")


class PageHandler(web.RequestHandler):
    """A dashboard page: `static/page.html` with the route's page name and title; the page's
    script (`static/js/pages/<name>.js`) reads the ids from the URL."""

    def initialize(self, services: Services, page: str, title: str) -> None:
        self.services = services
        self.page = page
        self.title = title

    def get_template_path(self) -> str:
        return str(STATIC_DIR)

    def set_default_headers(self) -> None:
        _protect(self)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")

    def get(self, *ids: str) -> None:
        self.render("page.html", name=self.page, title=self.title)

    def head(self, *ids: str) -> None:
        self.finish()


class StaticHandler(web.StaticFileHandler):
    """Scripts and styles under /static/; refusals in the API's JSON error shape."""

    def initialize(self, services: Services) -> None:  # type: ignore[override]
        super().initialize(path=str(STATIC_DIR))

    def set_default_headers(self) -> None:
        _protect(self)

    def parse_url_path(self, url_path: str) -> str:
        """Raises HTTPError 404 for a NUL: no file has one in its name, and os.stat raises on it."""
        if "\x00" in url_path:
            raise web.HTTPError(404)
        return super().parse_url_path(url_path)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        write_problem(self, http_problem(status_code))  # 404 not_found, 403 forbidden; 5xx internal_error

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")  # revalidated by ETag: no stale script after an upgrade
        # Public code, no secret in it: any page or overlay tool may import the modules (live.js,
        # docs/clients.md); module scripts from another origin need CORS.
        self.set_header("Access-Control-Allow-Origin", "*")


class QrHandler(BaseHandler):
    """GET /qr.svg?data=... or POST /qr.svg {"data": ...}: a QR code of `data` as SVG."""

    def get(self) -> None:
        self._answer(self.get_query_argument("data", ""))

    def post(self) -> None:
        data = self.json_body().get("data", "")
        if not isinstance(data, str):
            raise bad_request("data must be a string", "data")
        self._answer(data)

    def _answer(self, data: str) -> None:
        """Raises ApiError 400 for empty data, 422 for data over QR_MAX_CHARS, 429 past the
        address's share of the write rate (drawing is CPU time on the event loop)."""
        wait = self.services.limits.writes_by_user.check(f"qr@{self.client_ip}")
        if wait:
            raise ApiError(429, "rate_limit_exceeded", "too many QR codes; slow down",
                           retry_after_ms=retry_after_ms(wait))
        if not data:
            raise bad_request("data is required", "data")
        if len(data) > QR_MAX_CHARS:
            raise ApiError(422, "invalid_value", f"data is limited to {QR_MAX_CHARS} characters", field="data")
        out = io.BytesIO()
        segno.make(data, error="l", micro=False).save(out, kind="svg", scale=6, border=4, xmldecl=False,
                                                      title="QR code", dark="#000", light="#fff")
        self.set_header("Content-Type", "image/svg+xml")
        self.set_header("Cache-Control", "no-store")  # it may encode a token
        self.finish(out.getvalue())


routes = [
    (r"/", PageHandler, {"page": "index", "title": "Tournaments"}),
    (rf"/tournaments/({ID})/?", PageHandler, {"page": "tournament", "title": "Tournament"}),
    (rf"/matches/({ID})/?", PageHandler, {"page": "match", "title": "Match"}),
    (rf"/overlay/match/({ID})/?", PageHandler, {"page": "overlay", "title": "Overlay"}),
    (r"/organize/?", PageHandler, {"page": "organize", "title": "Organize"}),
    (rf"/organize/({ID})/?", PageHandler, {"page": "organize", "title": "Organize"}),
    (rf"/play/({ID})/?", PageHandler, {"page": "play", "title": "Play"}),
    (rf"/draw/({ID})/?", PageHandler, {"page": "draw", "title": "Draw"}),
    (rf"/board/({ID})/?", PageHandler, {"page": "board", "title": "Queue board"}),
    (rf"/me/({ID})/?", PageHandler, {"page": "me", "title": "My matches"}),
    (rf"/join/({ID})/?", PageHandler, {"page": "join", "title": "Join"}),
    (rf"/register/({ID})/?", PageHandler, {"page": "register", "title": "Register"}),
    (rf"/organize/({ID})/links/?", PageHandler, {"page": "links", "title": "Player links"}),
    (rf"/overlay/stream/({ID})/?", PageHandler, {"page": "stream", "title": "Stream overlay"}),
    (r"/static/(.*)", StaticHandler),
    (r"/qr\.svg", QrHandler),
]
