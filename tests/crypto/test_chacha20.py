"""The ChaCha20 pieces PyNaCl lacks, checked against published vectors and against libsodium."""

from __future__ import annotations

from confide_crypto.chacha20 import chacha20_block, hchacha20, poly1305
from nacl import bindings

from .support import CountingRng


def test_hchacha20_draft_vector() -> None:
    # draft-irtf-cfrg-xchacha-03 §2.2.1.
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a0000000031415927")
    expected = "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    assert hchacha20(key, nonce).hex() == expected


def test_chacha20_block_and_poly1305_rfc8439_vectors() -> None:
    # RFC 8439 §2.3.2 (block function) and §2.5.2 (Poly1305).
    key = bytes(range(32))
    block = chacha20_block(key, 1, bytes.fromhex("000000090000004a00000000"))
    assert block.hex().startswith(
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
    )
    mac_key = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    tag = poly1305(mac_key, b"Cryptographic Forum Research Group")
    assert tag.hex() == "a8061dc1305136c6c22b8baf0c0127a9"


def test_xchacha20_is_chacha20_under_the_hchacha20_subkey() -> None:
    rng = CountingRng("xchacha")
    for size in (0, 1, 100):
        key, nonce, message = rng(32), rng(24), rng(size)
        x = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(message, b"ad", nonce, key)
        subkey = hchacha20(key, nonce[:16])
        c = bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            message, b"ad", bytes(4) + nonce[16:], subkey
        )
        assert x == c
