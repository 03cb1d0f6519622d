"""The Double Ratchet cross-checked against an independent implementation: ``doubleratchet``.

The package is configured to Confide's profile: X25519 ratchet keys, KDF_RK = HKDF-SHA256
with info "Confide ratchet root v1", KDF_CK = HMAC-SHA256 with the constants 0x01 (message
key) and 0x02 (chain key), and associated data built as our X3DH AD followed by our message
prefix (version, kind, header). Its AEAD slot is filled with the message-key expansion of
docs/protocol.md E2E §4 written here against pyca/cryptography's HKDF and PyNaCl's AEAD, so
what the oracle checks independently is the ratchet itself: root and chain KDFs, header
counters, DH steps and skipped keys. The two implementations talk to each other in both
directions with out-of-order delivery.
"""

from __future__ import annotations

import random

from confide_crypto.header import Header as OurHeader
from confide_crypto.header import RatchetMessage
from confide_crypto.keys import X25519KeyPair
from confide_crypto.ratchet import RatchetState
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from doubleratchet import AEAD, DoubleRatchet, EncryptedMessage, Header
from doubleratchet.recommended import (
    HashFunction,
    diffie_hellman_ratchet_curve25519,
    kdf_hkdf,
    kdf_separate_hmacs,
)
from nacl import bindings

from .support import CountingRng


class RootKDF(kdf_hkdf.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256

    @staticmethod
    def _get_info() -> bytes:
        return b"Confide ratchet root v1"


class ChainKDF(kdf_separate_hmacs.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256


def _expand(message_key: bytes) -> tuple[bytes, bytes]:
    out = HKDF(
        algorithm=hashes.SHA256(), length=56, salt=None, info=b"Confide ratchet message keys v1"
    ).derive(message_key)
    return out[:32], out[32:]


class ConfideAEAD(AEAD):
    @staticmethod
    async def encrypt(plaintext: bytes, key: bytes, associated_data: bytes) -> bytes:
        k, nonce = _expand(key)
        return bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, associated_data, nonce, k
        )

    @staticmethod
    async def decrypt(ciphertext: bytes, key: bytes, associated_data: bytes) -> bytes:
        k, nonce = _expand(key)
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            ciphertext, associated_data, nonce, k
        )


class Oracle(DoubleRatchet):
    @staticmethod
    def _build_associated_data(associated_data: bytes, header: Header) -> bytes:
        ours = OurHeader(header.ratchet_pub, header.previous_sending_chain_length,
                         header.sending_chain_length)  # fmt: skip
        return associated_data + RatchetMessage(ours, b"").prefix()


CONFIG = {
    "diffie_hellman_ratchet_class": diffie_hellman_ratchet_curve25519.DiffieHellmanRatchet,
    "root_chain_kdf": RootKDF,
    "message_chain_kdf": ChainKDF,
    "message_chain_constant": b"\x02\x01",
    "dos_protection_threshold": 1000,
    "max_num_skipped_message_keys": 2000,
    "aead": ConfideAEAD,
}
AD = bytes(range(64))


def _to_oracle(message: RatchetMessage) -> EncryptedMessage:
    h = message.header
    return EncryptedMessage(
        Header(h.ratchet_key, h.previous_chain_length, h.message_number), message.ciphertext
    )


def _from_oracle(message: EncryptedMessage) -> RatchetMessage:
    h = message.header
    ours = OurHeader(h.ratchet_pub, h.previous_sending_chain_length, h.sending_chain_length)
    return RatchetMessage(ours, message.ciphertext)


async def test_our_initiator_talks_to_the_oracle_responder() -> None:
    rng = CountingRng("oracle-ratchet-1")
    shared, spk = rng(32), X25519KeyPair.generate(rng)
    alice = RatchetState.init_initiator(shared, spk.public, X25519KeyPair.generate(rng))
    first = alice.encrypt(b"hello", AD)
    bob, plaintext = await Oracle.decrypt_initial_message(
        **CONFIG, shared_secret=shared, own_ratchet_priv=spk.private,
        message=_to_oracle(first), associated_data=AD,
    )  # fmt: skip
    assert plaintext == b"hello"
    await _converse(alice, bob, rng)


async def test_oracle_initiator_talks_to_our_responder() -> None:
    rng = CountingRng("oracle-ratchet-2")
    shared, spk = rng(32), X25519KeyPair.generate(rng)
    alice, first = await Oracle.encrypt_initial_message(
        **CONFIG, shared_secret=shared, recipient_ratchet_pub=spk.public,
        message=b"hello", associated_data=AD,
    )  # fmt: skip
    bob = RatchetState.init_responder(shared, spk)
    assert bob.decrypt(_from_oracle(first), AD, now=0, rng=rng) == b"hello"
    # Our Bob now answers, so the roles in _converse are reversed.
    await _converse_reversed(bob, alice, rng)


async def _converse(ours: RatchetState, oracle: DoubleRatchet, rng: CountingRng) -> None:
    shuffle = random.Random(7)
    for turn in range(4):
        batch = [await oracle.encrypt_message(f"o{turn}.{i}".encode(), AD) for i in range(5)]
        order = list(range(5))
        shuffle.shuffle(order)
        for i in order:
            got = ours.decrypt(_from_oracle(batch[i]), AD, now=0, rng=rng)
            assert got == f"o{turn}.{i}".encode()
        mine = [ours.encrypt(f"u{turn}.{i}".encode(), AD) for i in range(5)]
        shuffle.shuffle(order)
        for i in order:
            assert await oracle.decrypt_message(_to_oracle(mine[i]), AD) == f"u{turn}.{i}".encode()


async def _converse_reversed(ours: RatchetState, oracle: DoubleRatchet, rng: CountingRng) -> None:
    shuffle = random.Random(11)
    for turn in range(4):
        mine = [ours.encrypt(f"u{turn}.{i}".encode(), AD) for i in range(5)]
        order = list(range(5))
        shuffle.shuffle(order)
        for i in order:
            assert await oracle.decrypt_message(_to_oracle(mine[i]), AD) == f"u{turn}.{i}".encode()
        batch = [await oracle.encrypt_message(f"o{turn}.{i}".encode(), AD) for i in range(5)]
        shuffle.shuffle(order)
        for i in order:
            got = ours.decrypt(_from_oracle(batch[i]), AD, now=0, rng=rng)
            assert got == f"o{turn}.{i}".encode()
