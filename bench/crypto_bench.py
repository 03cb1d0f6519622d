"""Cost of the end-to-end layer, next to the bare primitive it is built on.

Run: ``.venv/bin/python bench/crypto_bench.py [repeats]``. Prints JSON; ``measure`` returns
the same dict for the bench harness. Every figure is the median, in microseconds, of
``repeats`` runs in this one process, so they can be compared with each other:

- ``aead_1kib_us``: one XChaCha20-Poly1305 IETF encryption of 1 KiB (libsodium), the floor;
- ``ratchet_encrypt_decrypt_1kib_us``: a Double Ratchet encrypt plus decrypt of 1 KiB;
- ``envelope_encrypt_decrypt_1kib_us``: the same inside sealed-sender, padded envelopes
  (what a client really does per message: adds three X25519 operations);
- ``x3dh_session_us``: a new session: X3DH on both sides and the first ratchet keys.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable

from confide_crypto.device import Device
from confide_crypto.keys import IdentityKeyPair, PreKeyBundle, X25519KeyPair
from confide_crypto.ratchet import RatchetState
from confide_crypto.session import Session
from nacl import bindings

MESSAGE = bytes(1024)
AD = bytes(64)


class _Rng:
    """Fast reproducible bytes, so the benchmark measures the protocol, not the OS."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, size: int) -> bytes:
        self.n += 1
        return hashlib.shake_256(self.n.to_bytes(8, "big")).digest(size)


def _median_us(operation: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        operation()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def _aead(repeats: int) -> float:
    key, nonce = bytes(32), bytes(24)
    return _median_us(
        lambda: bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(MESSAGE, AD, nonce, key),
        repeats,
    )


def _ratchet(repeats: int, rng: _Rng) -> float:
    spk = X25519KeyPair.generate(rng)
    alice = RatchetState.init_initiator(bytes(32), spk.public, X25519KeyPair.generate(rng))
    bob = RatchetState.init_responder(bytes(32), spk)
    bob.decrypt(alice.encrypt(b"", AD), AD, now=0, rng=rng)
    return _median_us(lambda: bob.decrypt(alice.encrypt(MESSAGE, AD), AD, now=0, rng=rng), repeats)


def _pair(rng: _Rng) -> tuple[Device, Device, PreKeyBundle]:
    alice, bob = Device(IdentityKeyPair.generate(rng)), Device(IdentityKeyPair.generate(rng))
    spk = bob.add_signed_prekey(1, rng)
    bundle = PreKeyBundle(bob.identity.public, 1, spk.pair.public, spk.signature)
    return alice, bob, bundle


def _envelope(repeats: int, rng: _Rng) -> float:
    alice, bob, bundle = _pair(rng)
    alice.start_session(bundle, rng)
    peer = bob.identity.public
    bob.decrypt_envelope(alice.encrypt_to(peer, b"", rng=rng), now=0, rng=rng)

    def once() -> None:
        bob.decrypt_envelope(alice.encrypt_to(peer, MESSAGE, rng=rng), now=0, rng=rng)

    return _median_us(once, repeats)


def _x3dh(repeats: int, rng: _Rng) -> float:
    alice, bob, bundle = _pair(rng)

    def once() -> None:
        session = Session.initiate(alice.identity, bundle, rng)
        message = session.ratchet.encrypt(b"", session.associated_data, session.pending_initial)
        assert message.initial is not None
        Session.respond(bob.identity, alice.identity.public, message.initial,
                        bob.signed_prekeys[1], None)  # fmt: skip

    return _median_us(once, repeats)


def measure(repeats: int) -> dict[str, float]:
    """Median microseconds per operation over ``repeats`` runs each."""
    rng = _Rng()
    return {
        "aead_1kib_us": _aead(repeats),
        "ratchet_encrypt_decrypt_1kib_us": _ratchet(repeats, rng),
        "envelope_encrypt_decrypt_1kib_us": _envelope(repeats, rng),
        "x3dh_session_us": _x3dh(repeats, rng),
    }


if __name__ == "__main__":
    result = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
    print(json.dumps({k: round(v, 1) for k, v in result.items()}, indent=1))
