"""Waiting with a time limit without ``asyncio.wait_for``'s cancellation race.

On Python 3.10/3.11 (the robot runs 3.10), ``wait_for(event.wait(), t)`` returns normally when
the awaited thing completes in the same loop iteration as a cancellation, swallowing the
cancellation (CPython gh-86296, fixed in 3.12). A task looping on it can then never be stopped.
``asyncio.wait`` has no such race, so these helpers build on it.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


async def wait_event(event: asyncio.Event, timeout_s: float | None) -> bool:
    """Wait until ``event`` is set or ``timeout_s`` passed; True if it is set."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=timeout_s)
    finally:
        waiter.cancel()
    return event.is_set()


async def wait_future(future: asyncio.Future[T], timeout_s: float | None) -> T | None:
    """The future's result, or None if it is not done within ``timeout_s`` (left pending)."""
    await asyncio.wait({future}, timeout=timeout_s)
    return future.result() if future.done() else None
