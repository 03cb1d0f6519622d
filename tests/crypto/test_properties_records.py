"""Property tests for the signed and sealed records: any flipped bit is refused."""

from __future__ import annotations

import dataclasses
import hashlib

from confide_crypto import attachments, consent, errors, keystore
from confide_crypto.keys import IdentityKeyPair, fingerprint
from hypothesis import given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=80, deadline=None)
CLIENT, WORKER = IdentityKeyPair(bytes([5]) * 32), IdentityKeyPair(bytes([6]) * 32)
RECEIPT = consent.ConsentReceipt(
    client_identity_key=CLIENT.public,
    worker_key_fingerprint=fingerprint(WORKER.public),
    policy_version=2,
    policy_sha256=consent.policy_digest("policy"),
    signed_at=100,
    expires_at=200,
    discloser="Program",
    recipient="Worker",
    purpose="Support",
    information="Messages",
)
RECEIPT_BYTES, RECEIPT_SIG = RECEIPT.sign(CLIENT)
BLOB, POINTER = attachments.encrypt_attachment(bytes(300), key=bytes(32))
PARAMS = keystore.KdfParams(1, 8192)
STORE = keystore.seal_store(b"keys", "pw", salt=bytes(16), nonce=bytes(24), params=PARAMS)


def _flip(data: bytes, position: int) -> bytes:
    position %= len(data) * 8
    out = bytearray(data)
    out[position // 8] ^= 1 << (position % 8)
    return bytes(out)


@SETTINGS
@given(position=st.integers(min_value=0), in_signature=st.booleans())
def test_a_flipped_bit_in_a_receipt_or_its_signature_is_refused(
    position: int, in_signature: bool
) -> None:
    data = RECEIPT_BYTES if in_signature else _flip(RECEIPT_BYTES, position)
    signature = _flip(RECEIPT_SIG, position) if in_signature else RECEIPT_SIG
    try:
        consent.verify_receipt(
            data,
            signature,
            client_identity_key=CLIENT.public,
            worker_identity_key=WORKER.public,
            policy_version=2,
            policy_sha256=consent.policy_digest("policy"),
            now=150,
        )
    except errors.CryptoError:
        return
    raise AssertionError("a altered receipt verified")


@SETTINGS
@given(position=st.integers(min_value=0))
def test_a_flipped_bit_in_an_attachment_is_refused_before_decryption(position: int) -> None:
    try:
        attachments.decrypt_attachment(_flip(BLOB, position), POINTER)
    except errors.AttachmentDigestError:
        return
    raise AssertionError("an altered attachment decrypted")


@settings(max_examples=25, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=3 * attachments.CHUNK_SIZE),
    seed=st.binary(min_size=1, max_size=8),
)
def test_any_attachment_round_trips_with_libsodiums_layout(length: int, seed: bytes) -> None:
    plaintext = hashlib.shake_256(seed).digest(length)
    blob, pointer = attachments.encrypt_attachment(plaintext, key=hashlib.sha256(seed).digest())
    chunks = max(1, -(-length // attachments.CHUNK_SIZE))
    overhead = 1 + attachments.HEADER_LEN + chunks * attachments.CHUNK_OVERHEAD
    assert len(blob) == length + overhead
    assert pointer.length == length and pointer.digest == hashlib.sha256(blob).digest()
    assert attachments.decrypt_attachment(blob, pointer) == plaintext


@SETTINGS
@given(
    position=st.integers(min_value=8 * (1 + attachments.HEADER_LEN), max_value=8 * len(BLOB) - 1)
)
def test_a_flipped_ciphertext_bit_fails_authentication_even_under_a_matching_digest(
    position: int,
) -> None:
    # The digest check comes first; behind it, libsodium's pull must refuse every chunk bit.
    flipped = _flip(BLOB, position)
    pointer = dataclasses.replace(POINTER, digest=hashlib.sha256(flipped).digest())
    try:
        attachments.decrypt_attachment(flipped, pointer)
    except errors.DecryptionError:
        return
    raise AssertionError("an altered attachment chunk authenticated")


@SETTINGS
@given(position=st.integers(min_value=0))
def test_a_flipped_bit_in_a_key_store_is_refused(position: int) -> None:
    # Bits of the cost fields (bytes 1-8) are covered below: flipping a high bit there asks
    # for up to a gibibyte of memory, which is refused or slow rather than wrong.
    body = 9 * 8 + position % ((len(STORE) - 9) * 8)
    try:
        keystore.open_store(_flip(STORE, body), "pw", current=PARAMS)
    except errors.WrongPassphraseError:
        return
    raise AssertionError("an altered key store opened")


def test_a_key_store_naming_an_excessive_or_tiny_cost_is_refused_unread() -> None:
    for bit in (0, 3, 7):  # any bit of opslimit's top byte asks for millions of passes
        altered = _flip(STORE, 8 + bit)
        try:
            keystore.open_store(altered, "pw", current=PARAMS)
        except errors.MalformedInputError:
            continue
        raise AssertionError("an excessive cost was accepted")
    for opslimit, memlimit in ((0, 8192), (1, 4096), (1, 2**31)):
        header = bytes([1]) + opslimit.to_bytes(4, "big") + memlimit.to_bytes(4, "big")
        try:
            keystore.open_store(header + STORE[9:], "pw", current=PARAMS)
        except errors.MalformedInputError:
            continue
        raise AssertionError("an out-of-range cost was accepted")
    # A small change that stays in range is caught by the authentication tag instead.
    within = bytes([1]) + (2).to_bytes(4, "big") + (8192).to_bytes(4, "big") + STORE[9:]
    try:
        keystore.open_store(within, "pw", current=PARAMS)
    except errors.WrongPassphraseError:
        return
    raise AssertionError("a changed cost went unnoticed")
