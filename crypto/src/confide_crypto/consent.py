"""Consent receipts and revocations: canonical bytes a client device signs.

A receipt records that the holder of one client identity key accepted a named version of the
organisation's confidentiality policy for a conversation with one worker key. It carries the
elements 42 CFR §2.31(a) asks of a written consent where they apply to a device-signed
record: who discloses (``discloser``), to whom (``recipient``), what information
(``information``), the purpose, the expiry, the right to revoke (policy text, hashed, plus the
``revocable`` flag), the signature and the date signed. The patient is named by the client's
identity key, never by name, because the relay stores receipts and must learn no names
(docs/threat-model.md). A revocation names the receipt it ends by its SHA-256.

Byte layout (docs/protocol.md E2E §10), all integers big-endian, strings u16-length UTF-8::

    receipt    = 0x01 || "Confide consent receipt\\x00" || client_identity_key(32)
                 || worker_key_fingerprint(32) || policy_version(u32) || policy_sha256(32)
                 || signed_at(u64) || expires_at(u64) || revocable(1) = 0x01
                 || discloser || recipient || purpose || information
    receipt v2 = 0x02 || the same, with policy_language (a BCP 47 tag, u16-length ASCII)
                 right after policy_sha256: the language of the policy text the client read,
                 whose hash is policy_sha256 (an organisation may publish one version in
                 several languages). A receipt without a language is written as format 1,
                 so receipts signed before format 2 existed keep their bytes and verify.
    revocation = 0x01 || "Confide consent revocation\\x00" || client_identity_key(32)
                 || SHA-256(receipt)(32) || revoked_at(u64)

The signature is Ed25519 by the client identity key over these bytes exactly.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from confide_crypto.encoding import Reader, text16, u8, u32, u64
from confide_crypto.errors import ConsentError, MalformedInputError, UnsupportedVersionError
from confide_crypto.keys import IdentityKeyPair, fingerprint, read_key, verify_signature

VERSION = 1
#: The receipt format that names the policy text's language.
RECEIPT_VERSION_LANGUAGE = 2
RECEIPT_TAG = b"Confide consent receipt\x00"
REVOCATION_TAG = b"Confide consent revocation\x00"
#: How far a receipt's signing time may lie in the verifier's future (clock skew).
MAX_CLOCK_SKEW = 300


def policy_digest(policy_text: str) -> bytes:
    """SHA-256 of the policy text's UTF-8 bytes; the relay publishes it as hex."""
    return hashlib.sha256(policy_text.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class ConsentReceipt:
    """The fields of a consent receipt (§2.31 elements noted on each)."""

    client_identity_key: bytes  # the patient (pseudonymous) and the signer
    worker_key_fingerprint: bytes  # to whom: the worker device, by key
    policy_version: int
    policy_sha256: bytes  # the statement of rights, including how to revoke
    signed_at: int  # date signed (Unix seconds)
    expires_at: int  # expiration date (Unix seconds)
    discloser: str  # who discloses: the program or person making the disclosure
    recipient: str  # to whom: the worker, team or program receiving it
    purpose: str  # purpose of the disclosure
    information: str  # how much and what kind of information
    revocable: bool = True  # the right to revoke; a receipt without it is refused
    policy_language: str | None = None  # the language of the text read (format 2)

    def __post_init__(self) -> None:
        if self.policy_language is not None and not _is_language_tag(self.policy_language):
            raise ConsentError("policy_language must be a language tag such as en or es-MX")
        if not self.revocable:
            raise ConsentError("a consent receipt must state the right to revoke")
        if self.expires_at <= self.signed_at:
            raise ConsentError("a consent receipt must expire after it is signed")

    def encode(self) -> bytes:
        """The canonical bytes the client signs (format 2 when a language is named)."""
        head = ReceiptHead(
            self.client_identity_key,
            self.worker_key_fingerprint,
            self.policy_version,
            self.policy_sha256,
            self.signed_at,
            self.expires_at,
            language=self.policy_language,
        )
        words = (self.discloser, self.recipient, self.purpose, self.information)
        return encode_receipt(RECEIPT_TAG, head, b"", words)

    def sign(self, client: IdentityKeyPair) -> tuple[bytes, bytes]:
        """Encode and sign with the client device key: returns (receipt bytes, signature)."""
        if client.public != self.client_identity_key:
            raise ConsentError("only the client named in the receipt can sign it")
        data = self.encode()
        return data, client.sign(data)

    @classmethod
    def decode(cls, data: bytes) -> ConsentReceipt:
        head, _, (discloser, recipient, purpose, information) = decode_receipt(
            data, RECEIPT_TAG, 0, (VERSION, RECEIPT_VERSION_LANGUAGE)
        )
        return cls(
            client_identity_key=head.client_identity_key,
            worker_key_fingerprint=head.worker_key_fingerprint,
            policy_version=head.version,
            policy_sha256=head.sha256,
            signed_at=head.signed_at,
            expires_at=head.expires_at,
            discloser=discloser,
            recipient=recipient,
            purpose=purpose,
            information=information,
            revocable=head.revocable,
            policy_language=head.language,
        )


def _is_language_tag(tag: str) -> bool:
    return 2 <= len(tag) <= 35 and all(c.isascii() and (c.isalnum() or c == "-") for c in tag)


@dataclass(frozen=True, slots=True)
class ReceiptHead:
    """The fields a one-to-one receipt and a group receipt share, in their order."""

    client_identity_key: bytes
    worker_key_fingerprint: bytes
    version: int  # of the policy, or of the group terms
    sha256: bytes  # of that text
    signed_at: int
    expires_at: int
    revocable: bool = True
    # The language of the text read: set only in a format 2 one-to-one receipt.
    language: str | None = None


def encode_receipt(tag: bytes, head: ReceiptHead, extra: bytes, words: tuple[str, ...]) -> bytes:
    """Version, tag, the head, ``extra`` (a group receipt's binding), then the §2.31 words.

    A head without a language is written as format 1, byte for byte as before format 2;
    with one, as format 2, the language right after the text's hash.
    """
    language = [] if head.language is None else [text16(head.language)]
    fixed = [
        u8(VERSION if head.language is None else RECEIPT_VERSION_LANGUAGE),
        tag,
        head.client_identity_key,
        head.worker_key_fingerprint,
        u32(head.version),
        head.sha256,
        *language,
        u64(head.signed_at),
        u64(head.expires_at),
        u8(1),
        extra,
    ]
    return b"".join(fixed + [text16(w) for w in words])


def decode_receipt(
    data: bytes, tag: bytes, extra: int, versions: tuple[int, ...] = (VERSION,)
) -> tuple[ReceiptHead, bytes, tuple[str, ...]]:
    """The inverse of :func:`encode_receipt`, with ``extra`` bytes after the head.

    ``versions`` are the formats accepted: a group receipt accepts format 1 only.
    """
    reader = Reader(data)
    form = read_version_and_tag(reader, tag, versions)
    client, worker = read_key(reader), read_key(reader)
    version, digest = reader.u32(), reader.take(32)
    language = reader.text16() if form == RECEIPT_VERSION_LANGUAGE else None
    signed_at, expires_at = reader.u64(), reader.u64()
    revocable = reader.flag()
    added = reader.take(extra)
    words = tuple(reader.text16() for _ in range(4))
    reader.done()
    head = ReceiptHead(client, worker, version, digest, signed_at, expires_at, revocable, language)
    return head, added, words


def read_version_and_tag(reader: Reader, tag: bytes, versions: tuple[int, ...] = (VERSION,)) -> int:
    version = reader.u8()
    if version not in versions:
        raise UnsupportedVersionError(f"consent format version {version}")
    if reader.take(len(tag)) != tag:
        raise MalformedInputError("wrong domain tag")
    return version


def verify_receipt(
    data: bytes,
    signature: bytes,
    *,
    client_identity_key: bytes,
    worker_identity_key: bytes,
    policy_version: int,
    policy_sha256: bytes,
    now: int,
    policy_language: str | None = None,
) -> ConsentReceipt:
    """Verify a signed receipt against what the verifier expects; raise on any mismatch.

    Checks, in order: the signature under ``client_identity_key``, the receipt's own client
    key, the worker key fingerprint, the policy version and hash, the language of the text
    read when ``policy_language`` is given (a format 1 receipt names none, and fails that
    check), and that ``now`` lies between signing (less MAX_CLOCK_SKEW) and expiry.
    """
    verify_signature(client_identity_key, data, signature)
    receipt = ConsentReceipt.decode(data)
    check_fields(
        [
            (receipt.client_identity_key, client_identity_key, "signer"),
            (receipt.worker_key_fingerprint, fingerprint(worker_identity_key), "worker key"),
            (u32(receipt.policy_version), u32(policy_version), "policy version"),
            (receipt.policy_sha256, policy_sha256, "policy hash"),
        ]
    )
    if policy_language is not None and receipt.policy_language != policy_language:
        raise ConsentError("receipt names a different policy language")
    check_period(receipt.signed_at, receipt.expires_at, now)
    return receipt


def check_fields(checks: list[tuple[bytes, bytes, str]]) -> None:
    """Each (got, want, name) must match, compared in constant time; else ConsentError."""
    for got, want, what in checks:
        if not hmac.compare_digest(got, want):
            raise ConsentError(f"receipt names a different {what}")


def check_period(signed_at: int, expires_at: int, now: int) -> None:
    """A receipt holds from its signing (less MAX_CLOCK_SKEW) until its expiry."""
    if signed_at > now + MAX_CLOCK_SKEW:
        raise ConsentError("receipt is signed in the future")
    if now >= expires_at:
        raise ConsentError("receipt has expired")


@dataclass(frozen=True, slots=True)
class ConsentRevocation:
    """The client's signed statement that a receipt no longer holds."""

    client_identity_key: bytes
    receipt_sha256: bytes
    revoked_at: int

    def encode(self) -> bytes:
        return (
            u8(VERSION)
            + REVOCATION_TAG
            + self.client_identity_key
            + self.receipt_sha256
            + u64(self.revoked_at)
        )

    @classmethod
    def for_receipt(
        cls, receipt: bytes, client_identity_key: bytes, revoked_at: int
    ) -> ConsentRevocation:
        return cls(client_identity_key, hashlib.sha256(receipt).digest(), revoked_at)

    def sign(self, client: IdentityKeyPair) -> tuple[bytes, bytes]:
        if client.public != self.client_identity_key:
            raise ConsentError("only the client named in the revocation can sign it")
        data = self.encode()
        return data, client.sign(data)

    @classmethod
    def decode(cls, data: bytes) -> ConsentRevocation:
        reader = Reader(data)
        read_version_and_tag(reader, REVOCATION_TAG)
        revocation = cls(read_key(reader), reader.take(32), reader.u64())
        reader.done()
        return revocation


def verify_revocation(
    data: bytes, signature: bytes, *, receipt: bytes, client_identity_key: bytes
) -> ConsentRevocation:
    """Verify a signed revocation of ``receipt`` by ``client_identity_key``; raise on mismatch.

    Only the client that signed the receipt may revoke it, and not before it was signed.
    """
    verify_signature(client_identity_key, data, signature)
    revocation = ConsentRevocation.decode(data)
    if revocation.client_identity_key != client_identity_key:
        raise ConsentError("revocation names a different signer")
    original = ConsentReceipt.decode(receipt)
    if original.client_identity_key != client_identity_key:
        raise ConsentError("only the client who signed a receipt can revoke it")
    if not hmac.compare_digest(revocation.receipt_sha256, hashlib.sha256(receipt).digest()):
        raise ConsentError("revocation is for a different receipt")
    if revocation.revoked_at < original.signed_at:
        raise ConsentError("revocation predates the receipt")
    return revocation
