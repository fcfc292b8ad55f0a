"""tournament/tasks.py: a close stops its background tasks, even one that swallows a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from tournament.tasks import stop_tasks


@pytest.mark.gen_test
async def test_a_task_that_swallows_its_cancellation_is_cancelled_again() -> None:
    """One task catches its first CancelledError and waits again (as the shared counts' sender
    once did); one fails; one has ended already: stop_tasks returns with all three ended."""
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()
        await asyncio.Event().wait()  # the second cancellation ends it

    async def failing() -> None:
        raise RuntimeError("a bug")

    done = asyncio.create_task(asyncio.sleep(0))
    await done
    tasks = [asyncio.create_task(stubborn()), asyncio.create_task(failing()), done]
    await asyncio.sleep(0)
    await stop_tasks(tasks, again_s=0.01)
    assert swallowed.is_set() and all(task.done() for task in tasks)
    assert tasks[0].cancelled() and isinstance(tasks[1].exception(), RuntimeError)
