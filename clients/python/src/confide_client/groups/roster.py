"""The roster: a group's membership list, signed by a group worker's device (G§7).

Its canonical bytes are sorted-key compact JSON; the signature is Ed25519 by the signing
worker's identity key over ``"Confide group roster v1\\x00" || bytes``. A member accepts a
roster only from a key that its *held* roster lists as a worker (before the first roster:
the worker whose invite it opened), for the same group, with a higher epoch (or the same
epoch and a smaller SHA-256: two workers signed at once, G§7 "Two workers"), and with no
more than :data:`MAX_MEMBERS` members.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from confide_crypto.errors import CryptoError
from confide_crypto.keys import IdentityKeyPair, signed_prekey_message, verify_signature

from confide_client.encoding import b64d, b64e
from confide_client.errors import ProtocolError
from confide_client.groups.model import MAX_MEMBERS, Group, Member

__all__ = [
    "LABEL",
    "build",
    "check_prekey",
    "digest",
    "display_name",
    "encode",
    "sign",
    "verify",
]

LABEL = b"Confide group roster v1\x00"
#: The longest display name a member shows.
NAME_LIMIT = 64
CHANGES = frozenset({"created", "added", "removed", "left", "closed", "renamed", "timer", "terms"})


def encode(roster: dict[str, Any]) -> bytes:
    return json.dumps(roster, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build(
    group: Group,
    members: list[Member],
    *,
    op: str,
    member: str | None,
    signer: bytes,
    now: int,
    closed: bool = False,
) -> dict[str, Any]:
    """The next roster of ``group`` (its epoch plus one) with these members."""
    return {
        "v": 1,
        "group": group.group_id,
        "epoch": group.epoch + 1,
        "name": group.name,
        "terms": group.terms,
        "timer": group.timer,
        "closed": closed,
        "signed_at": now,
        "signer": b64e(signer),
        "change": {"op": op, "member": member},
        "members": [m.roster_entry() for m in members],
    }


def sign(roster: dict[str, Any], identity: IdentityKeyPair) -> tuple[bytes, bytes]:
    data = encode(roster)
    return data, identity.sign(LABEL + data)


def digest(roster: dict[str, Any]) -> str:
    """SHA-256 of a roster's canonical bytes, hex: the tie-break between equal epochs."""
    return hashlib.sha256(encode(roster)).hexdigest()


def verify(data: bytes, signature: bytes, group: Group, signer_key: bytes) -> dict[str, Any]:
    """The roster, once its signature and its place after the held one check out.

    A roster of the held epoch replaces the held one if its SHA-256 is smaller and its
    signer is a worker of the held roster or of the one before it (the two were signed at
    once by two workers from the same predecessor, G§7 "Two workers").
    """
    workers = group.worker_keys()
    if signer_key not in workers and b64e(signer_key) not in group.base_workers:
        raise ProtocolError("a roster from a device that is not one of the group's workers")
    try:
        verify_signature(signer_key, LABEL + data, signature)
        roster = json.loads(data)
    except (CryptoError, ValueError) as exc:
        raise ProtocolError("the roster does not verify") from exc
    if not isinstance(roster, dict) or roster.get("v") != 1 or encode(roster) != data:
        raise ProtocolError("the roster is not in its canonical form")
    if roster.get("group") != group.group_id or b64d(str(roster.get("signer"))) != signer_key:
        raise ProtocolError("the roster is for another group or names another signer")
    epoch = roster.get("epoch")
    if not isinstance(epoch, int) or epoch < group.epoch:
        raise ProtocolError("the roster is not newer than the one held")
    if epoch == group.epoch:
        if not group.roster_sha256 or hashlib.sha256(data).hexdigest() >= group.roster_sha256:
            raise ProtocolError(
                "the roster is not newer than the one held (it loses the tie of equal epochs)"
            )
    elif signer_key not in workers:
        raise ProtocolError("a roster from a device that is not one of the group's workers")
    members = roster.get("members")
    if not isinstance(members, list) or not 1 <= len(members) <= MAX_MEMBERS:
        raise ProtocolError("the roster's member list is empty or too long")
    change = roster.get("change")
    if not isinstance(change, dict) or change.get("op") not in CHANGES:
        raise ProtocolError("the roster names no known change")
    return roster


def check_prekey(identity_key: bytes, prekey: object) -> dict[str, Any]:
    if not isinstance(prekey, dict) or not isinstance(prekey.get("key_id"), int):
        raise ProtocolError("a group prekey is malformed")
    public, signature = b64d(str(prekey["public_key"])), b64d(str(prekey["signature"]))
    if len(public) != 32 or len(signature) != 64:
        raise ProtocolError("a group prekey is malformed")
    try:
        verify_signature(identity_key, signed_prekey_message(prekey["key_id"], public), signature)
    except CryptoError as exc:
        raise ProtocolError("a group prekey's signature does not verify") from exc
    return {"key_id": prekey["key_id"], "public_key": b64e(public), "signature": b64e(signature)}


def display_name(value: object, fallback: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    return name[:NAME_LIMIT] if name else fallback
