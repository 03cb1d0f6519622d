"""Reading the public consent formats (docs/protocol.md part 2 section 10), without keys.

The relay checks what it stores as a consent record, so it reads the receipt and revocation
layouts that confide_crypto writes. Both are public and carry no secret; the relay needs no
key to read them, and it does not import confide_crypto (server/ never imports private-key
code). A decoder here is strict: the version byte, the domain tag, every field's length and
nothing after the last field, or ConsentRejected saying what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from confide_server.errors import ConsentRejected

VERSION = 1
# Format 2 of a receipt adds the language of the policy text shown (docs/protocol.md part 2
# section 10); revocations stay at format 1, and receipts of format 1 stay valid.
RECEIPT_VERSIONS = (1, 2)
RECEIPT_TAG = b"Confide consent receipt\x00"
REVOCATION_TAG = b"Confide consent revocation\x00"


@dataclass(frozen=True, slots=True)
class Receipt:
    client_identity_key: bytes
    worker_key_fingerprint: bytes
    policy_version: int
    policy_sha256: bytes
    signed_at: int
    expires_at: int
    # The language of the text the client read (format 2); None for a format 1 receipt.
    policy_language: str | None = None


@dataclass(frozen=True, slots=True)
class Revocation:
    client_identity_key: bytes
    receipt_sha256: bytes
    revoked_at: int


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self._data, self._pos, self._what = data, 0, what

    def take(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise ConsentRejected(f"the {self._what} is cut short")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def text16(self) -> str:
        try:
            return self.take(self.uint(2)).decode("utf-8")
        except UnicodeDecodeError:
            raise ConsentRejected(f"a text field of the {self._what} is not UTF-8") from None

    def start(self, tag: bytes, versions: tuple[int, ...] = (VERSION,)) -> int:
        version = self.uint(1)
        if version not in versions or self.take(len(tag)) != tag:
            raise ConsentRejected(f"this is not a known format of consent {self._what}")
        return version

    def done(self) -> None:
        if self._pos != len(self._data):
            raise ConsentRejected(f"the {self._what} has bytes after its last field")


def decode_receipt(data: bytes) -> Receipt:
    reader = _Reader(data, "receipt")
    form = reader.start(RECEIPT_TAG, RECEIPT_VERSIONS)
    client, worker = reader.take(32), reader.take(32)
    version, sha256 = reader.uint(4), reader.take(32)
    language = _language(reader.text16()) if form == 2 else None
    signed_at, expires_at = reader.uint(8), reader.uint(8)
    if reader.uint(1) != 1:
        raise ConsentRejected("a receipt must state the right to revoke (revocable = 1)")
    for _ in range(4):  # discloser, recipient, purpose, information
        reader.text16()
    reader.done()
    if expires_at <= signed_at:
        raise ConsentRejected("the receipt expires before it is signed")
    return Receipt(client, worker, version, sha256, signed_at, expires_at, language)


def _language(tag: str) -> str:
    if not 2 <= len(tag) <= 35 or not all(c.isascii() and (c.isalnum() or c == "-") for c in tag):
        raise ConsentRejected("the receipt's policy language is not a language tag")
    return tag


def decode_revocation(data: bytes) -> Revocation:
    reader = _Reader(data, "revocation")
    reader.start(REVOCATION_TAG)
    revocation = Revocation(reader.take(32), reader.take(32), reader.uint(8))
    reader.done()
    return revocation


def receipt_version(data: bytes) -> int | None:
    """The policy version a stored receipt names, or None if it is not a receipt."""
    try:
        return decode_receipt(data).policy_version
    except ConsentRejected:
        return None


def revoked_receipt(data: bytes) -> bytes | None:
    """The SHA-256 of the receipt a stored revocation ends, or None if it is not one."""
    try:
        return decode_revocation(data).receipt_sha256
    except ConsentRejected:
        return None
