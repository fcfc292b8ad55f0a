"""Debian's Chromium driven by Playwright's async API, on the running asyncio loop."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = os.environ.get("LIVEBRACKET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, closed on exit (never `playwright install`: it cannot download here)."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (make test does)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def no_sideways_scroll(page: Page) -> bool:
    """Whether the page is no wider than its viewport. Against the viewport's own width, not
    `innerWidth`: a mobile page wider than the screen widens its layout viewport to fit, so
    `scrollWidth <= innerWidth` holds even when it overflows."""
    size = page.viewport_size
    assert size is not None
    return bool(await page.evaluate("document.documentElement.scrollWidth") <= size["width"])
