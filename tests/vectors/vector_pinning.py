"""Pinned inputs for the vector generator: bytes named by labels, and an rng that logs draws."""

from __future__ import annotations

import hashlib
from typing import Any

from confide_crypto.keys import IdentityKeyPair

Json = dict[str, Any]


def pinned(label: str, n: int = 32) -> bytes:
    """Fixed bytes named by a label: SHA-512 in counter mode."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha512(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


class Draws:
    """A pinned rng that records each draw, so vectors can list them for replay."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.count = 0
        self.log: list[str] = []

    def __call__(self, n: int) -> bytes:
        value = pinned(f"{self.label}/draw{self.count}", n)
        self.count += 1
        self.log.append(value.hex())
        return value

    def take_log(self) -> list[str]:
        log, self.log = self.log, []
        return log


def identity(label: str) -> IdentityKeyPair:
    return IdentityKeyPair(pinned(f"identity/{label}"))


def describe_identity(key: IdentityKeyPair) -> Json:
    return {
        "seed": key.seed.hex(),
        "ed25519_public": key.public.hex(),
        "x25519_private": key.dh.private.hex(),
        "x25519_public": key.dh.public.hex(),
    }


def pattern(n: int) -> bytes:
    """Deterministic content: byte i is i mod 251."""
    return bytes(i % 251 for i in range(n))
