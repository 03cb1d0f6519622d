"""Consultation with a supervisor through the SDK, over the real relay in process.

A worker asks about a client's conversation; the draft is de-identified; the supervisor's
device receives the case under a random label, replies, and the worker sees the reply with
the right contact. Nothing the supervisor's device keeps names the client, and the relay's
files hold neither the text nor the case label.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from confide_client.client import ConfideClient
from confide_client.consultations import Draft, Thread, compose, receive
from confide_client.contact import Contact
from confide_client.deidentify import add_term, undo
from confide_client.encoding import b64e
from confide_client.errors import ProtocolError, StateError
from confide_client.messages import (
    ConsentChanged,
    Consultation,
    ConsultationClosed,
    ConsultationReply,
    ContactJoined,
    Event,
    Message,
)
from confide_client.testing import LocalRelay

ALIAS, NOTED = "Maria Lopez", ["Mari", "Marisol"]
FROM_CLIENT = [
    "Hi, it's Maria. My new number is 555-201-7788, text me there not here",
    "Marisol is what my family calls me. I moved to 1423 Maple Grove Ave on March 12",
    "I'm scared I'll use again before court",
]


async def _next(client: ConfideClient) -> Event:
    return await asyncio.wait_for(client.next_event(), timeout=30)


async def _setup(
    relay: LocalRelay, supervisor_clock: list[int]
) -> tuple[ConfideClient, ConfideClient, ConfideClient, str]:
    worker = await relay.worker("worker")
    supervisor = await relay.worker(
        "supervisor", role="supervisor", clock=lambda: supervisor_clock[0]
    )
    await worker.start()
    await supervisor.start()
    client = relay.device("client")
    await client.join(await worker.create_invite(), lambda _policy: True)
    await client.start()
    joined = await _next(worker)
    assert isinstance(joined, ContactJoined)
    assert isinstance(await _next(worker), ConsentChanged)
    worker_contact = client.contacts()[0].contact_id
    for text in FROM_CLIENT:
        client.send_text(worker_contact, text)
    for text in FROM_CLIENT:
        event = await _next(worker)
        assert isinstance(event, Message) and event.text == text
    worker.set_alias(joined.contact_id, ALIAS)
    worker.note_names(joined.contact_id, NOTED)
    return worker, supervisor, client, joined.contact_id


async def test_a_consultation_round_trip_leaves_nothing_of_the_client_with_the_supervisor(
    local_relay: LocalRelay,
) -> None:
    relay, clock = local_relay, [int(time.time())]
    worker, supervisor, client, contact_id = await _setup(relay, clock)
    supervisors = await worker.supervision.supervisors()
    assert [s.device_id for s in supervisors] == [supervisor.device_id]

    draft = worker.supervision.draft(
        "Maria asked me to text her on another phone. Is that OK?",
        excerpt_from=contact_id,
        last=3,
    )
    assert draft.contact_id == contact_id
    kinds = {r.kind for r in draft.redactions}
    assert {"client", "phone", "address", "date"} <= kinds
    for secret in [ALIAS, *NOTED, "Maria", "555-201-7788", "1423 Maple", "March 12"]:
        assert secret not in draft.text
    assert "I'm scared I'll use again before court" in draft.text

    case = await worker.supervision.ask(supervisors[0].device_id, draft)
    await worker.flush()
    asked = await _next(supervisor)
    roster = {w.device_id: w.worker_id for w in await worker._transport.workers()}
    assert asked == Consultation(case, roster[worker.device_id or ""], draft.text)

    await supervisor.supervision.reply(case, "Keep it in Confide; explain why, kindly.")
    await supervisor.flush()
    assert await _next(worker) == ConsultationReply(
        case, contact_id, "Keep it in Confide; explain why, kindly."
    )
    await worker.supervision.reply(case, "Thanks, will do.")
    await worker.flush()
    follow_up = await _next(supervisor)
    assert isinstance(follow_up, Consultation) and follow_up.text == "Thanks, will do."
    await supervisor.supervision.close(case)
    await supervisor.flush()
    assert await _next(worker) == ConsultationClosed(case)
    with pytest.raises(StateError):
        await worker.supervision.reply(case, "one more thing")

    # The supervisor's whole state (decrypted) names none of the client's identifiers.
    supervisor.save()
    held = supervisor._state.to_bytes().decode()
    client_key = client.identity_key
    for secret in [
        ALIAS,
        *NOTED,
        "Maria",
        contact_id,
        client.device_id or "?",
        b64e(client_key),
        client_key.hex(),
        "555-201-7788",
    ]:
        assert secret not in held, secret
    assert supervisor.contacts() == []
    assert [t.case for t in supervisor.supervision.threads()] == [case]
    assert supervisor.supervision.threads()[0].contact_id is None
    # The relay keeps neither the text nor the case label.
    stored = relay.stored_bytes()
    for secret in [case, "Keep it in Confide", "scared I'll use again"]:
        assert secret.encode() not in stored


async def test_consultations_disappear_after_the_organisations_period(
    local_relay: LocalRelay,
) -> None:
    relay, clock = local_relay, [int(time.time())]
    await relay.set_org_setting("consultation_retention_seconds", 7200)
    worker, supervisor, _client, contact_id = await _setup(relay, clock)
    await supervisor.supervision.refresh_retention()
    draft = worker.supervision.draft("A question", excerpt_from=contact_id, last=1)
    target = (await worker.supervision.supervisors())[0].device_id
    case = await worker.supervision.ask(target, draft)
    await worker.flush()
    assert isinstance(await _next(supervisor), Consultation)
    clock[0] += 7199
    assert [t.case for t in supervisor.supervision.threads()] == [case]
    clock[0] += 1
    assert supervisor.supervision.threads() == []
    with pytest.raises(StateError):
        await supervisor.supervision.reply(case, "too late")


async def test_only_a_supervisor_is_asked_and_an_excerpt_comes_from_a_client(
    local_relay: LocalRelay,
) -> None:
    relay, clock = local_relay, [int(time.time())]
    worker, supervisor, _client, contact_id = await _setup(relay, clock)
    colleague = await relay.worker("colleague")
    draft = worker.supervision.draft("A question", excerpt_from=contact_id)
    with pytest.raises(StateError):
        await worker.supervision.ask(colleague.device_id or "", draft)
    too_long = compose("x" * 20_001, [])
    with pytest.raises(StateError):
        await worker.supervision.ask(supervisor.device_id or "", too_long)
    await worker.supervision.ask(supervisor.device_id or "", draft)
    staff = next(c for c in worker._state.contacts.values() if c.staff)
    with pytest.raises(StateError):
        worker.supervision.draft("A question", excerpt_from=staff.contact_id)
    assert [c.contact_id for c in worker.contacts()] == [contact_id]


async def test_a_supervisor_filed_as_an_unknown_sender_can_still_be_asked(
    local_relay: LocalRelay,
) -> None:
    """A worker's device files any unknown sender as an unbound contact awaiting a hello
    (issue 14); a supervisor whose device once wrote first is a colleague, not a client."""
    relay, clock = local_relay, [int(time.time())]
    worker, supervisor, _client, contact_id = await _setup(relay, clock)
    stray = Contact(identity_key=supervisor.identity_key, bound=False)
    worker._state.contacts[stray.contact_id] = stray
    draft = worker.supervision.draft("A question", excerpt_from=contact_id, last=1)
    case = await worker.supervision.ask(supervisor.device_id or "", draft)
    await worker.flush()
    assert isinstance(await _next(supervisor), Consultation)
    await supervisor.supervision.reply(case, "An answer")
    await supervisor.flush()
    assert await _next(worker) == ConsultationReply(case, contact_id, "An answer")
    await worker.supervision.reply(case, "A follow-up")
    await worker.flush()
    assert isinstance(await _next(supervisor), Consultation)
    assert [c.contact_id for c in worker.contacts()] == [contact_id]


def test_the_worker_can_undo_and_add_redactions_before_sending() -> None:
    text = "Ana works at Bodega Sol, 555-201-7788."
    draft = compose(text, [], alias="Ana")
    assert draft.text == "[client] works at Bodega Sol, [phone]."
    phone = next(i for i, r in enumerate(draft.redactions) if r.kind == "phone")
    reviewed = add_term(draft.original, undo(draft.redactions, phone), "Bodega Sol")
    assert Draft(draft.original, tuple(reviewed), None).text == (
        "[client] works at [redacted], 555-201-7788."
    )


def _payload(kind: str, case: str, **fields: str) -> dict[str, object]:
    return {"type": kind, "case": case, "seq": 1, "id": "m", **fields}


def test_a_client_cannot_start_a_consultation() -> None:
    client = Contact(identity_key=b"\x01" * 32, receipt=b"receipt")
    with pytest.raises(ProtocolError):
        receive({}, client, _payload("consult", "C", text="t", device="d", worker="w"), 0)
    assert not client.staff


def test_a_reply_needs_a_case_this_device_asked_that_colleague() -> None:
    supervisor = Contact(identity_key=b"\x02" * 32, staff_worker_id="sup")
    other = Contact(identity_key=b"\x03" * 32, staff_worker_id="other")
    threads = {"C": Thread("C", supervisor.contact_id, True, "me", "client-contact")}
    with pytest.raises(ProtocolError):
        receive(threads, supervisor, _payload("consult-reply", "D", text="t"), 0)
    with pytest.raises(ProtocolError):
        receive(threads, other, _payload("consult-reply", "C", text="t"), 0)
    assert receive(threads, supervisor, _payload("consult-reply", "C", text="t"), 5) == [
        ConsultationReply("C", "client-contact", "t")
    ]


async def test_another_clients_alias_and_names_are_masked_from_the_workers_list(
    local_relay: LocalRelay,
) -> None:
    worker, _supervisor, _client, contact_id = await _setup(local_relay, [int(time.time())])
    other = Contact(identity_key=b"\x07" * 32, alias="Jess R.", names=["Jessica"])
    worker._state.contacts[other.contact_id] = other
    draft = worker.supervision.draft("Maria met Jessica at group", excerpt_from=contact_id, last=0)
    assert draft.text == "[client] met [name] at group"
    assert worker.supervision.draft("Jess R. relapsed").text == "[name] relapsed"
