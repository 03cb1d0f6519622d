"""Peer support groups end to end over the real relay: a worker and three clients' SDK devices.

Create, invite, consent to the group terms, messages from every member to every other, an
attachment uploaded once, a worker offline while clients talk, removal (the removed member
gets nothing after it), leaving; then the relay's files and logs are searched for the group's
name, its id, the members' ids and the names they chose (docs/protocol.md Part 3).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time

import pytest
from confide_client.client import ConfideClient
from confide_client.encoding import b64d, b64e
from confide_client.errors import StateError
from confide_client.groups import roster
from confide_client.messages import (
    Event,
    GroupMemberJoined,
    GroupMemberRemoved,
    GroupMessage,
    GroupTermsChanged,
)
from confide_client.testing import DEFAULT_PASSPHRASE, LocalRelay
from confide_crypto.group_consent import GroupConsentReceipt
from confide_server.store import schema
from sqlalchemy import func, select

GROUP_NAME = "Tuesday Evening Recovery Circle"
TERMS = "Group terms: what you write is read by every member; workers keep the usual limits."
NAMES = {"worker": "Facilitator Ash", "a": "Robin Nightjar", "b": "Quill Harbour", "c": "Wren Oak"}


async def next_of(client: ConfideClient, kind: type) -> Event:
    """The next event of ``kind`` (others, such as joins of earlier members, are skipped)."""
    while True:
        event = await asyncio.wait_for(client.next_event(), 30)
        if isinstance(event, kind):
            return event


async def joined_event(client: ConfideClient, name: str) -> None:
    """Wait until ``client`` has been shown the member called ``name`` join."""
    while True:
        seen = await next_of(client, GroupMemberJoined)
        if isinstance(seen, GroupMemberJoined) and seen.name == name:
            return


async def texts(client: ConfideClient, count: int) -> set[tuple[str, str]]:
    got = set()
    while len(got) < count:
        event = await next_of(client, GroupMessage)
        assert isinstance(event, GroupMessage)
        got.add((event.name, event.text or ""))
    return got


async def join(relay: LocalRelay, worker: ConfideClient, group_id: str, name: str) -> ConfideClient:
    link = await worker.groups.invite(group_id)
    device = relay.device(name)
    shown = []
    joined = await device.groups.join(
        f"{relay.url}/join#{link}", lambda t: shown.append(t.text) or True, name=NAMES[name]
    )
    assert joined == group_id and shown == [TERMS]
    await device.start()
    await joined_event(worker, NAMES[name])
    return device


async def worker_with_group(relay: LocalRelay) -> tuple[ConfideClient, str]:
    """A started worker device with a new group, under the group terms TERMS."""
    await relay.publish_group_terms(TERMS)
    worker = await relay.worker("worker")
    await worker.start()
    return worker, await worker.groups.create(GROUP_NAME, display_name_=NAMES["worker"])


async def queued_for(relay: LocalRelay, client: ConfideClient) -> int:
    mailbox = client._state.mailbox_id
    async with relay._engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(schema.envelopes)
            .where(schema.envelopes.c.mailbox_id == mailbox)
        )
    return int(count or 0)


async def remove(
    relay: LocalRelay,
    worker: ConfideClient,
    group_id: str,
    gone: ConfideClient,
    name: str,
    others: tuple[ConfideClient, ...],
) -> tuple[str, int]:
    """``worker`` removes ``gone`` (shown as ``name``): each of ``others`` is shown it, and
    ``gone`` can send no more and is closed. Returns its member id and how many envelopes
    wait in its mailbox then, to compare with later."""
    member_id = next(m.member_id for m in worker.groups.members(group_id) if m.name == name)
    await worker.groups.remove(group_id, member_id)
    for device in others:
        removed = await next_of(device, GroupMemberRemoved)
        assert removed == GroupMemberRemoved(group_id, member_id, name, "removed")
    # The removed device is shown its own removal, under the name it had.
    assert await next_of(gone, GroupMemberRemoved) == removed
    with pytest.raises(StateError):
        gone.groups.send_text(group_id, "am I still here?")
    await gone.close()
    return member_id, await queued_for(relay, gone)


async def test_a_group_of_a_worker_and_three_clients(
    local_relay: LocalRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="confide_server")
    caplog.set_level(logging.INFO, logger="uvicorn")
    relay = local_relay
    await relay.publish_group_terms(TERMS)
    worker = await relay.worker("worker")
    await worker.start()
    group_id = await worker.groups.create(GROUP_NAME, display_name_=NAMES["worker"])
    created = await next_of(worker, GroupMemberJoined)
    assert created == GroupMemberJoined(
        group_id, worker.groups.members(group_id)[0].member_id, NAMES["worker"]
    )
    a = await join(relay, worker, group_id, "a")
    b = await join(relay, worker, group_id, "b")
    # Each client sees the whole roster, by chosen names only.
    await joined_event(a, NAMES["b"])
    await joined_event(b, NAMES["b"])
    for device in (worker, a, b):
        names = {m.name for m in device.groups.members(group_id)}
        assert names == {NAMES["worker"], NAMES["a"], NAMES["b"]}
    assert worker.groups.consents(group_id).keys() == {
        m.member_id for m in worker.groups.members(group_id) if m.role == "client"
    }

    # Every member to every other, both ways.
    members = {"worker": worker, "a": a, "b": b}
    for who, device in members.items():
        device.groups.send_text(group_id, f"hello from {who}")
    for who, device in members.items():
        expected = {(NAMES[o], f"hello from {o}") for o in members if o != who}
        assert await texts(device, 2) == expected
    a_id = next(m.member_id for m in b.groups.members(group_id) if m.name == NAMES["a"])
    b_id = next(m.member_id for m in a.groups.members(group_id) if m.name == NAMES["b"])
    assert a.groups.safety_number(group_id, b_id) == b.groups.safety_number(group_id, a_id)

    # An attachment: one blob at the relay, the key pairwise.
    data = b"%PDF-1.4 worksheet " + bytes(range(256)) * 40
    await a.groups.send_attachment(group_id, data, name="worksheet.pdf", mime="application/pdf")
    for device in (worker, b):
        event = await next_of(device, GroupMessage)
        assert isinstance(event, GroupMessage) and event.attachment is not None
        assert await device.download(event.attachment) == data
    assert (await relay.holdings()).attachments == 1

    # The worker goes offline; the clients go on talking, and a third joins later.
    worker_path = worker.state_path
    await worker.close()
    a.groups.send_text(group_id, "while the worker is away")
    b.groups.send_text(group_id, "still here")
    assert await texts(b, 1) == {(NAMES["a"], "while the worker is away")}
    assert await texts(a, 1) == {(NAMES["b"], "still here")}
    worker = ConfideClient.open(worker_path, DEFAULT_PASSPHRASE, relay.transport())
    await worker.start()
    assert await texts(worker, 2) == {
        (NAMES["a"], "while the worker is away"),
        (NAMES["b"], "still here"),
    }
    c = await join(relay, worker, group_id, "c")
    for device in (a, b, c):
        await joined_event(device, NAMES["c"])
    c.groups.send_text(group_id, "new here")
    for device in (worker, a, b):
        assert await texts(device, 1) == {(NAMES["c"], "new here")}
    a.groups.send_text(group_id, "welcome")
    assert await texts(c, 1) == {(NAMES["a"], "welcome")}
    await next_of(worker, GroupMessage)
    await next_of(b, GroupMessage)

    # Removal: every member is shown it; the removed device gets nothing afterwards.
    c_id, before = await remove(relay, worker, group_id, c, NAMES["c"], (a, b))
    a.groups.send_text(group_id, "after the removal")
    b.groups.send_text(group_id, "after the removal too")
    await a.flush()
    await b.flush()
    assert await texts(worker, 2) == {
        (NAMES["a"], "after the removal"),
        (NAMES["b"], "after the removal too"),
    }
    assert await queued_for(relay, c) == before

    # Leaving: the others are told; nothing reaches the one who left.
    await b.groups.leave(group_id)
    await b.flush()
    for device in (worker, a):
        left = await next_of(device, GroupMemberRemoved)
        assert isinstance(left, GroupMemberRemoved) and left.reason == "left"
        assert left.name == NAMES["b"]
    await b.close()
    before_b = await queued_for(relay, b)
    a.groups.send_text(group_id, "just us now")
    await a.flush()
    assert await texts(worker, 1) == {(NAMES["a"], "just us now")}
    assert await queued_for(relay, b) == before_b
    assert {m.name for m in worker.groups.members(group_id)} == {NAMES["worker"], NAMES["a"]}
    await worker.close()
    await a.close()

    # Nothing at the relay or in its logs names the group, its id, its members or their names.
    stored = relay.stored_bytes()
    assert TERMS.encode() in stored, "the search must see the relay's real files"
    relay_logs = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("confide_client")
    ).encode()
    member_ids = [m.member_id for m in a.groups.members(group_id)] + [c_id, b_id]
    needles = {GROUP_NAME.encode(), group_id.encode(), b64d(group_id), b64d(group_id).hex()}
    needles |= {n.encode() for n in NAMES.values()}
    needles |= {i.encode() for i in member_ids} | {b64d(i) for i in member_ids}
    for needle in needles:
        assert (needle if isinstance(needle, bytes) else needle.encode()) not in stored
        assert (needle if isinstance(needle, bytes) else needle.encode()) not in relay_logs


async def test_a_client_cannot_change_the_membership(local_relay: LocalRelay) -> None:
    relay = local_relay
    worker, group_id = await worker_with_group(relay)
    a = await join(relay, worker, group_id, "a")
    b = await join(relay, worker, group_id, "b")
    for device in (a, b):
        await joined_event(device, NAMES["b"])
    # Robin's device signs a roster of its own that leaves the worker and Quill out, and
    # sends it to Quill over their pairwise session, then an ordinary message behind it.
    group = a._state.groups[group_id]
    me = group.members[group.own_member_id or ""]
    send_forged_roster(a, group_id, [me.roster_entry()], NAMES["b"])
    # Quill's device takes the message (it comes after the forgery in that pair's order) and
    # nothing else: no member is removed, and the roster is the worker's.
    event = await asyncio.wait_for(b.next_event(), 30)
    assert isinstance(event, GroupMessage) and event.text == "after my forgery"
    assert {m.name for m in b.groups.members(group_id)} == {
        NAMES["worker"],
        NAMES["a"],
        NAMES["b"],
    }
    assert b._state.groups[group_id].epoch == group.epoch

    # Disappearing timers stay within the organisation's limits (5 minutes to 30 days here).
    with pytest.raises(StateError):
        await worker.groups.set_timer(group_id, 60)
    await worker.groups.set_timer(group_id, 86_400)
    worker.groups.send_text(group_id, "messages now disappear after a day")
    event = await next_of(b, GroupMessage)
    assert isinstance(event, GroupMessage) and event.text == "messages now disappear after a day"
    assert b._state.groups[group_id].timer == 86_400
    await a.flush()


def send_forged_roster(
    forger: ConfideClient, group_id: str, entries: list[dict[str, object]], to: str
) -> None:
    """``forger`` signs a roster of ``entries`` itself and sends it to the member called
    ``to`` over their pairwise session, then an ordinary message "after my forgery"."""
    group = forger._state.groups[group_id]
    forged = roster.build(
        group, [], op="removed", member=None, signer=forger.identity_key, now=relay_now()
    )
    forged["members"] = entries
    data, signature = roster.sign(forged, forger._state.device.identity)
    target = next(m for m in group.members.values() if m.name == to)
    fields = {"roster": b64e(data), "signature": b64e(signature)}
    forger.groups.inbound.fanout.send(group, target, "group-roster", fields)
    forger.groups.send_text(group_id, "after my forgery")


def relay_now() -> int:
    return int(time.time())


async def test_new_group_terms_move_into_the_roster_and_a_renewal_is_kept(
    local_relay: LocalRelay,
) -> None:
    """A worker's renew_terms signs a roster naming the newest group terms (change `terms`,
    docs/protocol.md G9 "New group terms"); a member takes it, and the worker keeps a fresh
    receipt checked against those terms, not one for the old terms."""
    relay = local_relay
    worker, group_id = await worker_with_group(relay)
    a = await join(relay, worker, group_id, "a")
    assert not await worker.groups.renew_terms(group_id)
    first = worker.groups.terms_version(group_id)
    await relay.publish_group_terms(TERMS + " Version two.")
    assert await worker.groups.renew_terms(group_id)
    assert worker.groups.terms_version(group_id) == first + 1
    # The pair's order holds: once the text behind the roster arrives, the roster has too.
    worker.groups.send_text(group_id, "the terms changed")
    assert await texts(a, 1) == {(NAMES["worker"], "the terms changed")}
    assert a.groups.terms_version(group_id) == first + 1

    group = a._state.groups[group_id]
    me = next(m for m in group.members.values() if m.member_id == group.own_member_id)
    facilitator = next(m for m in group.members.values() if m.role == "worker")
    terms = await a._transport.current_group_terms()
    assert terms is not None
    stale = dataclasses.replace(
        terms, version=first, text=TERMS, sha256=hashlib.sha256(TERMS.encode()).hexdigest()
    )
    for version_terms in (terms, stale):  # the stale one, checked after, must not replace it
        receipt, signature = a.groups._receipt(
            group, facilitator.identity_key, version_terms, 3600, None
        )
        fields = {"receipt": b64e(receipt), "signature": b64e(signature)}
        a.groups.inbound.fanout.send(group, facilitator, "group-consent", fields)
    a.groups.send_text(group_id, "agreed")
    assert await texts(worker, 1) == {(NAMES["a"], "agreed")}
    kept, _ = worker.groups.consents(group_id)[me.member_id]
    assert GroupConsentReceipt.decode(kept).terms_version == first + 1


async def test_a_client_member_hears_of_new_group_terms_and_agrees_to_them(
    local_relay: LocalRelay,
) -> None:
    """An SDK client is told of the terms roster (GroupTermsChanged), reads the terms the
    roster names, and agrees: each worker gets a group receipt for them; declining sends
    nothing (docs/protocol.md G9, "New group terms")."""
    relay = local_relay
    worker, group_id = await worker_with_group(relay)
    a = await join(relay, worker, group_id, "a")
    b = await join(relay, worker, group_id, "b")
    assert await a.groups.terms_to_consent(group_id) is None
    new_terms = TERMS + " Version two: the group now meets on Thursdays."
    await relay.publish_group_terms(new_terms)
    assert await worker.groups.renew_terms(group_id)
    for member in (a, b):
        changed = await next_of(member, GroupTermsChanged)
        assert isinstance(changed, GroupTermsChanged)
        assert (changed.name, changed.version) == (NAMES["worker"], 2)
    shown: list[str] = []
    assert not await b.groups.consent_to_terms(group_id, lambda t: shown.append(t.text) or False)
    assert await a.groups.consent_to_terms(group_id, lambda t: shown.append(t.text) or True)
    assert shown == [new_terms, new_terms]
    assert not await a.groups.consent_to_terms(group_id, lambda _t: True)  # nothing left
    a.groups.send_text(group_id, "agreed")
    assert await texts(worker, 1) == {(NAMES["a"], "agreed")}
    members = {m.name: m.member_id for m in worker.groups.members(group_id)}
    kept = worker.groups.consents(group_id)
    assert GroupConsentReceipt.decode(kept[members[NAMES["a"]]][0]).terms_version == 2
    assert GroupConsentReceipt.decode(kept[members[NAMES["b"]]][0]).terms_version == 1
    with pytest.raises(StateError):
        await worker.groups.terms_to_consent(group_id)
