"""The SDK end to end over the real relay in process: enrol, invite, consent, messages,
revocation, restarts. Delivery goes over the relay's real WebSocket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from confide_client.client import ConfideClient
from confide_client.consent import ConsentState
from confide_client.errors import ConsentRequired, ConsentRevoked, RelayRejected, StateError
from confide_client.messages import ConsentChanged, ContactJoined, Event, Message
from confide_client.testing import DEFAULT_POLICY, LocalRelay
from confide_crypto.consent import ConsentReceipt

PASS = "correct horse battery staple"


async def _next(client: ConfideClient) -> Event:
    return await asyncio.wait_for(client.next_event(), timeout=30)


async def _pair(
    tmp_path: Path, relay: LocalRelay, *, max_backoff: float = 30.0
) -> tuple[ConfideClient, ConfideClient, str, str]:
    worker = ConfideClient.create(
        tmp_path / "worker", PASS, relay.transport(), key_cost="min", max_backoff=max_backoff
    )
    await worker.enrol(await relay.enrolment_code())
    await worker.start()
    invite = await worker.create_invite()
    client = ConfideClient.create(
        tmp_path / "client", PASS, relay.transport(), key_cost="min", max_backoff=max_backoff
    )
    shown = []
    worker_id = await client.join(invite, lambda policy: shown.append(policy) or True)
    assert shown == [relay.policy]
    await client.start()
    joined = await _next(worker)
    assert isinstance(joined, ContactJoined)
    granted = await _next(worker)
    assert granted == ConsentChanged(joined.contact_id, ConsentState.GRANTED)
    return worker, client, joined.contact_id, worker_id


async def test_messages_flow_both_ways_in_order_across_drops(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    # A short backoff ceiling: reconnecting after each drop must not dominate the test.
    worker, client, client_id, worker_id = await _pair(tmp_path, relay, max_backoff=1.0)
    worker.set_alias(client_id, "Jamie R.")
    to_client = [f"to-client-{i:02d}" for i in range(50)]
    to_worker = [f"to-worker-{i:02d}" for i in range(50)]
    for i in range(50):
        worker.send_text(client_id, to_client[i])
        client.send_text(worker_id, to_worker[i])
        if i % 7 == 0:
            relay.drop_connections()
    # The network also fails while envelopes are being delivered and acknowledged.
    got_w: list[Event] = []
    got_c: list[Event] = []
    for i in range(50):
        got_w.append(await _next(client))
        got_c.append(await _next(worker))
        if i % 7 == 3:
            relay.drop_connections()
    assert [m.text for m in got_w if isinstance(m, Message)] == to_client
    assert [m.text for m in got_c if isinstance(m, Message)] == to_worker
    assert worker.safety_number(client_id) == client.safety_number(worker_id)
    stored = relay.stored_bytes()
    assert DEFAULT_POLICY.encode() in stored, "the search must see the relay's real files"
    assert b"Jamie" not in stored
    assert [t for t in to_client + to_worker if t.encode() in stored] == []
    await worker.close()
    await client.close()


async def test_attachment_round_trip(tmp_path: Path, local_relay: LocalRelay) -> None:
    relay = local_relay
    worker, client, _, worker_id = await _pair(tmp_path, relay)
    data = bytes(range(256)) * 4096
    await client.send_attachment(worker_id, data, name="scan.bin")
    message = await _next(worker)
    assert isinstance(message, Message) and message.attachment is not None
    assert message.attachment.size == len(data)
    assert await worker.download(message.attachment) == data
    await worker.close()
    await client.close()


async def test_revocation_freezes_the_conversation(tmp_path: Path, local_relay: LocalRelay) -> None:
    relay = local_relay
    worker, client, client_id, worker_id = await _pair(tmp_path, relay)
    await client.revoke_consent(worker_id)
    assert await _next(worker) == ConsentChanged(client_id, ConsentState.REVOKED)
    with pytest.raises(ConsentRevoked):
        worker.send_text(client_id, "still there?")
    with pytest.raises(ConsentRevoked):
        client.send_text(worker_id, "hello again")
    kept = (await relay.holdings()).consent
    assert sorted(record.kind for record in kept) == ["receipt", "revocation"]
    await worker.close()
    await client.close()


async def test_revocation_withdraws_the_workers_send_capability_at_the_relay(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    """Seen (issue 14): after an SDK client revoked, the relay still took the worker's send.

    A worker's program that ignored its own consent gate must be refused by the relay
    itself, with the documented capability-rejected problem.
    """
    relay = local_relay
    worker, client, client_id, worker_id = await _pair(tmp_path, relay)
    held = worker._state.contacts[client_id]
    assert held.mailbox_id is not None and held.capability is not None
    transport = relay.transport()
    await transport.send(held.mailbox_id, held.capability, "before", b"\x00" * 64)
    await client.revoke_consent(worker_id)
    assert await _next(worker) == ConsentChanged(client_id, ConsentState.REVOKED)
    with pytest.raises(RelayRejected) as refused:
        await transport.send(held.mailbox_id, held.capability, "after", b"\x00" * 64)
    assert refused.value.status == 403
    assert refused.value.problem["type"].endswith("/capability-rejected")
    await transport.aclose()
    await worker.close()
    await client.close()


async def test_a_new_policy_needs_fresh_consent(tmp_path: Path, local_relay: LocalRelay) -> None:
    relay = local_relay
    worker, client, client_id, _ = await _pair(tmp_path, relay)
    await relay.publish_policy("Confidentiality policy v2: we now also keep ...")
    await worker.refresh_policy()
    assert worker.consent_state(client_id) is ConsentState.OUTDATED
    with pytest.raises(ConsentRequired):
        worker.send_text(client_id, "hello")
    await worker.close()
    await client.close()


async def test_state_survives_a_restart(tmp_path: Path, local_relay: LocalRelay) -> None:
    relay = local_relay
    worker, client, client_id, worker_id = await _pair(tmp_path, relay)
    worker.set_alias(client_id, "Jamie R.")
    await worker.close()
    client.send_text(worker_id, "while you were away")
    await client.flush()
    with pytest.raises(StateError):
        ConfideClient.open(tmp_path / "worker", "wrong passphrase", relay.transport())
    again = ConfideClient.open(tmp_path / "worker", PASS, relay.transport())
    assert [c.alias for c in again.contacts()] == ["Jamie R."]
    await again.start()
    message = await _next(again)
    assert isinstance(message, Message) and message.text == "while you were away"
    again.send_text(client_id, "back now")
    reply = await _next(client)
    assert isinstance(reply, Message) and reply.text == "back now"
    assert b"Jamie" not in (tmp_path / "worker").read_bytes()
    await again.close()
    await client.close()


async def test_events_not_yet_taken_survive_a_restart(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    worker, client, _, worker_id = await _pair(tmp_path, relay)
    client.send_text(worker_id, "first")
    client.send_text(worker_id, "second")
    await client.flush()
    taken = await _next(worker)
    assert isinstance(taken, Message) and taken.text == "first"
    # Wait (bounded) until the second is in the worker's inbox: received, saved, acknowledged.
    for _ in range(1000):
        if worker.pending_events:
            break
        await asyncio.sleep(0.01)
    await worker.close()
    again = ConfideClient.open(tmp_path / "worker", PASS, relay.transport())
    assert again.pending_events == 1
    kept = await _next(again)
    assert isinstance(kept, Message) and kept.text == "second"
    await client.close()


async def test_the_client_consents_again_to_a_new_policy(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    relay = local_relay
    worker, client, client_id, worker_id = await _pair(tmp_path, relay)
    new = await relay.publish_policy("Confidentiality policy v2.")
    await worker.refresh_policy()
    assert worker.consent_state(client_id) is ConsentState.OUTDATED
    assert await _next(worker) == ConsentChanged(client_id, ConsentState.OUTDATED)
    shown = []
    await client.renew_consent(worker_id, lambda policy: shown.append(policy) or True)
    assert shown == [new]
    assert await _next(worker) == ConsentChanged(client_id, ConsentState.GRANTED)
    worker.send_text(client_id, "thanks for confirming")
    # The client heard that its consent was outdated before it agreed again.
    assert await _next(client) == ConsentChanged(worker_id, ConsentState.OUTDATED)
    reply = await _next(client)
    assert isinstance(reply, Message) and reply.text == "thanks for confirming"
    await worker.close()
    await client.close()


async def test_a_new_policy_reaches_both_open_apps_without_asking(tmp_path: Path) -> None:
    """Seen (issue 14): a worker whose app stayed open was not told of a new version and
    kept sending under the old one. The relay's policy notice moves both gates at once."""
    from confide_client.testing import relay as local

    async with local(tmp_path / "relay", cutoff_check_seconds=0.2) as relay:
        worker, client, client_id, worker_id = await _pair(tmp_path, relay)
        await relay.publish_policy("Confidentiality policy v2: we now also keep ...")
        assert await _next(worker) == ConsentChanged(client_id, ConsentState.OUTDATED)
        assert await _next(client) == ConsentChanged(worker_id, ConsentState.OUTDATED)
        with pytest.raises(ConsentRequired):
            worker.send_text(client_id, "under the old policy")
        await client.renew_consent(worker_id, lambda _policy: True)
        assert await _next(worker) == ConsentChanged(client_id, ConsentState.GRANTED)
        await worker.close()
        await client.close()


async def test_a_client_consents_to_the_policy_in_its_language(
    tmp_path: Path, local_relay: LocalRelay
) -> None:
    # The organisation publishes the version in Spanish too; a client that reads Spanish is
    # shown that text, and its receipt names the language and that text's hash. The worker's
    # gate counts it as consent to the version (issue 17).
    relay = local_relay
    spanish = "Lo que nos cuentas es privado, salvo cuando la ley exige otra cosa."
    policy = await relay.translate_policy("es", spanish)
    worker = ConfideClient.create(tmp_path / "worker", PASS, relay.transport(), key_cost="min")
    await worker.enrol(await relay.enrolment_code())
    await worker.start()
    invite = await worker.create_invite()
    client = ConfideClient.create(tmp_path / "client", PASS, relay.transport(), key_cost="min")
    shown: list[object] = []
    worker_id = await client.join(invite, lambda p: shown.append(p) or True, language="es")
    assert [(p.text, p.language) for p in shown] == [(spanish, "es")]  # type: ignore[attr-defined]
    await client.start()
    joined = await _next(worker)
    assert isinstance(joined, ContactJoined)
    assert await _next(worker) == ConsentChanged(joined.contact_id, ConsentState.GRANTED)
    (record,) = await worker.consent_records()
    receipt = ConsentReceipt.decode(record.statement.data)
    assert receipt.policy_language == "es"
    assert receipt.policy_sha256.hex() == policy.translations[0].sha256
    worker.send_text(joined.contact_id, "hola")
    reply = await _next(client)
    assert isinstance(reply, Message) and reply.text == "hola"
    # A new version: the client is shown it in Spanish again when the organisation has it.
    new = await relay.publish_policy("Policy v2.")
    await relay.translate_policy("es", "Política v2.")
    await worker.refresh_policy()
    assert worker.consent_state(joined.contact_id) is ConsentState.OUTDATED
    renewed: list[object] = []
    await client.renew_consent(worker_id, lambda p: renewed.append(p) or True)
    assert [p.text for p in renewed] == ["Política v2."]  # type: ignore[attr-defined]
    assert new.version == 2
    while (event := await _next(worker)) != ConsentChanged(joined.contact_id, ConsentState.GRANTED):
        assert isinstance(event, ConsentChanged)
    await worker.close()
    await client.close()
