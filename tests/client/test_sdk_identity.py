"""Identity at the edges in the SDK, over the real relay in process: a hello binds only to
the invite whose secret it proves, and a client's new key (a rejoin) never silently replaces
the old one (docs/protocol.md E2E §18)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from confide_client.client import ConfideClient
from confide_client.consent import ConsentState
from confide_client.contact import Contact
from confide_client.encoding import b64e
from confide_client.errors import (
    ConsentRequired,
    KeyChangePending,
    RelayRejected,
    StateError,
    UnknownContact,
)
from confide_client.invites import crypto_bundle, invite_link, invite_proof, parse_invite
from confide_client.messages import (
    ConsentChanged,
    ContactJoined,
    Event,
    KeyChanged,
    Message,
    decode_payload,
)
from confide_client.ordering import ReceiveWindow
from confide_client.testing import LocalRelay
from confide_crypto.errors import CryptoError

PASS = "correct horse battery staple"


async def _next(client: ConfideClient) -> Event:
    return await asyncio.wait_for(client.next_event(), timeout=30)


class ForgedHello(ConfideClient):
    """A device whose hello proves another invite than the one it redeemed, or none at all.

    ``forge`` is a proof to present as it is (str), an invite secret to prove for this
    device's own key (bytes), or None for a hello without a proof.
    """

    forge: str | bytes | None = None

    def _enqueue(self, contact: Contact, kind: str, fields: Mapping[str, object]) -> str:
        if kind == "hello":
            fields = {k: v for k, v in fields.items() if k != "invite_proof"}
            if isinstance(self.forge, bytes):
                proof = invite_proof(self.forge, self.identity_key, contact.identity_key)
                fields["invite_proof"] = b64e(proof)
            elif self.forge is not None:
                fields["invite_proof"] = self.forge
        return super()._enqueue(contact, kind, fields)


async def _worker(tmp_path: Path, relay: LocalRelay) -> ConfideClient:
    worker = ConfideClient.create(tmp_path / "worker", PASS, relay.transport(), key_cost="min")
    await worker.enrol(await relay.enrolment_code())
    await worker.start()
    return worker


async def _join(
    tmp_path: Path, relay: LocalRelay, name: str, invite: str, forge: str | bytes | None = "real"
) -> tuple[ConfideClient, str]:
    client = (ConfideClient if forge == "real" else ForgedHello).create(
        tmp_path / name, PASS, relay.transport(), key_cost="min"
    )
    if isinstance(client, ForgedHello):
        client.forge = forge
    worker_id = await client.join(invite, lambda policy: True)
    await client.start()
    return client, worker_id


async def _joined(worker: ConfideClient) -> str:
    joined = await _next(worker)
    assert isinstance(joined, ContactJoined)
    assert await _next(worker) == ConsentChanged(joined.contact_id, ConsentState.GRANTED)
    return joined.contact_id


async def test_forged_hellos_are_refused(
    tmp_path: Path, local_relay: LocalRelay, caplog: pytest.LogCaptureFixture
) -> None:
    relay = local_relay
    worker = await _worker(tmp_path, relay)
    sam_invite = await worker.create_invite()
    sam, sam_worker = await _join(tmp_path, relay, "sam", sam_invite)
    sam_id = await _joined(worker)

    # Sam's own proof, which a device that learnt Sam's invite secret could present, a proof
    # of Sam's secret made for the intruder's own key, and no proof at all: each comes from a
    # device that redeemed a spare invite of the same worker.
    token = parse_invite(sam_invite)
    intruders = []
    for name, proof in (
        ("borrowed", b64e(invite_proof(token, sam.identity_key, worker.identity_key))),
        ("own-key", token),
        ("none", None),
    ):
        device, to_worker = await _join(tmp_path, relay, name, await worker.create_invite(), proof)
        device.send_text(to_worker, f"I am Sam now ({name})")
        await device.flush()
        intruders.append(device)

    # Their envelopes reached the worker's mailbox first; the worker's next event is Sam's.
    sam.send_text(sam_worker, "Still Sam")
    got = await _next(worker)
    assert got == Message(
        sam_id, 2, got.message_id if isinstance(got, Message) else "", "Still Sam"
    )
    assert [c.contact_id for c in worker.contacts()] == [sam_id]
    refusals = [r.getMessage() for r in caplog.records if r.name == "confide_client"]
    assert refusals.count("dropped a hello message that failed its checks") == 3, refusals
    assert worker.safety_number(sam_id) == sam.safety_number(sam_worker)
    worker.send_text(sam_id, "Only for Sam")
    assert isinstance(reply := await _next(sam), Message) and reply.text == "Only for Sam"
    for device in (*intruders, sam, worker):
        await device.close()


async def test_a_rejoin_is_a_key_change_the_worker_confirms(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    worker = await _worker(tmp_path, relay)
    old, old_worker = await _join(tmp_path, relay, "old", await worker.create_invite())
    kim = await _joined(worker)

    rejoin = await worker.create_rejoin_invite(kim)
    with pytest.raises(UnknownContact):
        await worker.create_rejoin_invite("no-such-contact")
    new, new_worker = await _join(tmp_path, relay, "new", rejoin)
    assert await _next(worker) == KeyChanged(kim)
    assert [(c.contact_id, c.key_changed) for c in worker.contacts()] == [(kim, True)]

    # Sending stops; the old, confirmed key keeps arriving; the new key's messages wait.
    with pytest.raises(KeyChangePending):
        worker.send_text(kim, "to whom?")
    new.send_text(new_worker, "From my new phone")
    await new.flush()
    old.send_text(old_worker, "Old phone, still here")
    got = await _next(worker)
    assert isinstance(got, Message) and (got.contact_id, got.text) == (kim, "Old phone, still here")

    # The worker compares the new safety number and confirms: consent again, then the held
    # message, in the same conversation.
    assert worker.pending_safety_number(kim) == new.safety_number(new_worker)
    assert worker.pending_safety_number(kim) != worker.safety_number(kim)
    await worker.confirm_key_change(kim)
    assert await _next(worker) == ConsentChanged(kim, ConsentState.GRANTED)
    got = await _next(worker)
    assert isinstance(got, Message) and (got.contact_id, got.text) == (kim, "From my new phone")
    assert worker.safety_number(kim) == new.safety_number(new_worker)
    assert [(c.contact_id, c.key_changed) for c in worker.contacts()] == [(kim, False)]
    with pytest.raises(StateError):
        await worker.confirm_key_change(kim)
    worker.send_text(kim, "Welcome back")
    reply = await _next(new)
    assert isinstance(reply, Message) and reply.text == "Welcome back"
    # The old device's capability for the worker's mailbox no longer writes.
    old_worker_contact = old._state.contacts[old_worker]
    assert old_worker_contact.mailbox_id is not None and old_worker_contact.capability is not None
    async with httpx.AsyncClient(base_url=relay.url) as http:
        refused = await http.post(
            f"/v1/mailboxes/{b64e(old_worker_contact.mailbox_id)}/messages",
            json={
                "capability": b64e(old_worker_contact.capability),
                "client_message_id": "after-confirm",
                "body": "AAAA",
            },
        )
    assert refused.status_code == 403, refused.text

    # The rejoin invite bound once: it is gone, and survives a restart as such.
    await worker.close()
    reopened = ConfideClient.open(worker.state_path, PASS, relay.transport())
    assert [(c.contact_id, c.key_changed) for c in reopened.contacts()] == [(kim, False)]
    for device in (old, new):
        await device.close()


async def test_pending_invites_are_listed_and_cancelled(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    worker = await _worker(tmp_path, relay)
    kept, dropped = await worker.create_invite(), await worker.create_invite()
    assert sorted(i.token for i in worker.pending_invites()) == sorted([kept, dropped])
    assert all(not i.expired and i.contact_id is None for i in worker.pending_invites())

    await worker.cancel_invite(invite_link(relay.url, dropped))
    assert [i.token for i in worker.pending_invites()] == [kept]
    with pytest.raises(StateError):
        await worker.cancel_invite(dropped)
    late = ConfideClient.create(tmp_path / "late", PASS, relay.transport(), key_cost="min")
    with pytest.raises(RelayRejected) as refused:
        await late.join(dropped, lambda policy: True)
    assert refused.value.status == 404

    # A redeemed invite is the relay's to refuse: 410 already-used. (The client declines the
    # policy, so no hello is on its way to bind the invite meanwhile.)
    client = ConfideClient.create(tmp_path / "client", PASS, relay.transport(), key_cost="min")
    with pytest.raises(ConsentRequired):
        await client.join(kept, lambda policy: False)
    with pytest.raises(RelayRejected) as used:
        await worker.cancel_invite(kept)
    assert used.value.status == 410
    assert used.value.problem["type"].endswith("/already-used")
    assert [i.token for i in worker.pending_invites()] == [kept]
    for device in (client, late, worker):
        await device.close()


async def test_a_new_worker_key_is_a_key_change_the_client_confirms(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    worker = await _worker(tmp_path, relay)
    client, to_worker = await _join(tmp_path, relay, "client", await worker.create_invite())
    to_client = await _joined(worker)

    # The worker re-enrolled: a device with a new identity key writes to the client's mailbox
    # with what the old device knew (the client's mailbox, capability and consent), in an
    # envelope the client did not ask for. Nothing in the protocol names it beforehand.
    (tmp_path / "re-enrolled").mkdir()
    new = await _worker(tmp_path / "re-enrolled", relay)
    known = worker._state.contacts[to_client].to_json()
    moved = Contact.from_json({**known, "next_send_seq": 1, "window": ReceiveWindow().to_json()})
    assert moved.device_id is not None
    bundle = await new._transport.fetch_bundle(moved.device_id)
    new._state.device.start_session(crypto_bundle(bundle), new._rng)
    new._state.contacts[moved.contact_id] = moved
    new._enqueue(moved, "text", {"text": "From the worker's new device"})
    await new.flush()

    assert await _next(client) == KeyChanged(to_worker)
    assert [(c.contact_id, c.key_changed) for c in client.contacts()] == [(to_worker, True)]
    with pytest.raises(KeyChangePending):
        client.send_text(to_worker, "to whom?")
    # The old, confirmed key keeps arriving; the new key's message waits, unshown.
    worker.send_text(to_client, "Old device, still here")
    got = await _next(client)
    assert isinstance(got, Message) and (got.contact_id, got.text) == (
        to_worker,
        "Old device, still here",
    )
    assert client.pending_events == 0

    # Saved and reopened, the change still waits.
    await client.close()
    client = ConfideClient.open(client.state_path, PASS, relay.transport())
    await client.start()
    assert [(c.contact_id, c.key_changed) for c in client.contacts()] == [(to_worker, True)]
    assert client.pending_safety_number(to_worker) == new.safety_number(moved.contact_id)
    assert client.pending_safety_number(to_worker) != client.safety_number(to_worker)
    with pytest.raises(StateError):
        await worker.confirm_key_change(to_client)

    await client.confirm_key_change(to_worker)
    got = await _next(client)
    assert isinstance(got, Message) and (got.contact_id, got.text) == (
        to_worker,
        "From the worker's new device",
    )
    assert client.safety_number(to_worker) == new.safety_number(moved.contact_id)
    assert [(c.contact_id, c.key_changed) for c in client.contacts()] == [(to_worker, False)]
    with pytest.raises(StateError):
        await client.confirm_key_change(to_worker)
    # Sending is on again: the client keeps writing to the mailbox it knows (nothing told it
    # another), sealed to the new key, which alone can read it.
    await client.close()
    client = ConfideClient.open(client.state_path, PASS, relay.transport())
    client.send_text(to_worker, "Hello, new device")
    (entry,) = list(client._state.outbox)
    with pytest.raises(CryptoError):
        worker._state.device.decrypt_envelope(entry.envelope, now=0, rng=worker._rng)
    opened = new._state.device.decrypt_envelope(entry.envelope, now=0, rng=new._rng)
    assert decode_payload(opened.plaintext) == {
        "v": 1,
        "seq": 1,
        "id": entry.client_msg_id,
        "type": "text",
        "text": "Hello, new device",
    }
    for device in (client, worker, new):
        await device.close()
