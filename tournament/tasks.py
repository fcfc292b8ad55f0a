"""Stopping background tasks for good, at close: `await stop_tasks(tasks)`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

CANCEL_AGAIN_S = 0.1  # how long a cancelled task may take before it is cancelled again


async def stop_tasks(tasks: Iterable[asyncio.Future[Any]], again_s: float = CANCEL_AGAIN_S) -> None:
    """Cancel `tasks` and return once every one has ended, its exception retrieved.

    A task can outlive one cancellation: a call it awaits may catch the CancelledError and
    carry on (seen: the shared counts' sender, in about half the shutdowns of a node whose
    peer had been killed, left waiting for its next round trip until the process was killed
    30 s later). So whatever is still running after `again_s` is cancelled again, until it
    ends; a loop that swallows every cancellation would keep this waiting, and says so.
    """
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    rounds = 0
    while pending:
        _, pending = await asyncio.wait(pending, timeout=again_s)
        rounds += 1
        for task in pending:
            if rounds == 10:
                log.warning("a task goes on after 10 cancellations: %r", task)
            task.cancel()
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved, as gather(return_exceptions=True) does: no warning at exit
