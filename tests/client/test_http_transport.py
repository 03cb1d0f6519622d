"""HttpTransport against the real relay (in process): refusals map onto the error tree,
HTTP-only receiving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from confide_client import (
    ConfideClient,
    ContactJoined,
    HttpTransport,
    Message,
    RelayRejected,
    RelayUnavailable,
    StateError,
)
from confide_client.testing import LocalRelay
from system.relay_process import free_port

PASS = "http transport test"


async def _pair(tmp_path: Path, relay: LocalRelay) -> tuple[ConfideClient, ConfideClient, str]:
    worker = ConfideClient.create(tmp_path / "w", PASS, HttpTransport(relay.url), key_cost="min")
    await worker.enrol(await relay.enrolment_code())
    await worker.login()
    client = ConfideClient.create(tmp_path / "c", PASS, HttpTransport(relay.url), key_cost="min")
    worker_id = await client.join(await worker.create_invite(), lambda _policy: True)
    return worker, client, worker_id


async def test_receiving_over_plain_http(tmp_path: Path, local_relay: LocalRelay) -> None:
    worker, client, worker_id = await _pair(tmp_path, local_relay)
    async with client:
        for n in range(3):
            client.send_text(worker_id, f"polled {n}")
        await client.flush()
    arrived = 0
    deadline = asyncio.get_running_loop().time() + 60
    while arrived < 4:  # the hello and three messages
        got = await worker.fetch_pending()
        arrived += got
        if not got:
            # A periodic receiver polls, it does not spin; and a hang names what came.
            assert asyncio.get_running_loop().time() < deadline, (arrived, worker.pending_events)
            await asyncio.sleep(0.05)
    events = [await worker.next_event() for _ in range(worker.pending_events)]
    assert isinstance(events[0], ContactJoined)
    texts = [e.text for e in events if isinstance(e, Message)]
    assert texts == ["polled 0", "polled 1", "polled 2"]
    assert await worker.fetch_pending() == 0
    await worker.close()


async def test_refusals_and_outages_map_onto_the_error_tree(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    transport = HttpTransport(local_relay.url)
    with pytest.raises(RelayRejected) as wrong:
        await transport.send(bytes(16), bytes(32), "m1", b"opaque")
    assert wrong.value.status == 403
    assert wrong.value.problem["type"].endswith("capability-rejected")
    with pytest.raises(RelayRejected) as anonymous:
        await transport.prekey_count()
    assert anonymous.value.status == 401
    with pytest.raises(RelayRejected) as bad_code:
        client = ConfideClient.create(tmp_path / "x", PASS, transport, key_cost="min")
        await client.enrol("A" * 43)
    assert bad_code.value.status in (404, 410)
    await transport.aclose()
    nowhere = HttpTransport(f"http://localhost:{free_port()}")
    with pytest.raises(RelayUnavailable):
        await nowhere.challenge()
    await nowhere.aclose()


async def test_a_worker_reads_every_page_of_its_consent_records(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    worker, first, _ = await _pair(tmp_path, local_relay)
    second = ConfideClient.create(
        tmp_path / "c2", PASS, HttpTransport(local_relay.url), key_cost="min"
    )
    await second.join(await worker.create_invite(), lambda _policy: True)
    records = await worker.consent_records(page_size=1)  # one record a page: two pages
    assert [r.kind for r in records] == ["receipt", "receipt"]
    assert len({r.client_device_id for r in records}) == 2
    assert all(r.statement.data and len(r.statement.signature) == 64 for r in records)
    with pytest.raises(StateError):
        await first.consent_records()
    for device in (worker, first, second):
        await device.close()
