"""ws/outbox.py: flushes handed over during one callback run together, right after it."""

from __future__ import annotations

import asyncio

import pytest
from confide_server.ws.outbox import Outbox


async def test_flushes_run_once_each_in_order_after_the_current_callback() -> None:
    outbox, ran = Outbox(), []
    outbox.later(lambda: ran.append("a"))
    outbox.later(lambda: ran.append("b"))
    assert ran == []  # nothing runs inside the callback that handed them over
    await asyncio.sleep(0)
    assert ran == ["a", "b"]
    outbox.later(lambda: ran.append("c"))  # a new round schedules itself again
    await asyncio.sleep(0)
    assert ran == ["a", "b", "c"]


async def test_a_failing_flush_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    outbox, ran = Outbox(), []

    def broken() -> None:
        raise OSError("connection reset")

    outbox.later(broken)
    outbox.later(lambda: ran.append("after"))
    await asyncio.sleep(0)
    assert ran == ["after"]
    assert "writing a connection's frames failed" in caplog.text
