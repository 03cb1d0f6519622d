"""Stopping background tasks cleanly: cancelled, then waited for.

The relay's long-lived tasks (writer, sweeper, fan-out listeners, cut-off watcher) must have
finished unwinding before the engine they use is disposed of, or shutdown would race them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def cancel_all(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait until each has finished unwinding."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
