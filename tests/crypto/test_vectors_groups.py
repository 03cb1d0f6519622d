"""Known answers for peer support groups: the group consent receipt and a signed roster.

The web app's tests read the same file (tests/vectors/groups.json), so both clients agree on
the receipt's bytes and on the roster's canonical JSON, non-ASCII names included.
"""

from __future__ import annotations

import hashlib

from confide_client.groups import roster
from confide_crypto import group_consent
from confide_crypto.keys import IdentityKeyPair, verify_signature

from .support import load

GROUPS = load("groups")


def test_group_receipt_known_answer() -> None:
    client = IdentityKeyPair(bytes.fromhex(GROUPS["client_identity"]["seed"]))
    worker = IdentityKeyPair(bytes.fromhex(GROUPS["worker_identity"]["seed"]))
    group_id = bytes.fromhex(GROUPS["group_id"])
    assert group_consent.group_binding(group_id, client.public).hex() == GROUPS["group_binding"]
    data, signature = bytes.fromhex(GROUPS["receipt"]), bytes.fromhex(GROUPS["signature"])
    receipt = group_consent.GroupConsentReceipt.decode(data)
    assert receipt.encode() == data and receipt.sign(client) == (data, signature)
    verified = group_consent.verify_group_receipt(
        data,
        signature,
        client_identity_key=client.public,
        worker_identity_key=worker.public,
        group_id=group_id,
        terms_version=2,
        terms_sha256=hashlib.sha256(GROUPS["terms_text"].encode()).digest(),
        now=1_700_000_001,
    )
    assert verified.terms_version == 2


def test_roster_canonical_bytes_and_signature_known_answer() -> None:
    worker = IdentityKeyPair(bytes.fromhex(GROUPS["worker_identity"]["seed"]))
    data = roster.encode(GROUPS["roster"])
    assert data.hex() == GROUPS["roster_bytes"]
    assert "Círculo".encode() in data, "names are written as UTF-8, not escaped"
    signed = roster.sign(GROUPS["roster"], worker)
    assert signed == (data, bytes.fromhex(GROUPS["roster_signature"]))
    verify_signature(worker.public, roster.LABEL + data, signed[1])
