"""The plugin's event loop, on a thread of its own: the fixtures' clients run their I/O there, so
tests call them synchronously and no test's own loop (pytest-asyncio's, pytest-tornado's) is
touched."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """An expected frame, delivery or event did not come in time; the message says what came."""


class LoopThread:
    """An asyncio loop running on a daemon thread; `run(coro)` from any other thread."""

    def __init__(self, name: str = "livebracket-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> LoopThread:
        self._thread.start()
        return self

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the loop and wait for its result (or exception). The coroutine bounds
        its own waits; calling this from the loop's own thread raises RuntimeError."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("LoopThread.run called from its own loop: await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        """Cancel what still runs on the loop, stop it and close it."""
        if not self._thread.is_alive():
            return
        self.run(_cancel_others())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


async def _cancel_others() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
