"""Failure paths of the protocol core: encodings, keys, X3DH, ratchet, sessions and devices."""

from __future__ import annotations

import pytest
from confide_crypto import aead, encoding, errors
from confide_crypto.device import Device
from confide_crypto.header import Header, RatchetMessage
from confide_crypto.kdf import hkdf_sha256
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    X25519KeyPair,
    ed25519_public_to_x25519,
    verify_signature,
)
from confide_crypto.ratchet import MAX_SKIP, MAX_STORED_SKIPPED, RatchetState
from confide_crypto.session import Session
from confide_crypto.x3dh import InitialKeys, respond

from .conversation import make_pair
from .support import CountingRng


def test_base64url_round_trip_and_strictness() -> None:
    for data in (b"", b"\x00", b"\xff\xfe", bytes(range(40))):
        assert encoding.b64decode(encoding.b64encode(data)) == data
    assert encoding.b64encode(b"\xfb\xff") == "-_8"
    for bad in ("a", "ab==", "a+b/", "ab c", "-_9"):
        with pytest.raises(errors.MalformedInputError):
            encoding.b64decode(bad)


def test_reader_refuses_bad_input() -> None:
    with pytest.raises(errors.MalformedInputError):
        encoding.Reader(b"\x00").take(2)
    with pytest.raises(errors.MalformedInputError):
        encoding.Reader(b"\x02").flag()
    with pytest.raises(errors.MalformedInputError):
        encoding.Reader(b"\x00\x01\xff").text16()
    with pytest.raises(errors.MalformedInputError):
        encoding.Reader(b"\x00").done()
    with pytest.raises(errors.MalformedInputError):
        encoding.text16("x" * 70000)
    with pytest.raises(errors.MalformedInputError):
        encoding.expect_length(b"\x00", 2, "thing")
    assert encoding.Reader(b"\x00\x05").u16() == 5


def test_primitive_argument_checks() -> None:
    with pytest.raises(ValueError):
        hkdf_sha256(b"", salt=b"", info=b"", length=0)
    with pytest.raises(errors.DecryptionError):
        aead.open_(bytes(32), bytes(24), b"short", b"")


def test_keys_refuse_bad_public_keys_and_signatures() -> None:
    with pytest.raises(errors.InvalidKeyError):
        ed25519_public_to_x25519(bytes(32))
    key = IdentityKeyPair(bytes(32))
    signature = key.sign(b"message")
    verify_signature(key.public, b"message", signature)
    with pytest.raises(errors.InvalidSignatureError):
        verify_signature(key.public, b"messagf", signature)
    assert "seed" not in repr(key) and key.seed.hex() not in repr(key)
    pair = X25519KeyPair.from_private(bytes(range(32)))
    assert pair.private.hex() not in repr(pair)


def test_bundle_checks() -> None:
    pair = make_pair("bundle")
    b = pair.bundle
    b.verify()
    forged = PreKeyBundle(b.identity_key, 2, b.signed_prekey, b.signed_prekey_signature)
    with pytest.raises(errors.InvalidSignatureError):
        forged.verify()
    half = PreKeyBundle(b.identity_key, 1, b.signed_prekey, b.signed_prekey_signature, 10, None)
    with pytest.raises(errors.MalformedInputError):
        half.verify()
    low = PreKeyBundle(b.identity_key, 1, b.signed_prekey, b.signed_prekey_signature, 10, bytes(32))
    with pytest.raises(errors.InvalidKeyError):
        low.verify()


def test_x3dh_responder_refuses_mismatched_prekeys() -> None:
    pair = make_pair("x3dh")
    bob = pair.bob
    spk = bob.signed_prekeys[1]
    opk = bob.one_time_prekeys[10]
    alice_key = pair.alice.identity.public
    eph = X25519KeyPair.generate(pair.rng).public
    with pytest.raises(errors.MissingPreKeyError):
        respond(bob.identity, alice_key, InitialKeys(eph, 2, None), spk, None)
    with pytest.raises(errors.MissingPreKeyError):
        respond(bob.identity, alice_key, InitialKeys(eph, 1, 10), spk, None)
    other = OneTimePreKey(11, opk.pair)
    with pytest.raises(errors.MissingPreKeyError):
        respond(bob.identity, alice_key, InitialKeys(eph, 1, 10), spk, other)
    with pytest.raises(errors.InvalidKeyError):
        respond(bob.identity, bob.identity.public, InitialKeys(eph, 1, None), spk, None)
    with pytest.raises(errors.InvalidKeyError):
        respond(bob.identity, alice_key, InitialKeys(bytes(32), 1, None), spk, None)


def test_message_decoding_refuses_bad_bytes() -> None:
    header = Header(bytes(range(32)), 0, 0).encode()
    with pytest.raises(errors.UnsupportedVersionError):
        RatchetMessage.decode(b"\x02\x00" + header)
    with pytest.raises(errors.MalformedInputError):
        RatchetMessage.decode(b"\x01\x07" + header)
    bad_initial = bytes(32) + (1).to_bytes(4, "big") + b"\x00" + (9).to_bytes(4, "big")
    with pytest.raises(errors.MalformedInputError):
        RatchetMessage.decode(b"\x01\x01" + bad_initial + header)


def test_responder_cannot_send_first_and_state_versions() -> None:
    rng = CountingRng("state")
    state = RatchetState.init_responder(bytes(32), X25519KeyPair.generate(rng))
    with pytest.raises(errors.CryptoError):
        state.encrypt(b"too early", bytes(64))
    data = state.to_bytes()
    assert RatchetState.from_bytes(data) == state
    with pytest.raises(errors.UnsupportedVersionError):
        RatchetState.from_bytes(b"\x09" + data[1:])
    assert "rk" not in repr(state)


def test_stored_skipped_keys_are_capped() -> None:
    pair = make_pair("cap")
    alice, bob, rng = pair.alice, pair.bob, pair.rng
    alice.start_session(pair.bundle, rng)
    first = alice.encrypt_to(bob.identity.public, b"0", rng=rng)
    bob.decrypt_envelope(first, now=0, rng=rng)
    # Three chains of skipped messages, each within MAX_SKIP, overflow the store of 2000.
    for turn in range(3):
        envelopes = [alice.encrypt_to(bob.identity.public, b"x", rng=rng) for _ in range(900)]
        bob.decrypt_envelope(envelopes[-1], now=turn, rng=rng)
        reply = bob.encrypt_to(alice.identity.public, b"r", rng=rng)
        alice.decrypt_envelope(reply, now=turn, rng=rng)
    skipped = bob.sessions[alice.identity.public].ratchet.skipped
    assert len(skipped) == MAX_STORED_SKIPPED


def test_session_refuses_other_senders_and_other_sessions() -> None:
    pair = make_pair("session")
    alice, bob, rng = pair.alice, pair.bob, pair.rng
    session = alice.start_session(pair.bundle, rng)
    envelope = session.encrypt(b"hello", rng=rng)
    got = bob.decrypt_envelope(envelope, now=0, rng=rng)
    assert got.plaintext == b"hello" and got.new_session
    bob_session = bob.sessions[alice.identity.public]
    mallory = Device(IdentityKeyPair.generate(rng))
    mallory.start_session(pair.bundle_without_opk(), rng)
    from_mallory = mallory.encrypt_to(bob.identity.public, b"hi", rng=rng)
    with pytest.raises(errors.DecryptionError):
        bob_session.decrypt(from_mallory, now=0, rng=rng)
    other = Session.initiate(alice.identity, pair.bundle_without_opk(), rng)
    with pytest.raises(errors.DecryptionError):
        bob_session.decrypt(other.encrypt(b"x", rng=rng), now=0, rng=rng)
    reply = bob_session.encrypt(b"reply", rng=rng)
    assert session.decrypt(reply, now=1, rng=rng) == b"reply"
    assert session.pending_initial is None
    assert "Session(peer=" in repr(session)
    assert Session.from_bytes(session.to_bytes(), alice.identity).to_bytes() == session.to_bytes()
    with pytest.raises(errors.MalformedInputError):
        Session.from_bytes(session.to_bytes(), mallory.identity)
    with pytest.raises(errors.UnsupportedVersionError):
        Session.from_bytes(b"\x05" + session.to_bytes()[1:], alice.identity)
    assert session.copy().to_bytes() == session.to_bytes()


def test_device_refuses_unknown_prekeys_replays_and_strangers() -> None:
    pair = make_pair("device")
    alice, bob, rng = pair.alice, pair.bob, pair.rng
    alice.start_session(pair.bundle, rng)
    first = alice.encrypt_to(bob.identity.public, b"one", rng=rng)
    bob.decrypt_envelope(first, now=0, rng=rng)
    with pytest.raises(errors.DuplicateMessageError):
        bob.decrypt_envelope(first, now=0, rng=rng)
    # A second session from the same bundle finds its one-time prekey already used.
    again = Device(alice.identity)
    again.start_session(pair.bundle, rng)
    with pytest.raises(errors.MissingPreKeyError):
        bob.decrypt_envelope(again.encrypt_to(bob.identity.public, b"x", rng=rng), now=0, rng=rng)
    # A session restarted without a one-time prekey replaces the old one.
    again.start_session(pair.bundle_without_opk(), rng)
    restart = again.encrypt_to(bob.identity.public, b"restart", rng=rng)
    assert bob.decrypt_envelope(restart, now=0, rng=rng).new_session
    with pytest.raises(errors.DuplicateMessageError):
        bob.decrypt_envelope(restart, now=0, rng=rng)
    # The replaced session's prekey message was seen before, so it cannot come back.
    with pytest.raises(errors.DuplicateMessageError):
        bob.decrypt_envelope(first, now=0, rng=rng)
    unknown_spk = PreKeyBundle(
        bob.identity.public,
        9,
        pair.bundle.signed_prekey,
        bob.identity.sign(
            b"Confide signed prekey v1\x00" + (9).to_bytes(4, "big") + pair.bundle.signed_prekey
        ),
    )
    stranger = Device(IdentityKeyPair.generate(rng))
    stranger.start_session(unknown_spk, rng)
    with pytest.raises(errors.MissingPreKeyError):
        bob.decrypt_envelope(
            stranger.encrypt_to(bob.identity.public, b"x", rng=rng), now=0, rng=rng
        )
    # An ordinary message from a sender without a session cannot be read.
    orphan = Device(IdentityKeyPair.generate(rng))
    session = orphan.start_session(pair.bundle_without_opk(), rng)
    session.pending_initial = None
    with pytest.raises(errors.MissingPreKeyError):
        bob.decrypt_envelope(orphan.encrypt_to(bob.identity.public, b"x", rng=rng), now=0, rng=rng)


def test_device_serialisation_round_trip_and_versions() -> None:
    pair = make_pair("serial")
    alice, bob, rng = pair.alice, pair.bob, pair.rng
    bob.add_one_time_prekeys(20, 2, rng)
    alice.start_session(pair.bundle, rng)
    envelopes = [alice.encrypt_to(bob.identity.public, b"x", rng=rng) for _ in range(3)]
    bob.decrypt_envelope(envelopes[2], now=0, rng=rng)
    assert len(bob.sessions[alice.identity.public].ratchet.skipped) == 2
    for device in (alice, bob):
        data = device.to_bytes()
        assert Device.from_bytes(data).to_bytes() == data
        with pytest.raises(errors.UnsupportedVersionError):
            Device.from_bytes(b"\x02" + data[1:])
    assert "sessions=1" in repr(bob)


def test_convenience_defaults_use_system_randomness_and_clock() -> None:
    alice, bob = Device.create(), Device.create()
    spk = bob.add_signed_prekey(1, CountingRng("defaults"))
    bundle = PreKeyBundle(bob.identity.public, 1, spk.pair.public, spk.signature)
    alice.start_session(bundle, CountingRng("defaults-alice"))
    got = bob.decrypt(alice.encrypt(bob.identity.public, b"hello"))
    assert got.plaintext == b"hello"
    assert (
        Device.create(CountingRng("fixed")).identity == Device.create(CountingRng("fixed")).identity
    )


def test_max_skip_is_the_exact_boundary() -> None:
    rng = CountingRng("max-skip")
    spk = X25519KeyPair.generate(rng)
    alice = RatchetState.init_initiator(bytes(32), spk.public, X25519KeyPair.generate(rng))
    bob = RatchetState.init_responder(bytes(32), spk)
    ad = bytes(64)
    messages = [alice.encrypt(b"m", ad) for _ in range(MAX_SKIP + 2)]
    # Receiving message MAX_SKIP + 1 first would need MAX_SKIP + 1 skipped keys: refused.
    with pytest.raises(errors.SkippedKeyLimitError):
        bob.decrypt(messages[MAX_SKIP + 1], ad, now=0, rng=rng)
    # Message MAX_SKIP needs exactly MAX_SKIP skipped keys: accepted, and all of them work.
    assert bob.decrypt(messages[MAX_SKIP], ad, now=0, rng=rng) == b"m"
    assert len(bob.skipped) == MAX_SKIP
    assert all(bob.decrypt(m, ad, now=0, rng=rng) == b"m" for m in messages[:MAX_SKIP])
    assert bob.skipped == {}


def test_the_largest_plaintext_fills_the_largest_bucket_and_no_more() -> None:
    pair = make_pair("largest")
    alice, bob, rng = pair.alice, pair.bob, pair.rng
    session = alice.start_session(pair.bundle, rng)
    assert session.max_plaintext() == 65339
    before = session.ratchet.to_bytes()
    with pytest.raises(errors.MalformedInputError):
        session.encrypt(bytes(65340), rng=rng)
    assert session.ratchet.to_bytes() == before
    envelope = session.encrypt(bytes(65339), rng=rng)
    assert len(envelope) == 65536
    assert bob.decrypt_envelope(envelope, now=0, rng=rng).plaintext == bytes(65339)
    reply = bob.sessions[alice.identity.public]
    assert reply.max_plaintext() == 65380
    assert len(reply.encrypt(bytes(65380), rng=rng)) == 65536
