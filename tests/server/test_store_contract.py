"""The contracts of store/idempotency.py and store/depth.py, run against both backends.

Every test here runs once on SQLite and once on PostgreSQL, through the backend's own
``apply`` (the group commit's transaction), with the same expectations; where the depth
policy differs by design (exact on SQLite, bounded staleness on PostgreSQL) the test says
what each promises.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import pytest
from confide_server.errors import QueueFull
from confide_server.services.sweeper import sweep
from confide_server.store import depth
from confide_server.store.batch import Lookup, Plan, SendRequest, SendResult, plan_batch
from confide_server.store.batch_postgres import PostgresBatches
from confide_server.store.batch_sqlite import SQLiteBatches
from confide_server.store.engine import make_engine
from confide_server.store.idempotency import records_table, retry_deadline
from confide_server.store.migrate import upgrade
from confide_server.store.writer import Backend
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from .helpers import FakeClock
from .storeseed import seed

NOW = 1_800_000_000
WINDOW = 600
MAILBOX = os.urandom(16)
CAPABILITY_HASH = hashlib.sha256(b"capability").digest()


@dataclass
class Store:
    kind: str
    engine: AsyncEngine
    make: Callable[[], Backend]
    monotonic: FakeClock


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A seeded database (a mailbox and its capability) on SQLite, then on PostgreSQL."""
    url = db_url
    kind = make_url(url).get_backend_name()
    path = make_url(url).database or ""
    with ThreadPoolExecutor(1) as pool:  # Alembic runs an event loop of its own
        pool.submit(upgrade, url).result()
    engine = make_engine(url)
    await seed(engine, MAILBOX, CAPABILITY_HASH)
    monotonic = FakeClock(1000.0)

    def make() -> Backend:
        if kind == "sqlite":
            return SQLiteBatches(path, WINDOW)
        return PostgresBatches(engine, monotonic)

    yield Store(kind, engine, make, monotonic)
    await engine.dispose()


def request_for(key: bytes, expires_at: int = NOW + 7 * 86_400) -> SendRequest:
    return SendRequest(MAILBOX, CAPABILITY_HASH, key, b"sealed " + key, expires_at, print)


async def batch(
    backend: Backend, keys: list[bytes], now: int = NOW, max_depth: int = 100
) -> list[SendResult | object]:
    sends = [request_for(k) for k in keys]
    planner = partial(
        plan_batch, sends, [], max_depth=max_depth, deadline=retry_deadline(now, WINDOW)
    )
    plan = await backend.apply([CAPABILITY_HASH], list(set(keys)), now, planner)
    return [outcome for _send, outcome in plan.outcomes]


def duplicates(outcomes: list[object]) -> list[bool]:
    assert all(isinstance(o, SendResult) for o in outcomes), outcomes
    return [o.duplicate for o in outcomes if isinstance(o, SendResult)]


async def queued(engine: AsyncEngine) -> list[bytes]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT body FROM envelopes ORDER BY seq"))
        return [bytes(row[0]) for row in rows]


async def test_the_first_send_with_a_key_claims_it_in_its_batch_and_after(store: Store) -> None:
    backend = store.make()
    backend.open()
    assert duplicates(await batch(backend, [b"a" * 32, b"b" * 32, b"a" * 32])) == [
        False,
        False,
        True,
    ]
    again = await batch(backend, [b"c" * 32, b"a" * 32, b"c" * 32, b"d" * 32])
    assert duplicates(again) == [False, True, True, False]
    assert await queued(store.engine) == [b"sealed " + k * 32 for k in (b"a", b"b", b"c", b"d")]
    await backend.close()
    # A restarted backend (a restarted relay) still knows every claim.
    restarted = store.make()
    restarted.open()
    assert duplicates(await batch(restarted, [b"b" * 32, b"e" * 32])) == [True, False]
    await restarted.close()


async def test_a_batch_that_rolls_back_claims_nothing(store: Store) -> None:
    backend = store.make()
    backend.open()

    def failing(lookup: Lookup) -> Plan:
        plan_batch([request_for(b"r" * 32)], [], lookup, max_depth=9, deadline=NOW + 60)
        raise RuntimeError("the batch failed half-way")

    with pytest.raises(RuntimeError):
        await backend.apply([CAPABILITY_HASH], [b"r" * 32], NOW, failing)
    assert duplicates(await batch(backend, [b"r" * 32])) == [False]
    await backend.close()


async def test_a_key_is_kept_for_the_retry_window_not_the_envelopes_ttl(store: Store) -> None:
    """The envelope lives a week; its key only as long as a client may retry (WINDOW)."""
    backend = store.make()
    backend.open()
    assert duplicates(await batch(backend, [b"w" * 32])) == [False]
    table = records_table(store.engine.dialect.name)
    async with store.engine.connect() as conn:
        kept = (await conn.execute(text(f"SELECT expires_at FROM {table}"))).scalar_one()
    assert kept == retry_deadline(NOW, WINDOW) <= NOW + WINDOW
    late = NOW + WINDOW
    assert duplicates(await batch(backend, [b"w" * 32], now=late - 60)) == [True]
    counts = await sweep(store.engine, late, prekey_max_age=86_400 * 365)
    assert counts["idempotency_keys"] == 1 and counts["envelopes"] == 0
    assert duplicates(await batch(backend, [b"w" * 32], now=late)) == [False]
    await backend.close()


async def test_duplicates_never_take_a_place_in_the_queue(store: Store) -> None:
    backend = store.make()
    backend.open()
    await batch(backend, [b"a" * 32], max_depth=3)
    assert duplicates(await batch(backend, [b"a" * 32, b"b" * 32], max_depth=3)) == [True, False]
    assert duplicates(await batch(backend, [b"c" * 32], max_depth=3)) == [False]
    refused = await batch(backend, [b"d" * 32], max_depth=3)
    assert isinstance(refused[0], QueueFull)
    await backend.close()


async def test_the_depth_limit_is_exact_for_one_process(store: Store) -> None:
    backend = store.make()
    backend.open()
    outcomes = [await batch(backend, [bytes([n]) * 32], max_depth=2) for n in range(3)]
    assert [type(o[0]) for o in outcomes] == [SendResult, SendResult, QueueFull]
    await backend.close()


async def test_other_writers_show_in_the_depth_exactly_or_within_max_age(store: Store) -> None:
    """Envelopes queued by another connection (on PostgreSQL, another relay process):
    counted at once on SQLite; on PostgreSQL at the next count, at most depth.MAX_AGE later."""
    backend = store.make()
    backend.open()
    await batch(backend, [b"1" * 32], max_depth=2)
    async with store.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO envelopes (id, mailbox_id, body, expires_at) VALUES (:i, :m, :b, :x)"
            ),
            {"i": os.urandom(16), "m": MAILBOX, "b": b"elsewhere", "x": NOW + 600},
        )
    first = await batch(backend, [b"2" * 32], max_depth=2)
    if store.kind == "sqlite":
        assert isinstance(first[0], QueueFull)
    else:
        assert isinstance(first[0], SendResult)  # the count is younger than MAX_AGE
        store.monotonic.now += depth.MAX_AGE
        assert isinstance((await batch(backend, [b"3" * 32], max_depth=2))[0], QueueFull)
    await backend.close()
