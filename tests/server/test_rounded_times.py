"""Every time the relay stores is coarse: days for creation, hours for audit, minutes for expiry.

The flow below touches every table with a time column at a clock that is not on any boundary,
then reads every time column back from the database (SQLite and PostgreSQL) and checks it.
"""

from __future__ import annotations

import httpx
import pytest
from confide_server.clock import DAY, HOUR, MINUTE, expiry
from confide_server.relay import Relay
from confide_server.settings import Settings
from confide_server.store.schema import metadata
from sqlalchemy import select

from .conftest import SettingsFactory
from .helpers import (
    FakeClock,
    capability,
    challenge,
    consent_body,
    enrol,
    join,
    receipt_bytes,
    send,
    setup_org,
    step_up,
)

# The unit each kind of time column is rounded to (docs/operations.md §7).
UNITS = {"_day": DAY, "hour": HOUR, "_at": MINUTE, "_until": MINUTE}
# A moment 37.25 s past a minute, 16 min past an hour: rounding to the second would show.
ODD_NOW = 1_800_000_000.0 + 16 * 60 + 37.25


def unit_of(column: str) -> int:
    return next(unit for suffix, unit in UNITS.items() if column.endswith(suffix))


def time_columns() -> list[tuple[str, str]]:
    found = [
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if any(column.name.endswith(suffix) for suffix in UNITS)
    ]
    assert len(found) >= 15, found  # the schema's time columns, not an empty match
    return found


async def flow(client: httpx.AsyncClient, relay: Relay) -> None:
    """Enrol, invite, join, send, upload, consent, and leave one challenge and invite pending."""
    await setup_org(relay)
    worker = await enrol(client, relay)
    person, _ = await join(client, worker)
    cap = await capability(client, worker)
    assert (await send(client, worker.mailbox_id, cap, "m1", b"sealed")).status_code == 202
    up = await client.post("/v1/attachments", headers=person.auth, content=b"blob" * 100)
    assert up.status_code == 201, up.text
    consent = consent_body(person, worker, receipt_bytes(person, worker))
    assert (await client.post("/v1/consent", headers=person.auth, json=consent)).status_code == 201
    assert (await client.post("/v1/invites", headers=worker.auth)).status_code == 201
    await challenge(client)
    admin = await enrol(client, relay, role="admin")
    await step_up(client, admin)
    terms = {"text": "What others in a group read of what you write."}
    published = await client.post("/v1/admin/group-terms", headers=admin.auth, json=terms)
    assert published.status_code == 201, published.text
    translation = {"language": "es", "text": "Los límites de la confidencialidad."}
    translated = await client.post(
        "/v1/admin/policies/1/translations", headers=admin.auth, json=translation
    )
    assert translated.status_code == 201, translated.text
    guide = {"text": "Find a private space."}
    edited = await client.put("/v1/admin/texts/privacy_guide/en", headers=admin.auth, json=guide)
    assert edited.status_code == 204, edited.text
    # A closed loopback port: the push the send above may cause never leaves the host.
    push = {"endpoint": "http://127.0.0.1:9/p"}
    subscribed = await client.put("/v1/push/subscription", headers=worker.auth, json=push)
    assert subscribed.status_code == 200, subscribed.text


@pytest.fixture
def settings(db_url: str, make_settings: SettingsFactory) -> Settings:
    return make_settings(db_url, push_allow_loopback=True)


async def test_every_stored_time_is_rounded(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    clock.now = ODD_NOW
    await flow(client, relay)
    seen: dict[str, list[int]] = {}
    async with relay.reader.connect() as conn:
        for table_name, column in time_columns():
            table = metadata.tables[table_name]
            values = (await conn.scalars(select(table.c[column]))).all()
            seen[f"{table_name}.{column}"] = [v for v in values if v is not None]
    empty = [name for name, values in seen.items() if not values]
    # Only the tables of the other backend's idempotency records may stay empty.
    assert set(empty) <= {"sent_messages.expires_at", "sent_log.expires_at"}, empty
    unrounded = {
        name: [v for v in values if v % unit_of(name) != 0]
        for name, values in seen.items()
        if any(v % unit_of(name) != 0 for v in values)
    }
    assert unrounded == {}


async def test_returned_expiries_are_the_stored_ones(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    clock.now = ODD_NOW
    worker = await enrol(client, relay)
    issued = (await client.post("/v1/challenges")).json()["expires_at"]
    assert issued == expiry(ODD_NOW, relay.settings.challenge_ttl_seconds)
    up = (await client.post("/v1/attachments", headers=worker.auth, content=b"x")).json()
    assert up["expires_at"] == expiry(ODD_NOW, relay.settings.attachment_ttl_seconds)
    invite = (await client.post("/v1/invites", headers=worker.auth)).json()
    async with relay.reader.connect() as conn:
        stored = (await conn.scalars(select(metadata.tables["invites"].c.expires_at))).all()
    assert stored == [invite["expires_at"]]
    assert invite["expires_at"] % MINUTE == 0 and invite["expires_at"] > ODD_NOW


@pytest.mark.parametrize("now", [ODD_NOW, 1_800_000_000.0, 1_800_000_059.999, 1_800_000_000.001])
@pytest.mark.parametrize("ttl", [5, 60, 3600, 7 * DAY])
def test_an_expiry_is_never_early_and_at_most_a_minute_late(now: float, ttl: int) -> None:
    at = expiry(now, ttl)
    assert at % MINUTE == 0
    assert now + ttl <= at < now + ttl + MINUTE


@pytest.mark.parametrize("now", [ODD_NOW, 1_800_000_000.0, 1_800_000_030.5])
def test_a_retention_limit_is_never_exceeded(now: float) -> None:
    limit = 30 * DAY
    for ttl in (limit - 30, limit, limit + 3600):
        at = expiry(now, ttl, limit=limit)
        assert at % MINUTE == 0
        assert at <= now + limit
        assert at > now + limit - MINUTE
