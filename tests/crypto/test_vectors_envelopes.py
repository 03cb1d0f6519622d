"""Known answers for sealed sender, padding and safety numbers."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from confide_crypto import safety_number, sealed_sender
from confide_crypto.errors import MalformedInputError, SafetyNumberMismatchError
from confide_crypto.keys import IdentityKeyPair, X25519KeyPair
from confide_crypto.padding import BUCKETS, bucket_for, pad, unpad

from .support import load

SEALED = load("sealed_sender")
PADDING = load("padding")
SAFETY = load("safety_number")


def _pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


@pytest.mark.parametrize("case", SEALED["cases"], ids=lambda c: str(c["content_length"]))
def test_sealed_sender_known_answers(case: dict[str, Any]) -> None:
    sender = IdentityKeyPair(bytes.fromhex(SEALED["sender_identity"]["seed"]))
    recipient = IdentityKeyPair(bytes.fromhex(SEALED["recipient_identity"]["seed"]))
    content = _pattern(case["content_length"])
    ephemeral = X25519KeyPair.from_private(bytes.fromhex(case["ephemeral_private"]))
    envelope = sealed_sender.seal(sender, recipient.public, content, ephemeral)
    assert len(envelope) == case["envelope_length"] and len(envelope) in BUCKETS
    assert hashlib.sha256(envelope).hexdigest() == case["envelope_sha256"]
    if "envelope" in case:
        assert envelope.hex() == case["envelope"]
    opened = sealed_sender.open_(recipient, envelope)
    assert opened.sender_identity_key == sender.public
    assert opened.content == content


@pytest.mark.parametrize("case", PADDING["cases"], ids=lambda c: str(c["content_length"]))
def test_padding_known_answers(case: dict[str, Any]) -> None:
    from .support import generator

    content = generator().pinned(f"padding/{case['content_length']}", case["content_length"])
    bucket = bucket_for(len(content), PADDING["envelope_overhead"])
    assert bucket == case["envelope_bucket"]
    padded = pad(content, bucket - PADDING["envelope_overhead"])
    assert len(padded) == case["padded_length"]
    assert hashlib.sha256(padded).hexdigest() == case["padded_sha256"]
    assert unpad(padded) == content


def test_padding_small_example_and_invalid_inputs() -> None:
    example = PADDING["small_example"]
    padded = pad(bytes.fromhex(example["content"]), example["target"])
    assert padded.hex() == example["padded"]
    for bad in PADDING["invalid_padded"]:
        with pytest.raises(MalformedInputError):
            unpad(bytes.fromhex(bad))
    with pytest.raises(MalformedInputError):
        pad(b"abc", 3)
    with pytest.raises(MalformedInputError):
        bucket_for(sealed_sender.MAX_CONTENT + 1, sealed_sender.OVERHEAD)


def test_safety_number_known_answers_and_symmetry() -> None:
    a, b = bytes.fromhex(SAFETY["identity_key_a"]), bytes.fromhex(SAFETY["identity_key_b"])
    assert safety_number.key_fingerprint(a).hex() == SAFETY["fingerprint_a"]
    assert safety_number.key_fingerprint(b).hex() == SAFETY["fingerprint_b"]
    assert safety_number.safety_number(a, b) == SAFETY["safety_number"]
    assert safety_number.safety_number(b, a) == SAFETY["safety_number"]
    assert safety_number.grouped(SAFETY["safety_number"]) == SAFETY["grouped"]
    assert len(SAFETY["safety_number"]) == 60 and SAFETY["safety_number"].isdigit()
    assert safety_number.qr_payload(b, a).hex() == SAFETY["qr_payload"]
    safety_number.verify_qr_payload(bytes.fromhex(SAFETY["qr_payload"]), a, b)
    safety_number.verify_qr_payload(bytes.fromhex(SAFETY["qr_payload"]), b, a)


def test_safety_number_detects_a_substituted_key() -> None:
    a = bytes.fromhex(SAFETY["identity_key_a"])
    mallory = IdentityKeyPair(bytes(range(32))).public
    assert safety_number.safety_number(a, mallory) != SAFETY["safety_number"]
    with pytest.raises(SafetyNumberMismatchError):
        safety_number.verify_qr_payload(bytes.fromhex(SAFETY["qr_payload"]), a, mallory)
