"""Consent records: a per-device quota, a per-device rate, and a paged list for the worker.

Seen in issue 19: 300 junk 16 KiB receipts from one client were all stored, and the worker's
list came back as one 6.3 MiB response.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from confide_server.app import create_app
from confide_server.store.schema import consent_receipts
from fastapi import FastAPI
from sqlalchemy import func, select

from .conftest import SettingsFactory, in_memory
from .helpers import Device, FakeClock, consent_body, enrol, join, login, receipt_bytes, setup_org


def numbered(person: Device, worker: Device, n: int) -> dict[str, str]:
    return consent_body(person, worker, receipt_bytes(person, worker, purpose=f"receipt {n}"))


async def submit(client: httpx.AsyncClient, person: Device, worker: Device, n: int) -> int:
    response = await client.post(
        "/v1/consent", headers=person.auth, json=numbered(person, worker, n)
    )
    return response.status_code


@pytest.fixture
async def quota_app(
    db_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        db_url, consent_records_per_device=3, consent_submissions_per_minute=100
    )
    yield create_app(settings, clock=clock)


async def test_a_client_device_stores_at_most_its_quota(quota_app: FastAPI) -> None:
    async with in_memory(quota_app) as client:
        relay = quota_app.state.relay
        await setup_org(relay)
        worker = await enrol(client, relay)
        person, _ = await join(client, worker)
        assert [await submit(client, person, worker, n) for n in range(3)] == [201] * 3
        refused = await client.post(
            "/v1/consent", headers=person.auth, json=numbered(person, worker, 9)
        )
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/quota-exceeded")
        assert "retry-after" not in refused.headers  # waiting does not help
        # Another client of the same worker has a quota of its own.
        other, _ = await join(client, worker)
        assert await submit(client, other, worker, 0) == 201


async def test_consent_submissions_are_rate_limited_per_device(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    app = create_app(make_settings(sqlite_url, consent_submissions_per_minute=2), clock=clock)
    async with in_memory(app) as client:
        await setup_org(app.state.relay)
        worker = await enrol(client, app.state.relay)
        person, _ = await join(client, worker)
        other, _ = await join(client, worker)
        assert [await submit(client, person, worker, n) for n in range(3)] == [201, 201, 429]
        assert await submit(client, other, worker, 0) == 201
        clock.now += 60
        assert await submit(client, person, worker, 5) == 201


async def page_through(
    client: httpx.AsyncClient, worker: Device, limit: int
) -> list[list[dict[str, object]]]:
    pages: list[list[dict[str, object]]] = []
    params: dict[str, str | int] = {"limit": limit}
    for _ in range(20):  # bounded: the walk must end well before this
        response = await client.get("/v1/consent", headers=worker.auth, params=params)
        assert response.status_code == 200, response.text
        data = response.json()
        pages.append(data["records"])
        if data["next"] is None:
            return pages
        params = {"limit": limit, "after": data["next"]}
    raise AssertionError("the consent list never ended")


async def test_the_consent_list_comes_in_pages(
    client: httpx.AsyncClient, app: FastAPI, clock: FakeClock
) -> None:
    relay = app.state.relay
    await setup_org(relay)
    worker = await enrol(client, relay)
    people = [(await join(client, worker))[0] for _ in range(3)]
    sent = 0
    for day in range(3):  # records over several days, several on the same day
        for person in people[: day + 1]:
            assert await submit(client, person, worker, sent) == 201
            sent += 1
        clock.now += 86_400
        for device in [*people, worker]:
            await login(client, device)  # a day on, so that tokens stay valid
    pages = await page_through(client, worker, limit=2)
    assert [len(p) for p in pages] == [2, 2, 2]
    ids = [r["receipt_id"] for page in pages for r in page]
    assert len(set(ids)) == sent == 6
    days = [r["created_day"] for page in pages for r in page]
    assert days == sorted(days)  # oldest first, so a worker can resume where it stopped
    # The default page holds them all here, and a worker sees only its own.
    whole = (await client.get("/v1/consent", headers=worker.auth)).json()
    assert len(whole["records"]) == 6 and whole["next"] is None
    colleague = await enrol(client, relay)
    mine = (await client.get("/v1/consent", headers=colleague.auth)).json()
    assert mine == {"records": [], "next": None}


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 201}, {"after": "not-a-cursor"}, {"after": "AAAA"}]
)
async def test_bad_page_requests_get_400(
    client: httpx.AsyncClient, app: FastAPI, params: dict[str, object]
) -> None:
    worker = await enrol(client, app.state.relay)
    response = await client.get("/v1/consent", headers=worker.auth, params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_concurrent_submissions_do_not_overshoot_the_quota(quota_app: FastAPI) -> None:
    async with in_memory(quota_app) as client:
        relay = quota_app.state.relay
        await setup_org(relay)
        worker = await enrol(client, relay)
        person, _ = await join(client, worker)
        codes = await asyncio.gather(*(submit(client, person, worker, n) for n in range(8)))
        assert sorted(codes) == [201] * 3 + [429] * 5
        async with relay.reader.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(consent_receipts))
        assert stored == 3
