"""The dashboard routes over real HTTP: pages, their scripts, and the QR code route."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from handlers.services import Services
from handlers.pages import QR_MAX_CHARS, STATIC_DIR
from realtime.limits import RateLimiter
from realtime.protocol import CloseCode
from tests.conftest import Api

PAGES = {
    "/": "index", "/tournaments/t_1": "tournament", "/matches/m_1/": "match", "/overlay/match/m_1": "overlay",
    "/organize": "organize", "/organize/t_1": "organize", "/play/m_1": "play", "/board/t_1": "board",
    "/organize/t_1/links": "links", "/overlay/stream/t_1": "stream",
    "/me/t_1": "me", "/join/t_1": "join", "/register/t_1": "register",
}


async def fetch(api: Api, path: str, **kw: Any) -> HTTPResponse:
    return await api.client.fetch(api.base_url + path, raise_error=False, **kw)


@pytest.mark.gen_test
async def test_every_page_is_public_html_with_its_script(api: Api) -> None:
    """Pages need no token; each loads its own module and is served with a strict policy."""
    for path, module in PAGES.items():
        response = await fetch(api, path)
        assert response.code == 200, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        script = re.search(rb'<script type="module" src="(/static/js/pages/\w+\.js)">', response.body)
        assert script is not None and script.group(1).decode() == f"/static/js/pages/{module}.js"
        js = await fetch(api, script.group(1).decode())
        assert js.code == 200 and "javascript" in js.headers["Content-Type"]


@pytest.mark.gen_test
async def test_bad_page_and_static_paths_are_404(api: Api) -> None:
    """A malformed id matches no page; unknown or escaping static paths are refused."""
    for path in ["/tournaments/bad%20id", "/matches/", "/static/js/nope.js", "/static/../server.py"]:
        assert (await fetch(api, path)).code in (403, 404), path


def test_every_module_import_resolves() -> None:
    """Each `import ... from "./x.js"` in static/js names a file that exists (no bundler checks it)."""
    for module in (STATIC_DIR / "js").rglob("*.js"):
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name}: {target}"
        assert not re.search(r'from "https?:', module.read_text())  # no CDN


@pytest.mark.gen_test
async def test_qr_code_as_svg_by_get_and_post(api: Api) -> None:
    """GET ?data= and POST {"data"} both answer an SVG; nothing is cached."""
    got = await fetch(api, "/qr.svg?data=http%3A%2F%2Flan%3A8888%2Ftournaments%2Ft_1")
    assert got.code == 200 and got.headers["Content-Type"] == "image/svg+xml"
    assert got.body.startswith(b"<svg") and got.headers["Cache-Control"] == "no-store"
    posted = await fetch(api, "/qr.svg", method="POST", body='{"data": "http://lan:8888/tournaments/t_1"}')
    assert posted.code == 200 and posted.body == got.body


@pytest.mark.gen_test
async def test_qr_code_refuses_bad_input(api: Api) -> None:
    """No data is a 400, a wrong type a 400, too much data a 422: JSON errors, as everywhere."""
    cases = [
        ("GET", "/qr.svg", None, 400, "invalid_schema"),
        ("GET", "/qr.svg?data=", None, 400, "invalid_schema"),
        ("GET", f"/qr.svg?data={'x' * (QR_MAX_CHARS + 1)}", None, 422, "invalid_value"),
        ("POST", "/qr.svg", {"data": 7}, 400, "invalid_schema"),
        ("POST", "/qr.svg", {}, 400, "invalid_schema"),
        ("POST", "/qr.svg", {"data": "x" * (QR_MAX_CHARS + 1)}, 422, "invalid_value"),
    ]
    for method, path, body, status, code in cases:
        got, data = await api.request(method, path, body, as_=None)
        assert (got, data["error"]["code"]) == (status, code), (method, path)
    assert (await fetch(api, f"/qr.svg?data={'x' * QR_MAX_CHARS}")).code == 200


def test_static_dir_holds_no_secret_or_build_output() -> None:
    """Only hand-written HTML, CSS and JS are served."""
    kinds = {p.suffix for p in Path(STATIC_DIR).rglob("*") if p.is_file()}
    assert kinds <= {".html", ".css", ".js"}


@pytest.mark.gen_test
async def test_qr_codes_are_rate_limited_per_address(api: Api, services: Services) -> None:
    """Drawing takes CPU on the event loop: an address past its share gets a 429 with Retry-After."""
    services.limits.writes_by_user = RateLimiter(1.0, 2, services.clock)
    codes = [(await fetch(api, "/qr.svg?data=x")).code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = await fetch(api, "/qr.svg?data=x")
    assert refused.headers["Retry-After"] == "1" and b'"rate_limit_exceeded"' in refused.body


def test_the_pages_close_codes_are_the_servers() -> None:
    """static/js/closecodes.js names every CloseCode with its value, and no page compares a
    close code or reason of its own."""
    text = (STATIC_DIR / "js" / "closecodes.js").read_text()
    block = re.search(r"export const CLOSE = Object\.freeze\(\{(.*?)\}\);", text, re.S)
    assert block is not None
    pages = dict(re.findall(r"(\w+): (\d+),", block.group(1)))
    assert {name: int(value) for name, value in pages.items()} == {c.name: c.value for c in CloseCode}
    assert "code < 4500" in text and all(not c.reconnect for c in CloseCode if c >= 4500)
    for script in (STATIC_DIR / "js").rglob("*.js"):
        if script.name != "closecodes.js":
            source = script.read_text()
            assert not re.search(r"(close\(|code\s*[=!<>]=*\s*|Set\(\[\s*)[14]\d{3}\b", source), script
            assert "reason ===" not in source, script


def test_the_pages_tiebreaks_are_the_servers() -> None:
    """static/js/matches.js names every tiebreak of tournament/tiebreaks.py, in its order."""
    from tournament.tiebreaks import CRITERIA

    text = (STATIC_DIR / "js" / "matches.js").read_text()
    block = re.search(r"export const TIEBREAKS = \{(.*?)\};", text, re.S)
    assert block is not None
    assert tuple(re.findall(r"^\s*(\w+):", block.group(1), re.M)) == CRITERIA
