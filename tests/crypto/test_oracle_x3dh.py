"""X3DH cross-checked against an independent implementation: the PyPI package ``x3dh``.

``x3dh.BaseState`` is configured to Confide's profile: Ed25519-format identity keys (it
converts them to X25519 itself, via xeddsa), SHA-256, the info string "Confide X3DH v1", and
a public-key encoding that yields raw keys for the associated data and Confide's signed-prekey
message for the signature check. Both directions are checked: the package as responder to our
initiator, and as initiator to our responder (which also makes it verify our SPK signature).
"""

from __future__ import annotations

import time

import pytest
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    SignedPreKey,
    X25519KeyPair,
    signed_prekey_message,
)
from confide_crypto.x3dh import InitialKeys, initiate, respond
from x3dh import BaseState, Bundle, HashFunction, Header, IdentityKeyFormat, KeyAgreementException
from x3dh.models import BaseStateModel, IdentityKeyPairModel, SignedPreKeyPairModel
from x3dh.types import SecretType

from .support import CountingRng

SPK_ID = 3
INFO = b"Confide X3DH v1"


class ConfideProfile(BaseState):
    """The oracle, configured to our encodings."""

    @staticmethod
    def _encode_public_key(key_format: IdentityKeyFormat, pub: bytes) -> bytes:
        # The package signs and verifies "the encoding of the SPK in CURVE_25519 format", so
        # that encoding is our contract's signed-prekey message; identity keys go raw into AD.
        if key_format is IdentityKeyFormat.CURVE_25519:
            return signed_prekey_message(SPK_ID, pub)
        return pub


def _oracle(seed: bytes, spk: SignedPreKey, opks: list[OneTimePreKey]) -> ConfideProfile:
    model = BaseStateModel(
        identity_key=IdentityKeyPairModel(secret=seed, secret_type=SecretType.SEED),
        signed_pre_key=SignedPreKeyPairModel(
            priv=spk.pair.private, sig=spk.signature, timestamp=int(time.time())
        ),
        old_signed_pre_key=None,
        pre_keys=frozenset(k.pair.private for k in opks),
    )
    return ConfideProfile.from_model(model, IdentityKeyFormat.ED_25519, HashFunction.SHA_256, INFO)


@pytest.mark.parametrize("with_opk", [True, False])
async def test_oracle_responder_agrees_with_our_initiator(with_opk: bool) -> None:
    rng = CountingRng(f"oracle-responder-{with_opk}")
    alice, bob = IdentityKeyPair.generate(rng), IdentityKeyPair.generate(rng)
    spk = SignedPreKey.create(bob, SPK_ID, rng(32))
    opk = OneTimePreKey(8, X25519KeyPair.generate(rng))
    oracle = _oracle(bob.seed, spk, [opk])
    assert oracle.bundle.identity_key == bob.public
    bundle = PreKeyBundle(
        bob.public,
        SPK_ID,
        spk.pair.public,
        spk.signature,
        8 if with_opk else None,
        opk.pair.public if with_opk else None,
    )
    ours, initial = initiate(alice, bundle, X25519KeyPair.generate(rng))
    header = Header(
        identity_key=alice.public,
        ephemeral_key=initial.ephemeral_key,
        signed_pre_key=spk.pair.public,
        pre_key=opk.pair.public if with_opk else None,
    )
    secret, associated_data, _ = await oracle.get_shared_secret_passive(
        header, require_pre_key=False
    )
    assert secret == ours.shared_key
    assert associated_data == ours.associated_data


@pytest.mark.parametrize("with_opk", [True, False])
async def test_oracle_initiator_agrees_with_our_responder(with_opk: bool) -> None:
    rng = CountingRng(f"oracle-initiator-{with_opk}")
    alice, bob = IdentityKeyPair.generate(rng), IdentityKeyPair.generate(rng)
    spk = SignedPreKey.create(bob, SPK_ID, rng(32))
    opk = OneTimePreKey(8, X25519KeyPair.generate(rng))
    oracle_alice = _oracle(alice.seed, SignedPreKey.create(alice, SPK_ID, rng(32)), [])
    bundle = Bundle(
        identity_key=bob.public,
        signed_pre_key=spk.pair.public,
        signed_pre_key_sig=spk.signature,
        pre_keys=frozenset([opk.pair.public]) if with_opk else frozenset(),
    )
    secret, associated_data, header = await oracle_alice.get_shared_secret_active(
        bundle, require_pre_key=False
    )
    initial = InitialKeys(header.ephemeral_key, SPK_ID, 8 if with_opk else None)
    ours = respond(bob, alice.public, initial, spk, opk if with_opk else None)
    assert secret == ours.shared_key
    assert associated_data == ours.associated_data


async def test_oracle_rejects_a_signature_over_other_bytes() -> None:
    rng = CountingRng("oracle-bad-signature")
    alice, bob = IdentityKeyPair.generate(rng), IdentityKeyPair.generate(rng)
    spk = SignedPreKey.create(bob, SPK_ID + 1, rng(32))  # signed under another key id
    oracle_alice = _oracle(alice.seed, SignedPreKey.create(alice, SPK_ID, rng(32)), [])
    bundle = Bundle(
        identity_key=bob.public,
        signed_pre_key=spk.pair.public,
        signed_pre_key_sig=spk.signature,
        pre_keys=frozenset(),
    )
    with pytest.raises(KeyAgreementException, match="signature"):
        await oracle_alice.get_shared_secret_active(bundle, require_pre_key=False)
