"""The relay stores as consent records only what it can check (issue 14, Revocation).

Seen: arbitrary signed bytes, a receipt naming another worker's key and a receipt for a
policy version that does not exist were all stored. A record must be a well-formed receipt
or revocation (docs/protocol.md part 2 section 10) signed by the client device that submits
it, naming the worker device behind that client's invite and a policy version that exists;
anything else is 400 consent-rejected.
"""

from __future__ import annotations

import httpx
import pytest
from confide_server.relay import Relay
from confide_server.store.schema import consent_receipts
from sqlalchemy import func, select

from .helpers import (
    Device,
    consent_body,
    enrol,
    join,
    receipt_bytes,
    revocation_bytes,
    setup_org,
)


async def _post(client: httpx.AsyncClient, person: Device, body: dict[str, str]) -> httpx.Response:
    return await client.post("/v1/consent", headers=person.auth, json=body)


async def _stored(relay: Relay) -> int:
    async with relay.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(consent_receipts)) or 0)


def _rejected(response: httpx.Response, words: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/consent-rejected")
    assert words in problem["detail"]


@pytest.fixture
async def parties(client: httpx.AsyncClient, relay: Relay) -> tuple[Device, Device, Device]:
    """A worker, a client who joined through the worker's invite, and another worker."""
    await setup_org(relay)
    worker = await enrol(client, relay)
    other_worker = await enrol(client, relay)
    person, _ = await join(client, worker)
    return worker, person, other_worker


async def test_a_well_formed_receipt_and_its_revocation_are_stored(
    client: httpx.AsyncClient, relay: Relay, parties: tuple[Device, Device, Device]
) -> None:
    worker, person, _ = parties
    receipt = receipt_bytes(person, worker)
    assert (await _post(client, person, consent_body(person, worker, receipt))).status_code == 201
    revocation = revocation_bytes(person, receipt)
    revoke = consent_body(person, worker, revocation, kind="revocation")
    assert (await _post(client, person, revoke)).status_code == 201
    assert await _stored(relay) == 2


async def test_arbitrary_signed_bytes_are_refused(
    client: httpx.AsyncClient, relay: Relay, parties: tuple[Device, Device, Device]
) -> None:
    worker, person, _ = parties
    junk = b"\x01Confide consent receipt v1\x00...opaque..."
    _rejected(await _post(client, person, consent_body(person, worker, junk)), "receipt")
    revoke = consent_body(person, worker, b"x" * 300, kind="revocation")
    _rejected(await _post(client, person, revoke), "revocation")
    # A well-formed receipt with bytes after it is not well formed.
    trailing = receipt_bytes(person, worker) + b"\x00"
    _rejected(await _post(client, person, consent_body(person, worker, trailing)), "receipt")
    # A receipt filed as a revocation, and the other way round.
    receipt = receipt_bytes(person, worker)
    as_revocation = consent_body(person, worker, receipt, kind="revocation")
    _rejected(await _post(client, person, as_revocation), "revocation")
    assert await _stored(relay) == 0


async def test_a_receipt_naming_another_worker_is_refused(
    client: httpx.AsyncClient, relay: Relay, parties: tuple[Device, Device, Device]
) -> None:
    worker, person, other_worker = parties
    # Addressed to the inviting worker, but naming the other worker's key.
    wrong_key = receipt_bytes(person, other_worker)
    _rejected(await _post(client, person, consent_body(person, worker, wrong_key)), "worker key")
    # Consistent with itself, but for a worker whose invite this client never redeemed.
    elsewhere = consent_body(person, other_worker, receipt_bytes(person, other_worker))
    _rejected(await _post(client, person, elsewhere), "invite")
    assert await _stored(relay) == 0


async def test_a_receipt_for_a_policy_that_does_not_exist_is_refused(
    client: httpx.AsyncClient, relay: Relay, parties: tuple[Device, Device, Device]
) -> None:
    worker, person, _ = parties
    unknown = receipt_bytes(person, worker, version=7)
    _rejected(await _post(client, person, consent_body(person, worker, unknown)), "version 7")
    other_text = receipt_bytes(person, worker, policy="Some other text")
    _rejected(await _post(client, person, consent_body(person, worker, other_text)), "hash")
    assert await _stored(relay) == 0


async def test_a_receipt_must_name_its_signer(
    client: httpx.AsyncClient, relay: Relay, parties: tuple[Device, Device, Device]
) -> None:
    worker, person, _ = parties
    stranger = Device()
    # Signed by the submitting device, but naming someone else's key as the client.
    borrowed = receipt_bytes(stranger, worker)
    _rejected(await _post(client, person, consent_body(person, worker, borrowed)), "client key")
    assert await _stored(relay) == 0


async def test_a_revocation_must_end_a_stored_receipt_of_this_client(
    client: httpx.AsyncClient, relay: Relay, parties: tuple[Device, Device, Device]
) -> None:
    worker, person, _ = parties
    never_stored = receipt_bytes(person, worker, purpose="never submitted")
    revoke = consent_body(person, worker, revocation_bytes(person, never_stored), "revocation")
    _rejected(await _post(client, person, revoke), "no stored receipt")
    receipt = receipt_bytes(person, worker)
    assert (await _post(client, person, consent_body(person, worker, receipt))).status_code == 201
    early = revocation_bytes(person, receipt, at=0)
    _rejected(
        await _post(client, person, consent_body(person, worker, early, "revocation")), "before"
    )
    assert await _stored(relay) == 1


async def test_another_clients_receipt_cannot_be_revoked(
    client: httpx.AsyncClient, relay: Relay, parties: tuple[Device, Device, Device]
) -> None:
    worker, person, _ = parties
    receipt = receipt_bytes(person, worker)
    assert (await _post(client, person, consent_body(person, worker, receipt))).status_code == 201
    second, _ = await join(client, worker)
    theirs = revocation_bytes(second, receipt)
    _rejected(
        await _post(client, second, consent_body(second, worker, theirs, "revocation")),
        "no stored receipt",
    )
    assert await _stored(relay) == 1
