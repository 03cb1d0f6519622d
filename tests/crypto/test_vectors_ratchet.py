"""Replays the Double Ratchet and Device conversations in tests/vectors, asserting exact bytes."""

from __future__ import annotations

import pytest
from confide_crypto import errors
from confide_crypto.device import Device
from confide_crypto.header import RatchetMessage
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    SignedPreKey,
    X25519KeyPair,
)
from confide_crypto.session import Session

from .support import ReplayRng, load

RATCHET = load("ratchet")
DEVICE = load("device")


def _setup() -> tuple[dict[str, Session], IdentityKeyPair, SignedPreKey, OneTimePreKey]:
    alice = IdentityKeyPair(bytes.fromhex(RATCHET["alice_identity_seed"]))
    bob = IdentityKeyPair(bytes.fromhex(RATCHET["bob_identity_seed"]))
    spk = SignedPreKey.create(bob, 1, bytes.fromhex(RATCHET["bob_signed_prekey"]["private"]))
    opk_private = bytes.fromhex(RATCHET["bob_one_time_prekey"]["private"])
    opk = OneTimePreKey(5, X25519KeyPair.from_private(opk_private))
    bundle = PreKeyBundle(bob.public, 1, spk.pair.public, spk.signature, 5, opk.pair.public)
    rng = ReplayRng(RATCHET["alice_setup_rng"])
    sessions = {"alice": Session.initiate(alice, bundle, rng)}
    assert rng.exhausted()
    return sessions, bob, spk, opk


def test_ratchet_conversation_replays_exactly() -> None:
    sessions, bob, spk, opk = _setup()
    alice_key = sessions["alice"].identity.public
    messages: dict[int, bytes] = {}
    for step in RATCHET["steps"]:
        party = step["party"]
        if step["action"] == "encrypt":
            made = sessions[party].encrypt_message(bytes.fromhex(step["plaintext"]))
            assert made.hex() == step["message"]
            messages[step["message_index"]] = made
            continue
        data = messages[step["message_index"]] if "message_index" in step else None
        message = RatchetMessage.decode(data or bytes.fromhex(step["message"]))
        if party not in sessions:
            assert message.initial is not None
            sessions[party] = Session.respond(bob, alice_key, message.initial, spk, opk)
        rng = ReplayRng(step["rng"])
        before = sessions[party].ratchet.to_bytes()
        if "error" in step:
            with pytest.raises(getattr(errors, step["error"])):
                sessions[party].decrypt_message(message, now=step["now"], rng=rng)
            assert sessions[party].ratchet.to_bytes() == before  # nothing changed
        else:
            got = sessions[party].decrypt_message(message, now=step["now"], rng=rng)
            assert got.hex() == step["plaintext"]
        assert rng.exhausted()


def _device_setup() -> tuple[dict[str, Device], PreKeyBundle]:
    alice = Device(IdentityKeyPair(bytes.fromhex(DEVICE["alice_identity_seed"])))
    bob = Device(IdentityKeyPair(bytes.fromhex(DEVICE["bob_identity_seed"])))
    rng = ReplayRng(DEVICE["bob_setup_rng"])
    spk = bob.add_signed_prekey(1, rng)
    (opk,) = bob.add_one_time_prekeys(100, 1, rng)
    b = DEVICE["bob_bundle"]
    bundle = PreKeyBundle(
        bytes.fromhex(b["identity_key"]),
        b["signed_prekey_id"],
        bytes.fromhex(b["signed_prekey"]),
        bytes.fromhex(b["signed_prekey_signature"]),
        b["one_time_prekey_id"],
        bytes.fromhex(b["one_time_prekey"]),
    )
    assert (bundle.signed_prekey, bundle.signed_prekey_signature) == (
        spk.pair.public,
        spk.signature,
    )
    assert bundle.one_time_prekey == opk.pair.public
    return {"alice": alice, "bob": bob}, bundle


def test_device_exchange_replays_exactly() -> None:
    devices, bundle = _device_setup()
    peers = {"alice": devices["bob"].identity.public, "bob": devices["alice"].identity.public}
    for step in DEVICE["steps"]:
        device, rng = devices[step["party"]], ReplayRng(step["rng"])
        if step["action"] == "encrypt":
            if step["start_session"]:
                device.start_session(bundle, rng)
            envelope = device.encrypt_to(
                peers[step["party"]], bytes.fromhex(step["plaintext"]), rng=rng
            )
            assert envelope.hex() == step["envelope"]
        else:
            got = device.decrypt_envelope(bytes.fromhex(step["envelope"]), now=step["now"], rng=rng)
            assert got.sender_identity_key.hex() == step["sender_identity_key"]
            assert got.plaintext.hex() == step["plaintext"]
            assert got.new_session == step["new_session"]
            assert got.used_one_time_prekey_id == step["used_one_time_prekey_id"]
        assert rng.exhausted()
    assert devices["bob"].one_time_prekeys == {}
    restored = Device.from_bytes(devices["bob"].to_bytes())
    assert restored.to_bytes() == devices["bob"].to_bytes()
