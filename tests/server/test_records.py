"""``GET /v1/devices/me/records``: after a full session, every row in the database that
refers to the device appears in its answer, table by table, and nothing about anyone else.

The database is dumped table by table; a row refers to a device when any of its values is
the device's id, its mailbox id or its worker id (as bytes, or base64url as the audit trail
writes them).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from confide_server.relay import Relay
from confide_server.settings import Settings
from confide_server.store.schema import metadata
from sqlalchemy import select

from .conftest import SettingsFactory
from .helpers import (
    Device,
    b64d,
    b64e,
    capability,
    consent_body,
    enrol,
    invite,
    join,
    receipt_bytes,
    send,
    setup_org,
    step_up,
)


async def _dump(relay: Relay) -> dict[str, list[dict[str, Any]]]:
    async with relay.engine.connect() as conn:
        return {
            table.name: [dict(r._mapping) for r in await conn.execute(select(table))]
            for table in metadata.sorted_tables
        }


def _refers(row: dict[str, Any], ids: set[bytes]) -> bool:
    texts = {b64e(i) for i in ids}
    return any(
        (isinstance(v, bytes | memoryview) and bytes(v) in ids)
        or (isinstance(v, str) and v in texts)
        for v in row.values()
    )


async def _check(
    client: httpx.AsyncClient, relay: Relay, device: Device, worker_id: str | None
) -> None:
    ids = {b64d(device.device_id), b64d(device.mailbox_id)}
    if worker_id is not None:
        ids.add(b64d(worker_id))
    dump = await _dump(relay)
    answer = (await client.get("/v1/devices/me/records", headers=device.auth)).json()
    expected = {name: sum(_refers(row, ids) for row in rows) for name, rows in dump.items()}
    expected = {name: n for name, n in expected.items() if n}
    got = {name: len(rows) for name, rows in answer.items() if rows}
    assert got == expected
    # Nothing about anyone else: no other device's, mailbox's or worker's id in the answer.
    others: set[str] = set()
    for name, column in (("devices", "id"), ("mailboxes", "id"), ("workers", "id")):
        others |= {b64e(bytes(r[column])) for r in dump[name]}
    others -= {b64e(i) for i in ids}
    text = str(answer)
    assert not [o for o in others if o in text]


@pytest.fixture
def settings(db_url: str, make_settings: SettingsFactory) -> Settings:
    # The worker's push subscription points at a closed loopback port: no push leaves the host.
    return make_settings(db_url, push_allow_loopback=True)


async def test_records_cover_every_row_about_the_device(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    worker = await enrol(client, relay)
    person, out = await join(client, worker)
    await invite(client, worker)  # an unused one stays in the invites table
    receipt = receipt_bytes(person, worker)
    consent = consent_body(person, worker, receipt)
    assert (await client.post("/v1/consent", headers=person.auth, json=consent)).status_code == 201
    to_person = await capability(client, person)
    for i in range(3):
        assert (
            await send(client, worker.mailbox_id, out["worker_capability"], f"w{i}", b"hi")
        ).status_code == 202
        assert (await send(client, person.mailbox_id, to_person, f"p{i}", b"yo")).status_code == 202
    subscribed = await client.put(
        "/v1/push/subscription", headers=worker.auth, json={"endpoint": "http://127.0.0.1:9/p"}
    )
    assert subscribed.status_code == 200
    await step_up(client, admin)
    me = (await client.get("/v1/devices/me", headers=worker.auth)).json()
    role = await client.post(
        f"/v1/admin/workers/{me['worker_id']}/role", headers=admin.auth, json={"role": "worker"}
    )
    assert role.status_code == 204
    await _check(client, relay, worker, me["worker_id"])
    await _check(client, relay, person, None)
    answer = (await client.get("/v1/devices/me/records", headers=person.auth)).json()
    assert [e["size"] for e in answer["envelopes"]] == [len(b"yo")] * 3
    assert "body" not in str(answer) and answer["consent_receipts"][0]["size"] == len(receipt)
