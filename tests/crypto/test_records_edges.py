"""Failure paths of attachments, consent receipts, the key store and sealed envelopes."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from confide_crypto import attachments, consent, errors, keystore, sealed_sender
from confide_crypto.attachments import AttachmentPointer, decrypt_attachment, encrypt_attachment
from confide_crypto.keys import IdentityKeyPair, X25519KeyPair, fingerprint

from .support import CountingRng

KEY = bytes(range(32))


def _repoint(blob: bytes, pointer: AttachmentPointer) -> AttachmentPointer:
    """A pointer whose digest matches a doctored blob, to reach the checks behind the digest."""
    return dataclasses.replace(pointer, digest=hashlib.sha256(blob).digest())


def test_attachment_refusals() -> None:
    plaintext = bytes(150_000)
    blob, pointer = encrypt_attachment(plaintext, key=KEY)
    with pytest.raises(errors.AttachmentDigestError):
        decrypt_attachment(blob + b"\x00", pointer)
    with pytest.raises(errors.UnsupportedVersionError):
        wrong = b"\x02" + blob[1:]
        decrypt_attachment(wrong, _repoint(wrong, pointer))
    flipped = blob[:100] + bytes([blob[100] ^ 1]) + blob[101:]
    with pytest.raises(errors.DecryptionError):
        decrypt_attachment(flipped, _repoint(flipped, pointer))
    step = attachments.CHUNK_SIZE + attachments.CHUNK_OVERHEAD
    truncated = blob[: 1 + attachments.HEADER_LEN + step]
    with pytest.raises(errors.DecryptionError):
        decrypt_attachment(truncated, _repoint(truncated, pointer))
    short, short_pointer = encrypt_attachment(b"abc", key=KEY)
    extended = short + short[1 + attachments.HEADER_LEN :]
    with pytest.raises(errors.DecryptionError):
        decrypt_attachment(extended, _repoint(extended, short_pointer))
    full, full_pointer = encrypt_attachment(bytes(attachments.CHUNK_SIZE), key=KEY)
    with pytest.raises(errors.DecryptionError):
        decrypt_attachment(full + b"x", _repoint(full + b"x", full_pointer))
    lying = dataclasses.replace(short_pointer, length=4)
    with pytest.raises(errors.DecryptionError):
        decrypt_attachment(short, lying)
    with pytest.raises(errors.MalformedInputError):
        encrypt_attachment(b"", key=KEY[:16])
    with pytest.raises(errors.UnsupportedVersionError):
        AttachmentPointer.decode(b"\x02" + pointer.encode()[1:])


def test_new_attachment_uses_the_rng() -> None:
    rng = CountingRng("attach")
    blob, pointer = attachments.new_attachment(b"photo", rng)
    assert pointer.key == CountingRng("attach")(32) and rng.count == 1
    assert decrypt_attachment(blob, pointer) == b"photo"


def test_libsodium_draws_a_fresh_header_for_every_attachment() -> None:
    # The header is secretstream's nonce: two attachments under one key must not share it.
    first, first_pointer = encrypt_attachment(b"same", key=KEY)
    second, second_pointer = encrypt_attachment(b"same", key=KEY)
    header = slice(1, 1 + attachments.HEADER_LEN)
    assert first[header] != second[header] and first != second
    assert decrypt_attachment(first, first_pointer) == decrypt_attachment(second, second_pointer)


CLIENT = IdentityKeyPair(bytes([1]) * 32)
WORKER = IdentityKeyPair(bytes([2]) * 32)
POLICY = consent.policy_digest("policy text")


def _receipt(**changes: object) -> consent.ConsentReceipt:
    fields: dict[str, object] = {
        "client_identity_key": CLIENT.public,
        "worker_key_fingerprint": fingerprint(WORKER.public),
        "policy_version": 1,
        "policy_sha256": POLICY,
        "signed_at": 1000,
        "expires_at": 2000,
        "discloser": "Program",
        "recipient": "Worker",
        "purpose": "Support",
        "information": "Messages",
    }
    fields.update(changes)
    return consent.ConsentReceipt(**fields)  # type: ignore[arg-type]


def _verify(data: bytes, signature: bytes, **changes: object) -> consent.ConsentReceipt:
    expected: dict[str, object] = {
        "client_identity_key": CLIENT.public,
        "worker_identity_key": WORKER.public,
        "policy_version": 1,
        "policy_sha256": POLICY,
        "now": 1500,
    }
    expected.update(changes)
    return consent.verify_receipt(data, signature, **expected)  # type: ignore[arg-type]


def test_receipt_verification_raises_on_every_mismatch() -> None:
    data, signature = _receipt().sign(CLIENT)
    assert _verify(data, signature).purpose == "Support"
    mallory = IdentityKeyPair(bytes([3]) * 32)
    with pytest.raises(errors.InvalidSignatureError):
        _verify(data, signature, client_identity_key=mallory.public)
    with pytest.raises(errors.InvalidSignatureError):
        _verify(data[:-1] + b"X", signature)
    cases = [
        {"worker_identity_key": mallory.public},
        {"policy_version": 2},
        {"policy_sha256": consent.policy_digest("other policy")},
        {"now": 1000 - consent.MAX_CLOCK_SKEW - 1},
        {"now": 2000},
    ]
    for change in cases:
        with pytest.raises(errors.ConsentError):
            _verify(data, signature, **change)
    # Mallory re-signing Alice's receipt with her own key does not make it hers.
    with pytest.raises(errors.ConsentError):
        _verify(data, mallory.sign(data), client_identity_key=mallory.public)


def test_receipt_construction_and_parsing_refusals() -> None:
    with pytest.raises(errors.ConsentError):
        _receipt(revocable=False)
    with pytest.raises(errors.ConsentError):
        _receipt(expires_at=1000)
    with pytest.raises(errors.ConsentError):
        _receipt().sign(WORKER)
    data = _receipt().encode()
    with pytest.raises(errors.UnsupportedVersionError):
        consent.ConsentReceipt.decode(b"\x03" + data[1:])
    with pytest.raises(errors.MalformedInputError):
        consent.ConsentReceipt.decode(data[:1] + b"X" + data[2:])
    revocable_at = 1 + len(consent.RECEIPT_TAG) + 32 + 32 + 4 + 32 + 8 + 8
    with pytest.raises(errors.ConsentError):
        consent.ConsentReceipt.decode(data[:revocable_at] + b"\x00" + data[revocable_at + 1 :])
    with pytest.raises(errors.MalformedInputError):
        consent.ConsentReceipt.decode(data + b"\x00")


def test_revocation_refusals() -> None:
    receipt, _ = _receipt().sign(CLIENT)
    other_receipt, _ = _receipt(purpose="Other").sign(CLIENT)
    revocation = consent.ConsentRevocation.for_receipt(receipt, CLIENT.public, 1200)
    data, signature = revocation.sign(CLIENT)
    kwargs = {"receipt": receipt, "client_identity_key": CLIENT.public}
    assert consent.verify_revocation(data, signature, **kwargs) == revocation  # type: ignore[arg-type]
    with pytest.raises(errors.ConsentError):
        consent.verify_revocation(
            data, signature, receipt=other_receipt, client_identity_key=CLIENT.public
        )
    with pytest.raises(errors.ConsentError):
        revocation.sign(WORKER)
    mallory = IdentityKeyPair(bytes([3]) * 32)
    forged = consent.ConsentRevocation.for_receipt(receipt, mallory.public, 1200)
    forged_data, forged_sig = forged.sign(mallory)
    with pytest.raises(errors.ConsentError):
        consent.verify_revocation(
            forged_data, forged_sig, receipt=receipt, client_identity_key=mallory.public
        )
    with pytest.raises(errors.ConsentError):
        consent.verify_revocation(
            data, mallory.sign(data), receipt=receipt, client_identity_key=mallory.public
        )
    early = consent.ConsentRevocation.for_receipt(receipt, CLIENT.public, 999)
    early_data, early_sig = early.sign(CLIENT)
    with pytest.raises(errors.ConsentError):
        consent.verify_revocation(
            early_data, early_sig, receipt=receipt, client_identity_key=CLIENT.public
        )
    with pytest.raises(errors.MalformedInputError):
        consent.ConsentRevocation.decode(data + b"\x00")


SMALL = keystore.KdfParams(1, 8192)


def test_key_store_refusals_and_rewrap() -> None:
    store = keystore.seal_store(b"secret", "pass", salt=bytes(16), nonce=bytes(24), params=SMALL)
    assert keystore.open_store(store, "pass", current=SMALL).contents == b"secret"
    with pytest.raises(errors.WrongPassphraseError):
        keystore.open_store(store, "wrong", current=SMALL)
    with pytest.raises(errors.WrongPassphraseError):
        keystore.open_store(store[:-1] + bytes([store[-1] ^ 1]), "pass", current=SMALL)
    with pytest.raises(errors.UnsupportedVersionError):
        keystore.open_store(b"\x07" + store[1:], "pass", current=SMALL)
    with pytest.raises(ValueError):
        keystore.seal_store(b"", "pass", salt=bytes(15), nonce=bytes(24), params=SMALL)
    stronger = keystore.KdfParams(2, 8192)
    assert keystore.open_store(store, "pass", current=stronger).needs_rewrap


def test_sealed_envelopes_refuse_wrong_recipients_and_versions() -> None:
    rng = CountingRng("sealed")
    sender, recipient, other = (IdentityKeyPair.generate(rng) for _ in range(3))
    envelope = sealed_sender.seal(sender, recipient.public, b"hi", X25519KeyPair.generate(rng))
    with pytest.raises(errors.DecryptionError):
        sealed_sender.open_(other, envelope)
    with pytest.raises(errors.UnsupportedVersionError):
        sealed_sender.open_(recipient, b"\x02" + envelope[1:])
    with pytest.raises(errors.MalformedInputError):
        sealed_sender.open_(recipient, envelope[:40])
