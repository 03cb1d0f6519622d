"""PostgreSQL's batch backend: the idempotency insert decides what is a duplicate."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from confide_server.store.batch import Plan, SendRequest, SendResult, plan_batch
from confide_server.store.batch_postgres import PostgresBatches
from confide_server.store.engine import make_engine
from confide_server.store.migrate import upgrade
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .storeseed import seed

NOW = 1_800_000_000
MAILBOX = os.urandom(16)
CAPABILITY_HASH = hashlib.sha256(b"capability").digest()


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    with ThreadPoolExecutor(1) as pool:  # Alembic runs an event loop of its own
        pool.submit(upgrade, postgres_url).result()
    engine = make_engine(postgres_url)
    await seed(engine, MAILBOX, CAPABILITY_HASH)
    yield engine
    await engine.dispose()


def request(key: bytes) -> SendRequest:
    return SendRequest(MAILBOX, CAPABILITY_HASH, key, b"sealed " + key, NOW + 600, lambda _o: None)


async def batch(backend: PostgresBatches, keys: list[bytes]) -> Plan:
    sends = [request(k) for k in keys]
    planner = partial(plan_batch, sends, [], max_depth=100, deadline=NOW + 600)
    return await backend.apply([CAPABILITY_HASH], list(set(keys)), NOW, planner)


def duplicates(plan: Plan) -> list[bool]:
    results = [outcome for _send, outcome in plan.outcomes]
    assert all(isinstance(r, SendResult) for r in results)
    return [r.duplicate for r in results if isinstance(r, SendResult)]


async def queued(engine: AsyncEngine) -> list[bytes]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT body FROM envelopes ORDER BY seq"))
        return [row[0] for row in rows]


async def test_two_processes_sending_the_same_key_at_once_queue_it_once(
    engine: AsyncEngine,
) -> None:
    one, two = PostgresBatches(engine), PostgresBatches(engine)
    for n in range(10):
        key = bytes([n]) * 32
        plans = await asyncio.gather(batch(one, [key]), batch(two, [key]))
        assert sorted(duplicates(p)[0] for p in plans) == [False, True]
        assert sum(len(p.deliveries) for p in plans) == 1
    assert len(await queued(engine)) == 10
    await one.close()
    await two.close()


async def test_statements_are_planned_for_each_batch(engine: AsyncEngine) -> None:
    # A generic plan made while the tables were nearly empty stayed a sequential scan for
    # good where autovacuum is off (batch_postgres.py); the writer's session plans each
    # batch instead, and gives the pooled connection back as it found it.
    backend = PostgresBatches(engine)
    await batch(backend, [b"a" * 32])
    driver = await backend._connection()
    assert await driver.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    await backend.close()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SHOW plan_cache_mode"))).scalar() == "auto"
