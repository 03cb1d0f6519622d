"""Group consent receipts: a client's signed agreement to a peer support group's terms.

The group kind of a consent receipt (docs/protocol.md G§9). It names the organisation's
group terms (a version and the SHA-256 of its text) instead of the one-to-one policy, the
worker device whose group invite the client opened, and the group, by a binding that only
someone who knows the group id can check: ``HMAC-SHA256(group id, label || client key)``.
Two members' receipts for one group therefore share nothing a third party could match.

Byte layout, integers big-endian, strings u16-length UTF-8 as in §10::

    group_receipt = 0x01 || "Confide group consent receipt\\x00" || client_identity_key(32)
                    || worker_key_fingerprint(32) || terms_version(u32) || terms_sha256(32)
                    || signed_at(u64) || expires_at(u64) || revocable(1) = 0x01
                    || group_binding(32) || discloser || recipient || purpose || information

The signature is Ed25519 by the client identity key over these bytes exactly. A revocation
of one is the ordinary revocation of :mod:`confide_crypto.consent`, naming its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from confide_crypto.consent import (
    ReceiptHead,
    check_fields,
    check_period,
    decode_receipt,
    encode_receipt,
)
from confide_crypto.encoding import u32
from confide_crypto.errors import ConsentError, MalformedInputError
from confide_crypto.keys import IdentityKeyPair, fingerprint, verify_signature

__all__ = ["GroupConsentReceipt", "group_binding", "verify_group_receipt"]

GROUP_RECEIPT_TAG = b"Confide group consent receipt\x00"
BINDING_LABEL = b"Confide group binding v1\x00"


def group_binding(group_id: bytes, client_identity_key: bytes) -> bytes:
    """The receipt's tie to one group, checkable only with the group id."""
    return hmac.new(group_id, BINDING_LABEL + client_identity_key, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class GroupConsentReceipt:
    """The fields of a group consent receipt (the §2.31 elements as in ConsentReceipt)."""

    client_identity_key: bytes
    worker_key_fingerprint: bytes
    terms_version: int
    terms_sha256: bytes
    signed_at: int
    expires_at: int
    group_binding: bytes
    discloser: str
    recipient: str
    purpose: str
    information: str
    revocable: bool = True

    def __post_init__(self) -> None:
        if not self.revocable:
            raise ConsentError("a consent receipt must state the right to revoke")
        if self.expires_at <= self.signed_at:
            raise ConsentError("a consent receipt must expire after it is signed")
        if len(self.group_binding) != 32 or len(self.terms_sha256) != 32:
            raise MalformedInputError("a group receipt's binding and terms hash are 32 bytes")

    def encode(self) -> bytes:
        head = ReceiptHead(
            self.client_identity_key,
            self.worker_key_fingerprint,
            self.terms_version,
            self.terms_sha256,
            self.signed_at,
            self.expires_at,
        )
        words = (self.discloser, self.recipient, self.purpose, self.information)
        return encode_receipt(GROUP_RECEIPT_TAG, head, self.group_binding, words)

    def sign(self, client: IdentityKeyPair) -> tuple[bytes, bytes]:
        """Encode and sign with the client device key: returns (receipt bytes, signature)."""
        if client.public != self.client_identity_key:
            raise ConsentError("only the client named in the receipt can sign it")
        data = self.encode()
        return data, client.sign(data)

    @classmethod
    def decode(cls, data: bytes) -> GroupConsentReceipt:
        head, binding, (discloser, recipient, purpose, information) = decode_receipt(
            data, GROUP_RECEIPT_TAG, 32
        )
        return cls(
            head.client_identity_key,
            head.worker_key_fingerprint,
            head.version,
            head.sha256,
            head.signed_at,
            head.expires_at,
            binding,
            discloser,
            recipient,
            purpose,
            information,
            head.revocable,
        )


def verify_group_receipt(
    data: bytes,
    signature: bytes,
    *,
    client_identity_key: bytes,
    worker_identity_key: bytes,
    group_id: bytes,
    terms_version: int,
    terms_sha256: bytes,
    now: int,
) -> GroupConsentReceipt:
    """Verify a signed group receipt against what the worker expects; raise on any mismatch."""
    verify_signature(client_identity_key, data, signature)
    receipt = GroupConsentReceipt.decode(data)
    check_fields(
        [
            (receipt.client_identity_key, client_identity_key, "signer"),
            (receipt.worker_key_fingerprint, fingerprint(worker_identity_key), "worker key"),
            (receipt.group_binding, group_binding(group_id, client_identity_key), "group"),
            (u32(receipt.terms_version), u32(terms_version), "terms version"),
            (receipt.terms_sha256, terms_sha256, "terms hash"),
        ]
    )
    check_period(receipt.signed_at, receipt.expires_at, now)
    return receipt
