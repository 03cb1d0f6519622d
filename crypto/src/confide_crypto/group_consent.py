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

from confide_crypto.consent import MAX_CLOCK_SKEW, VERSION
from confide_crypto.encoding import Reader, text16, u8, u32, u64
from confide_crypto.errors import ConsentError, MalformedInputError, UnsupportedVersionError
from confide_crypto.keys import IdentityKeyPair, fingerprint, read_key, verify_signature

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
        return b"".join(
            [
                u8(VERSION),
                GROUP_RECEIPT_TAG,
                self.client_identity_key,
                self.worker_key_fingerprint,
                u32(self.terms_version),
                self.terms_sha256,
                u64(self.signed_at),
                u64(self.expires_at),
                u8(1),
                self.group_binding,
                text16(self.discloser),
                text16(self.recipient),
                text16(self.purpose),
                text16(self.information),
            ]
        )

    def sign(self, client: IdentityKeyPair) -> tuple[bytes, bytes]:
        """Encode and sign with the client device key: returns (receipt bytes, signature)."""
        if client.public != self.client_identity_key:
            raise ConsentError("only the client named in the receipt can sign it")
        data = self.encode()
        return data, client.sign(data)

    @classmethod
    def decode(cls, data: bytes) -> GroupConsentReceipt:
        reader = Reader(data)
        version = reader.u8()
        if version != VERSION:
            raise UnsupportedVersionError(f"consent format version {version}")
        if reader.take(len(GROUP_RECEIPT_TAG)) != GROUP_RECEIPT_TAG:
            raise MalformedInputError("wrong domain tag")
        client, worker = read_key(reader), read_key(reader)
        terms_version, terms_sha256 = reader.u32(), reader.take(32)
        signed_at, expires_at = reader.u64(), reader.u64()
        revocable = reader.flag()
        binding = reader.take(32)
        discloser, recipient = reader.text16(), reader.text16()
        purpose, information = reader.text16(), reader.text16()
        reader.done()
        return cls(
            client,
            worker,
            terms_version,
            terms_sha256,
            signed_at,
            expires_at,
            binding,
            discloser,
            recipient,
            purpose,
            information,
            revocable,
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
    checks = [
        (receipt.client_identity_key, client_identity_key, "signer"),
        (receipt.worker_key_fingerprint, fingerprint(worker_identity_key), "worker key"),
        (receipt.group_binding, group_binding(group_id, client_identity_key), "group"),
        (u32(receipt.terms_version), u32(terms_version), "terms version"),
        (receipt.terms_sha256, terms_sha256, "terms hash"),
    ]
    for got, want, what in checks:
        if not hmac.compare_digest(got, want):
            raise ConsentError(f"receipt names a different {what}")
    if receipt.signed_at > now + MAX_CLOCK_SKEW:
        raise ConsentError("receipt is signed in the future")
    if now >= receipt.expires_at:
        raise ConsentError("receipt has expired")
    return receipt
