"""The SDK's refusals and upkeep, over the real relay in process: replays, bad files, prekeys."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from confide_client import (
    ConfideClient,
    ConsentRequired,
    ContactJoined,
    Message,
    ProtocolError,
    RelayRejected,
    StateError,
    receipts,
)
from confide_client.consent import PolicyRef
from confide_client.encoding import b64e
from confide_client.invites import invite_proof, parse_invite
from confide_client.testing import Holdings, LocalRelay, relay

PASS = "edge case passphrase"


async def _worker(tmp_path: Path, relay: LocalRelay) -> ConfideClient:
    worker = ConfideClient.create(tmp_path / "worker", PASS, relay.transport(), key_cost="min")
    await worker.enrol(await relay.enrolment_code())
    await worker.login()
    return worker


async def test_a_replayed_invite_or_enrolment_code_is_refused(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    code = await relay.enrolment_code()
    worker = ConfideClient.create(tmp_path / "worker", PASS, relay.transport(), key_cost="min")
    await worker.enrol(code)
    again = ConfideClient.create(tmp_path / "again", PASS, relay.transport(), key_cost="min")
    with pytest.raises(RelayRejected) as refused:
        await again.enrol(code)
    # The relay answers a used code as it does a used invite: 410, already used.
    assert refused.value.status == 410
    assert refused.value.problem["type"].endswith("/already-used")
    await worker.login()
    invite = await worker.create_invite()
    first = ConfideClient.create(tmp_path / "c1", PASS, relay.transport(), key_cost="min")
    await first.join(invite, lambda _policy: True)
    second = ConfideClient.create(tmp_path / "c2", PASS, relay.transport(), key_cost="min")
    with pytest.raises(RelayRejected) as replay:
        await second.join(invite, lambda _policy: True)
    assert replay.value.status == 410


async def test_declining_the_policy_sends_nothing(tmp_path: Path, local_relay: LocalRelay) -> None:
    relay = local_relay
    worker = await _worker(tmp_path, relay)
    client = ConfideClient.create(tmp_path / "client", PASS, relay.transport(), key_cost="min")
    with pytest.raises(ConsentRequired):
        await client.join(await worker.create_invite(), lambda _policy: False)
    assert client.pending == 0
    assert await relay.holdings() == Holdings(envelopes=0, attachments=0, consent=())


async def test_malformed_invites_and_state_files_are_refused(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    client = ConfideClient.create(tmp_path / "client", PASS, relay.transport(), key_cost="min")
    with pytest.raises(ProtocolError):
        await client.join("https://relay.example/join#not-a-token", lambda _policy: True)
    with pytest.raises(StateError):
        ConfideClient.create(tmp_path / "client", PASS, relay.transport())
    blob = bytearray((tmp_path / "client").read_bytes())
    blob[-1] ^= 1
    (tmp_path / "tampered").write_bytes(bytes(blob))
    with pytest.raises(StateError):
        ConfideClient.open(tmp_path / "tampered", PASS, relay.transport())
    (tmp_path / "junk").write_bytes(b"not a state file")
    with pytest.raises(StateError):
        ConfideClient.open(tmp_path / "junk", PASS, relay.transport())


async def test_one_time_prekeys_are_replenished_when_the_relay_says_so(tmp_path: Path) -> None:
    # The relay's notice goes out on every fetch that leaves fewer than the watermark. At 21
    # only the 80th fetch below sends one, so the worker cannot top up half way through the
    # fetches (it runs concurrently: every fetch is a real request) and the count it reaches
    # is exactly its target. The fetch limit is raised to let one device take 80 bundles.
    async with relay(
        tmp_path / "relay", prekey_low_watermark=21, prekey_fetches_per_minute=80
    ) as local:
        worker = await _worker(tmp_path, local)
        await worker.start()
        fetcher = local.transport()
        other = ConfideClient.create(tmp_path / "other", PASS, fetcher, key_cost="min")
        await other.enrol(await local.enrolment_code())
        await other.login()
        assert worker.device_id is not None
        for _ in range(80):
            await fetcher.fetch_bundle(worker.device_id)
        probe = local.transport()
        challenge = await probe.challenge()
        await probe.login(
            worker.device_id, challenge, worker._state.device.identity.sign_auth(challenge)
        )
        # The worker tops up in the background once the relay's notice arrives; this loop
        # only waits for that to happen (bounded, so a failure cannot hang the suite).
        for _ in range(1000):
            if await probe.prekey_count() != 20:
                break
            await asyncio.sleep(0.01)
        assert await probe.prekey_count() == 100
        await worker.close()


async def test_the_signed_prekey_is_rotated_when_due_and_new_clients_use_it(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    now = [1_800_000_000]
    worker = ConfideClient.create(
        tmp_path / "worker", PASS, relay.transport(), key_cost="min", clock=lambda: now[0]
    )
    await worker.enrol(await relay.enrolment_code())
    await worker.login()
    assert not await worker.rotate_signed_prekey()
    now[0] += 31 * 24 * 3600
    assert await worker.rotate_signed_prekey()
    assert await worker.rotate_signed_prekey(force=True)
    assert sorted(worker._state.device.signed_prekeys) == [2, 3]
    await worker.start()
    client = ConfideClient.create(
        tmp_path / "client", PASS, relay.transport(), key_cost="min", clock=lambda: now[0]
    )
    await client.join(await worker.create_invite(), lambda _policy: True)
    await client.start()
    joined = await asyncio.wait_for(worker.next_event(), timeout=30)
    assert isinstance(joined, ContactJoined)
    await worker.close()
    await client.close()


async def test_garbage_and_malformed_payloads_are_dropped_and_delivery_goes_on(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    worker = await _worker(tmp_path, relay)
    await worker.start()
    client = ConfideClient.create(tmp_path / "client", PASS, relay.transport(), key_cost="min")
    worker_id = await client.join(await worker.create_invite(), lambda _policy: True)
    await client.start()
    assert isinstance(await asyncio.wait_for(worker.next_event(), 30), ContactJoined)
    await asyncio.wait_for(worker.next_event(), 30)
    contact = client._state.contacts[worker_id]
    assert contact.mailbox_id is not None and contact.capability is not None
    device, sender = client._state.device, relay.transport()

    async def inject(n: int, envelope: bytes) -> None:
        assert contact.mailbox_id is not None and contact.capability is not None
        await sender.send(contact.mailbox_id, contact.capability, f"junk-{n}", envelope)

    await inject(1, b"not an envelope at all")
    for n, plaintext in enumerate(
        [
            b"not json",
            b'{"v": 9, "seq": 5, "id": "x", "type": "text", "text": "wrong version"}',
            b'{"v": 1, "id": "x", "type": "delivered", "ids": []}',
            b'{"v": 1, "seq": 2, "id": "x", "type": "attachment", "blob": "b"}',
        ],
        start=2,
    ):
        await inject(n, device.encrypt_to(contact.identity_key, plaintext, rng=os.urandom))
    contact.next_send_seq = 3  # the broken attachment above took seq 2
    client.send_text(worker_id, "still here")
    message = await asyncio.wait_for(worker.next_event(), 30)
    assert isinstance(message, Message) and message.text == "still here"
    assert worker.pending_events == 0
    await worker.close()
    await client.close()


async def test_a_message_before_consent_is_never_shown_to_the_worker(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    """A device that redeemed an invite but sent text before any valid consent (issue 14):
    the worker drops it (docs/protocol.md, Consent in the channel); what follows the
    client's valid hello is shown."""
    relay = local_relay
    worker = await _worker(tmp_path, relay)
    await worker.start()
    client = ConfideClient.create(tmp_path / "client", PASS, relay.transport(), key_cost="min")
    link = await worker.create_invite()
    with pytest.raises(ConsentRequired):
        await client.join(link, lambda _policy: False)
    [contact] = client._state.contacts.values()
    # Bypass the client's own gate, as a hostile or broken client would.
    client._enqueue(contact, "text", {"text": "before any consent"})
    await client.start()
    await asyncio.wait_for(client.flush(), 30)
    policy = await client.refresh_policy()
    # Now a real hello with a valid receipt, then a message that may be shown.
    ref = PolicyRef(policy.version, policy.sha256)
    now = int(client._clock())
    receipt = receipts.consent_to(contact, client._state.device.identity, ref, now, 86400)
    minted = await client._transport.mint_capability()
    client._enqueue(
        contact,
        "hello",
        {
            "mailbox": b64e(client._state.mailbox_id or b""),
            "capability": b64e(minted.secret),
            "device": client.device_id,
            "receipt": b64e(receipt.data),
            "signature": b64e(receipt.signature),
            "invite_proof": b64e(
                invite_proof(
                    parse_invite(link), client._state.device.identity.public, contact.identity_key
                )
            ),
        },
    )
    client.send_text(contact.contact_id, "after consent")
    events = [await asyncio.wait_for(worker.next_event(), 30) for _ in range(3)]
    texts = [e.text for e in events if isinstance(e, Message)]
    assert texts == ["after consent"]
    assert isinstance(events[0], ContactJoined)
    await worker.close()
    await client.close()
