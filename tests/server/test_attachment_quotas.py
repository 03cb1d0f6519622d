"""Attachments: per-device rates and daily bytes, uploads at once, and storage in pieces.

Seen in issue 19: one client stored 40 x 1 MiB attachments in 0.7 s, with nothing to stop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from alembic import command
from confide_server.app import create_app
from confide_server.services import attachments
from confide_server.store.engine import make_engine
from confide_server.store.migrate import alembic_config
from confide_server.store.schema import attachment_pieces
from fastapi import FastAPI
from sqlalchemy import func, select, text

from .conftest import SettingsFactory, in_memory
from .helpers import Device, FakeClock, enrol, login

KIB = 1024


async def up(client: httpx.AsyncClient, device: Device, body: bytes) -> httpx.Response:
    return await client.post("/v1/attachments", headers=device.auth, content=body)


async def test_uploads_per_minute_are_limited_per_device(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    app = create_app(make_settings(sqlite_url, attachment_uploads_per_minute=3), clock=clock)
    async with in_memory(app) as client:
        alice, bob = await enrol(client, app.state.relay), await enrol(client, app.state.relay)
        codes = [(await up(client, alice, b"x" * KIB)).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        assert (await up(client, bob, b"x")).status_code == 201
        clock.now += 60
        assert (await up(client, alice, b"x")).status_code == 201


async def test_bytes_per_day_are_limited_per_device(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    settings = make_settings(
        sqlite_url, max_attachment_bytes=4 * KIB, attachment_bytes_per_day=10 * KIB
    )
    app = create_app(settings, clock=clock)
    async with in_memory(app) as client:
        alice = await enrol(client, app.state.relay)
        assert (await up(client, alice, b"x" * 4 * KIB)).status_code == 201
        assert (await up(client, alice, b"x" * 4 * KIB)).status_code == 201
        over = await up(client, alice, b"x" * 4 * KIB)
        assert over.status_code == 429
        assert over.headers["content-type"] == "application/problem+json"
        assert over.json()["type"].endswith("/quota-exceeded")
        assert 0 < int(over.headers["retry-after"]) <= 86_400
        # A refused upload is not charged and leaves nothing stored.
        assert (await up(client, alice, b"x" * 2 * KIB)).status_code == 201
        assert (await up(client, alice, b"x")).status_code == 429
        clock.now += int(over.headers["retry-after"])
        await login(client, alice)
        assert (await up(client, alice, b"x" * 4 * KIB)).status_code == 201
        async with app.state.relay.reader.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(attachment_pieces))
        assert stored == 4


async def test_uploads_at_once_are_limited_per_device(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    app = create_app(make_settings(sqlite_url, attachment_uploads_in_flight=2), clock=clock)
    release = asyncio.Event()
    started = asyncio.Semaphore(0)

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"first"
        started.release()
        await release.wait()
        yield b"last"

    async with in_memory(app) as client:
        alice, bob = await enrol(client, app.state.relay), await enrol(client, app.state.relay)
        held = [
            asyncio.create_task(
                client.post("/v1/attachments", headers=alice.auth, content=slow_body())
            )
            for _ in range(2)
        ]
        for _ in range(2):
            await asyncio.wait_for(started.acquire(), 10)
        third = await up(client, alice, b"x")
        assert third.status_code == 429
        assert third.json()["type"].endswith("/rate-limited")
        assert (await up(client, bob, b"x")).status_code == 201  # another device is not held
        release.set()
        assert [(await t).status_code for t in held] == [201, 201]
        assert (await up(client, alice, b"x")).status_code == 201


async def test_a_blob_is_stored_and_read_back_in_pieces(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachments, "PIECE_BYTES", 1000)
    alice = await enrol(client, app.state.relay)

    async def body() -> AsyncIterator[bytes]:
        for n in range(7):  # chunks that do not line up with the pieces
            yield bytes([n]) * 333

    blob = b"".join([bytes([n]) * 333 for n in range(7)])
    answer = await client.post("/v1/attachments", headers=alice.auth, content=body())
    assert answer.status_code == 201, answer.text
    async with app.state.relay.reader.connect() as conn:
        sizes = (await conn.scalars(select(func.length(attachment_pieces.c.body)))).all()
    assert sorted(sizes) == [331, 1000, 1000]
    got = await client.get(f"/v1/attachments/{answer.json()['attachment_id']}", headers=alice.auth)
    assert got.content == blob
    assert got.headers["content-length"] == str(len(blob))


async def test_an_upload_cut_short_leaves_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice = await enrol(client, app.state.relay)
    settings = app.state.relay.settings

    async def too_long() -> AsyncIterator[bytes]:
        for _ in range(settings.max_attachment_bytes // (1024 * 1024) + 2):
            yield b"x" * 1024 * 1024

    answer = await client.post("/v1/attachments", headers=alice.auth, content=too_long())
    assert answer.status_code == 413
    async with app.state.relay.reader.connect() as conn:
        left = await conn.scalar(text("SELECT count(*) FROM attachments"))
        pieces = await conn.scalar(select(func.count()).select_from(attachment_pieces))
    assert (left, pieces) == (0, 0)


def test_a_blob_stored_whole_survives_the_migration(empty_db_url: str) -> None:
    """Upgrading from 0002 turns each stored blob into one piece, readable as before."""
    db_url = empty_db_url
    config = alembic_config(db_url)
    blob = bytes(range(256)) * 40

    async def insert_and_read(stage: str) -> bytes:
        engine = make_engine(db_url)
        try:
            if stage == "before":
                async with engine.begin() as conn:
                    await conn.execute(
                        text("INSERT INTO attachments (id, body, expires_at) VALUES (:i, :b, :e)"),
                        {"i": b"i" * 16, "b": blob, "e": 4_000_000_000},
                    )
                return b""
            async with engine.connect() as conn:
                size = await attachments.size_of(conn, b"i" * 16, 1_800_000_000.0)
            assert size == len(blob)
            return b"".join([p async for p in attachments.read(engine, b"i" * 16)])
        finally:
            await engine.dispose()

    def run(stage: str) -> bytes:
        return asyncio.run(insert_and_read(stage))

    # Alembic and asyncio.run each want their own event loop: a thread apiece.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(command.upgrade, config, "0002").result()
        pool.submit(run, "before").result()
        pool.submit(command.upgrade, config, "head").result()
        assert pool.submit(run, "after").result() == blob
