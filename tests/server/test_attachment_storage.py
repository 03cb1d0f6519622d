"""Attachments relay-wide: a cap on the bytes all devices together keep stored, and the
organisation's retention limit on how long any blob is kept (issue 19 item 5, issue 15).

Per-device quotas (test_attachment_quotas.py) bound each device; without a relay-wide cap
enough devices, each within its quota, could still fill the disk under the queue.
"""

from __future__ import annotations

import httpx
import pytest
from confide_server.app import create_app
from confide_server.services import attachments
from confide_server.settings import Settings
from confide_server.store.schema import attachment_pieces
from confide_server.store.schema import attachments as attachments_table
from pydantic import ValidationError
from sqlalchemy import func, select

from .conftest import SettingsFactory, in_memory
from .helpers import Device, FakeClock, enrol, org_with_setting

KIB = 1024


async def up(client: httpx.AsyncClient, device: Device, body: bytes) -> httpx.Response:
    return await client.post("/v1/attachments", headers=device.auth, content=body)


async def test_uploads_stop_with_507_when_the_relay_holds_its_cap(
    db_url: str, make_settings: SettingsFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachments, "PIECE_BYTES", KIB)
    settings = make_settings(
        db_url, max_attachment_bytes=4 * KIB, max_attachment_storage_bytes=10 * KIB
    )
    app = create_app(settings, clock=clock)
    async with in_memory(app) as client:
        relay = app.state.relay
        # Different devices, each well within its own quota: the cap is the relay's.
        alice, bob, carol = [await enrol(client, relay) for _ in range(3)]
        first = await up(client, alice, b"a" * 4 * KIB)
        assert first.status_code == 201
        assert (await up(client, bob, b"b" * 4 * KIB)).status_code == 201
        full = await up(client, carol, b"c" * 4 * KIB)
        assert full.status_code == 507
        assert full.headers["content-type"] == "application/problem+json"
        assert full.json()["type"].endswith("/storage-full")
        assert "retry-after" in full.headers
        async with relay.reader.connect() as conn:
            stored = await conn.scalar(select(func.sum(func.length(attachment_pieces.c.body))))
            rows = await conn.scalar(select(func.count()).select_from(attachments_table))
        assert (stored, rows) == (8 * KIB, 2)  # the refused upload left nothing behind
        assert (await up(client, carol, b"c" * 2 * KIB)).status_code == 201  # what fits, fits
        # Deleting a blob makes room again.
        blob = first.json()["attachment_id"]
        gone = await client.delete(f"/v1/attachments/{blob}", headers=alice.auth)
        assert gone.status_code == 204
        assert (await up(client, carol, b"c" * 4 * KIB)).status_code == 201


def test_the_cap_must_hold_at_least_one_attachment() -> None:
    with pytest.raises(ValidationError, match="MAX_ATTACHMENT_STORAGE_BYTES"):
        Settings(max_attachment_bytes=2 * KIB * KIB, max_attachment_storage_bytes=KIB * KIB)


async def test_attachments_are_kept_no_longer_than_the_organisations_retention(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    """max_retention_seconds covers queued envelopes *and* attachments (issue 15)."""
    app = create_app(make_settings(sqlite_url, attachment_ttl_seconds=7 * 86_400), clock=clock)
    async with in_memory(app) as client:
        relay = app.state.relay
        admin = await org_with_setting(client, relay, "max_retention_seconds", 3600)
        stored = await up(client, admin, b"x" * KIB)
        assert stored.status_code == 201
        assert stored.json()["expires_at"] <= clock.now + 3600
