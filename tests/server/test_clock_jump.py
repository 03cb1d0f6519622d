"""Issue 19 §10: a wall clock run eight days ahead and put back loses no queued envelope.

The sweeper deletes by services/sweeper.py's ExpiryClock, which never runs ahead of the
monotonic clock's reckoning; both clocks are pinned here, and the relay's own tables are
swept on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from confide_server.services.sweeper import ExpiryClock, sweep
from confide_server.store.engine import make_engine
from confide_server.store.migrate import upgrade
from confide_server.store.queue import pending
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .helpers import FakeClock
from .storeseed import seed

NOW = 1_800_000_000
DAY = 86_400
MAILBOX = os.urandom(16)
CAPABILITY_HASH = hashlib.sha256(b"capability").digest()
QUEUED = 380


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    with ThreadPoolExecutor(1) as pool:  # Alembic runs an event loop of its own
        pool.submit(upgrade, db_url).result()
    engine = make_engine(db_url)
    await seed(engine, MAILBOX, CAPABILITY_HASH)
    yield engine
    await engine.dispose()


async def queue(engine: AsyncEngine, count: int, expires_at: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO envelopes (id, mailbox_id, body, expires_at) VALUES (:i, :m, :b, :x)"
            ),
            [
                {"i": os.urandom(16), "m": MAILBOX, "b": b"sealed", "x": expires_at}
                for _ in range(count)
            ],
        )


async def test_a_clock_run_ahead_and_put_back_loses_no_queued_envelope(
    engine: AsyncEngine,
) -> None:
    wall, monotonic = FakeClock(NOW), FakeClock(5_000.0)
    expiry = ExpiryClock(wall, monotonic)

    async def tick(seconds: float, jump: float = 0.0) -> dict[str, int]:
        wall.now += seconds + jump
        monotonic.now += seconds
        return await sweep(engine, expiry(), prekey_max_age=365 * DAY)

    await queue(engine, QUEUED, NOW + 7 * DAY)  # a week's TTL, the default
    await queue(engine, 1, NOW + 60)  # a minute's
    assert (await tick(0))["envelopes"] == 0
    # The clock leaps eight days ahead and runs there for two hours: the envelope whose
    # minute is up goes (the sweeper still works), the week-long ones stay.
    assert (await tick(60, jump=8 * DAY))["envelopes"] == 1
    assert (await tick(7_200))["envelopes"] == 0
    # Put back to the real time: every envelope queued for a week is still there.
    assert (await tick(60, jump=-8 * DAY))["envelopes"] == 0
    assert len(await pending(engine, MAILBOX, 1_000, int(wall()))) == QUEUED
    # And they still expire when their week is up by the time that has really passed.
    assert (await tick(7 * DAY - 7_000))["envelopes"] == QUEUED


def test_the_expiry_clock_follows_the_wall_clock_back_at_once_and_ahead_only_by_reckoning() -> None:
    wall, monotonic = FakeClock(NOW), FakeClock(0.0)
    expiry = ExpiryClock(wall, monotonic)
    assert expiry() == NOW
    wall.now += 30
    monotonic.now += 30
    assert expiry() == NOW + 30  # running together
    wall.now += DAY
    monotonic.now += 10
    assert expiry() == NOW + 40  # a leap ahead is not followed
    wall.now = NOW - 100
    assert expiry() == NOW - 100  # a step back is, at once
    wall.now += 0.5
    monotonic.now += 0.2
    assert expiry() == NOW - 99.5  # within a second of the reckoning: followed
