"""The rules a member's device applies to rosters and group consent receipts, in memory."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from confide_client.encoding import b64e
from confide_client.errors import ProtocolError
from confide_client.groups import roster
from confide_client.groups.manager import parse_group_invite
from confide_client.groups.model import MAX_MEMBERS, Group, Member
from confide_crypto.errors import ConsentError, InvalidSignatureError
from confide_crypto.group_consent import GroupConsentReceipt, group_binding, verify_group_receipt
from confide_crypto.keys import IdentityKeyPair, fingerprint

NOW = 1_800_000_000
TERMS_SHA = hashlib.sha256(b"terms").digest()


def member(identity: IdentityKeyPair, role: str, since: int = 1) -> Member:
    return Member(
        b64e(os.urandom(16)),
        f"name {since}",
        role,
        identity.public,
        {},
        os.urandom(16),
        os.urandom(32),
        since,
    )


def group_with(worker: IdentityKeyPair, client: IdentityKeyPair) -> Group:
    group = Group(b64e(os.urandom(16)), name="g", epoch=1, terms={"version": 1, "sha256": "00"})
    for m in (member(worker, "worker"), member(client, "client", 2)):
        group.members[m.member_id] = m
    return group


def signed(of: Group, by: IdentityKeyPair, **changes: object) -> tuple[bytes, bytes]:
    body = roster.build(
        of, list(of.members.values()), op="added", member=None, signer=by.public, now=NOW
    )
    body.update(changes)
    return roster.sign(body, by)


def test_a_roster_is_taken_only_from_a_worker_newer_and_intact() -> None:
    worker, client = IdentityKeyPair(os.urandom(32)), IdentityKeyPair(os.urandom(32))
    group = group_with(worker, client)
    data, signature = signed(group, worker)
    assert roster.verify(data, signature, group, worker.public)["epoch"] == 2
    # A client member cannot sign the group's membership, even correctly.
    forged, by_client = signed(group, client)
    with pytest.raises(ProtocolError, match="not one of the group's workers"):
        roster.verify(forged, by_client, group, client.public)
    # Tampered bytes, an old epoch, another group, too many members: all refused.
    with pytest.raises(ProtocolError):
        roster.verify(data.replace(b'"g"', b'"h"'), signature, group, worker.public)
    stale, stale_sig = signed(group, worker, epoch=1)
    with pytest.raises(ProtocolError, match="not newer"):
        roster.verify(stale, stale_sig, group, worker.public)
    other, other_sig = signed(group, worker, group=b64e(os.urandom(16)))
    with pytest.raises(ProtocolError, match="another group"):
        roster.verify(other, other_sig, group, worker.public)
    crowd = [group.members[k].roster_entry() for k in group.members] * (MAX_MEMBERS // 2 + 1)
    big, big_sig = signed(group, worker, members=crowd)
    with pytest.raises(ProtocolError, match="too long"):
        roster.verify(big, big_sig, group, worker.public)


def test_two_workers_rosters_of_one_epoch_are_settled_by_their_hash() -> None:
    first, second, client = (IdentityKeyPair(os.urandom(32)) for _ in range(3))
    group = group_with(first, client)
    m = member(second, "worker")
    group.members[m.member_id] = m
    # Both workers sign epoch 2 from the same epoch 1, at the same moment.
    rivals = sorted(
        ((*signed(group, w, signed_at=NOW + i), w) for i, w in enumerate((first, second))),
        key=lambda r: hashlib.sha256(r[0]).hexdigest(),
    )
    (low, low_sig, low_by), (high, high_sig, high_by) = rivals
    group.epoch, group.roster_sha256 = 2, hashlib.sha256(high).hexdigest()
    # Holding the larger one, a member takes the smaller; holding the smaller, it keeps it.
    assert roster.verify(low, low_sig, group, low_by.public)["epoch"] == 2
    group.roster_sha256 = hashlib.sha256(low).hexdigest()
    with pytest.raises(ProtocolError, match="loses the tie"):
        roster.verify(high, high_sig, group, high_by.public)
    # A worker the held roster dropped may still sign a rival of it (it signed from the
    # same predecessor), but not a newer roster.
    del group.members[m.member_id]
    group.base_workers = [b64e(first.public), b64e(second.public)]
    group.roster_sha256 = "f" * 64
    assert roster.verify(*signed(group, second, epoch=2), group, second.public)["epoch"] == 2
    with pytest.raises(ProtocolError, match="not one of the group's workers"):
        roster.verify(*signed(group, second, epoch=3), group, second.public)
    # Without the held roster's hash (a state file from before), no tie is taken.
    group.roster_sha256 = ""
    with pytest.raises(ProtocolError, match="not newer"):
        roster.verify(*signed(group, first, epoch=2), group, first.public)


def test_a_group_receipt_binds_the_group_terms_and_worker() -> None:
    worker, client = IdentityKeyPair(os.urandom(32)), IdentityKeyPair(os.urandom(32))
    group_id = os.urandom(16)
    receipt = GroupConsentReceipt(
        client.public,
        fingerprint(worker.public),
        3,
        TERMS_SHA,
        NOW,
        NOW + 3600,
        group_binding(group_id, client.public),
        "d",
        "r",
        "p",
        "i",
    )
    data, signature = receipt.sign(client)
    assert GroupConsentReceipt.decode(data) == receipt
    expected = {
        "client_identity_key": client.public,
        "worker_identity_key": worker.public,
        "group_id": group_id,
        "terms_version": 3,
        "terms_sha256": TERMS_SHA,
        "now": NOW + 10,
    }
    assert verify_group_receipt(data, signature, **expected) == receipt  # type: ignore[arg-type]
    for name, value in [
        ("group_id", os.urandom(16)),
        ("terms_version", 4),
        ("terms_sha256", bytes(32)),
        ("worker_identity_key", client.public),
        ("now", NOW + 7200),
    ]:
        with pytest.raises(ConsentError):
            verify_group_receipt(data, signature, **{**expected, name: value})  # type: ignore[arg-type]
    with pytest.raises(InvalidSignatureError):
        verify_group_receipt(data, signature, **{**expected, "client_identity_key": worker.public})  # type: ignore[arg-type]
    # Two members' receipts for one group share no value a relay could match.
    other = IdentityKeyPair(os.urandom(32))
    assert group_binding(group_id, other.public) != group_binding(group_id, client.public)


def test_group_invite_links_carry_a_token_and_a_group() -> None:
    token, group = os.urandom(32), os.urandom(16)
    link = f"https://relay.example/join#g1.{b64e(token)}.{b64e(group)}"
    assert parse_group_invite(link) == (token, b64e(group))
    for bad in (f"https://relay.example/join#{b64e(token)}", f"g1.{b64e(token)}", "g1.a.b.c"):
        with pytest.raises(ProtocolError):
            parse_group_invite(bad)


def test_a_group_text_is_answered_with_a_delivery_receipt_to_its_sender() -> None:
    from confide_client.groups.fanout import Fanout
    from confide_client.groups.inbound import GroupInbound
    from confide_client.messages import GroupMessage
    from confide_client.state import ClientState
    from confide_crypto.device import Device
    from confide_crypto.keys import PreKeyBundle

    me, sender = ClientState(Device.create(os.urandom)), Device.create(os.urandom)
    spk = me.device.add_signed_prekey(1, os.urandom)
    sender.start_session(
        PreKeyBundle(me.device.identity.public, 1, spk.pair.public, spk.signature), os.urandom
    )
    me.device.decrypt_envelope(
        sender.encrypt_to(me.device.identity.public, b"{}", rng=os.urandom), now=NOW, rng=os.urandom
    )
    group = Group(b64e(os.urandom(16)), name="g", epoch=1)
    mine = member(me.device.identity, "worker")
    theirs = member(IdentityKeyPair(sender.identity.seed), "client", 2)
    group.members = {mine.member_id: mine, theirs.member_id: theirs}
    group.own_member_id = mine.member_id
    me.groups[group.group_id] = group
    inbound = GroupInbound(me, lambda: NOW, os.urandom, Fanout(me, os.urandom, lambda: None))
    payload = {"v": 1, "seq": 1, "id": "m1", "type": "group-text", "group": group.group_id}
    events = inbound.receive(sender.identity.public, {**payload, "text": "hi"})
    assert events == [GroupMessage(group.group_id, theirs.member_id, theirs.name, "m1", "hi")]
    (entry,) = list(me.outbox)
    opened = sender.decrypt_envelope(entry.envelope, now=NOW, rng=os.urandom)
    receipt = json.loads(opened.plaintext)
    assert receipt["type"] == "group-delivered" and receipt["ids"] == ["m1"]
    assert "seq" not in receipt and receipt["group"] == group.group_id
