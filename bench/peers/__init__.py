"""The peers livebracket is measured against: a bare Tornado fan-out, Django Channels, and the
send floor; `until_signalled` is how the two asyncio ones run until bench/targets.py stops them."""

from __future__ import annotations

import asyncio
import signal


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM (a peer's server is stopped after it)."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
