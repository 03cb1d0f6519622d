"""crypto/ carries no hand-written primitive: ciphers, MACs and hashes come from libsodium
(PyNaCl) or the standard library, never from Python arithmetic of our own (issue 13 §6)."""

from __future__ import annotations

from pathlib import Path

from confide_crypto import attachments

SOURCES = Path(attachments.__file__).parent

# Constants that a hand-written ChaCha20/Salsa20 block, Poly1305 or SHA-2 cannot do without.
TELLTALES = (
    "0x61707865",  # "expa", the first ChaCha20/Salsa20 constant word
    "expand 32-byte k",
    "(1 << 130) - 5",  # the Poly1305 prime
    "2**130",
    "0x0ffffffc0ffffffc",  # the Poly1305 clamp
    "0x6a09e667",  # SHA-256 / BLAKE2b initial value
)


def test_no_module_of_crypto_spells_out_a_primitive() -> None:
    found = [
        (path.name, telltale)
        for path in sorted(SOURCES.rglob("*.py"))
        for telltale in TELLTALES
        if telltale in path.read_text().lower()
    ]
    assert found == []
