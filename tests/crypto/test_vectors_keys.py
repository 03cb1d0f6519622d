"""Known answers for keys, the contract signatures and X3DH (tests/vectors/keys.json, x3dh.json)."""

from __future__ import annotations

from typing import Any

import pytest
from confide_crypto.errors import InvalidKeyError
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    SignedPreKey,
    X25519KeyPair,
    check_x25519_public,
    signed_prekey_message,
    verify_signature,
)
from confide_crypto.x3dh import initiate, respond

from .support import generator, load

KEYS = load("keys")
X3DH = load("x3dh")


@pytest.mark.parametrize("name", list(generator().BUILDERS))
def test_vector_files_match_their_generator(name: str) -> None:
    assert (generator().HERE / f"{name}.json").read_text() == generator().render(name)


def test_identity_key_and_its_x25519_form() -> None:
    ident = KEYS["identity"]
    key = IdentityKeyPair(bytes.fromhex(ident["seed"]))
    assert key.public.hex() == ident["ed25519_public"]
    assert key.dh.private.hex() == ident["x25519_private"]
    assert key.dh.public.hex() == ident["x25519_public"]


def test_contract_signatures_are_byte_exact() -> None:
    key = IdentityKeyPair(bytes.fromhex(KEYS["identity"]["seed"]))
    challenge = bytes.fromhex(KEYS["challenge"])
    assert (
        key.sign(b"Confide device registration v1\x00" + challenge).hex()
        == (KEYS["registration_signature"])
    )
    assert key.sign_registration(challenge).hex() == KEYS["registration_signature"]
    assert key.sign_auth(challenge).hex() == KEYS["auth_signature"]
    spk = KEYS["signed_prekey"]
    made = SignedPreKey.create(key, spk["key_id"], bytes.fromhex(spk["private"]))
    assert made.pair.public.hex() == spk["public"]
    message = b"Confide signed prekey v1\x00" + (7).to_bytes(4, "big") + made.pair.public
    assert signed_prekey_message(7, made.pair.public) == message
    assert message.hex() == spk["signed_message"]
    assert made.signature.hex() == spk["signature"]
    verify_signature(key.public, message, made.signature)


@pytest.mark.parametrize("public", KEYS["low_order_x25519_public_keys_rejected"])
def test_low_order_points_are_rejected(public: str) -> None:
    with pytest.raises(InvalidKeyError):
        check_x25519_public(bytes.fromhex(public))


def _bundle(case: dict[str, Any]) -> tuple[PreKeyBundle, SignedPreKey, OneTimePreKey | None]:
    bob = IdentityKeyPair(bytes.fromhex(case["bob_identity"]["seed"]))
    spk_data = case["bob_signed_prekey"]
    spk = SignedPreKey.create(bob, spk_data["key_id"], bytes.fromhex(spk_data["private"]))
    assert spk.signature.hex() == spk_data["signature"]
    opk_data = case["bob_one_time_prekey"]
    opk = None
    if opk_data is not None:
        pair = X25519KeyPair.from_private(bytes.fromhex(opk_data["private"]))
        assert pair.public.hex() == opk_data["public"]
        opk = OneTimePreKey(opk_data["key_id"], pair)
    bundle = PreKeyBundle(
        bob.public,
        spk.key_id,
        spk.pair.public,
        spk.signature,
        None if opk is None else opk.key_id,
        None if opk is None else opk.pair.public,
    )
    return bundle, spk, opk


@pytest.mark.parametrize("case", X3DH["cases"], ids=lambda c: c["name"])
def test_x3dh_known_answers(case: dict[str, Any]) -> None:
    alice = IdentityKeyPair(bytes.fromhex(case["alice_identity"]["seed"]))
    bob = IdentityKeyPair(bytes.fromhex(case["bob_identity"]["seed"]))
    bundle, spk, opk = _bundle(case)
    ephemeral = X25519KeyPair.from_private(bytes.fromhex(case["alice_ephemeral"]["private"]))
    result, initial = initiate(alice, bundle, ephemeral)
    assert result.shared_key.hex() == case["shared_key"]
    assert result.associated_data.hex() == case["associated_data"]
    assert initial.ephemeral_key.hex() == case["alice_ephemeral"]["public"]
    assert respond(bob, alice.public, initial, spk, opk) == result
