"""Strict base64url (encoding.py): each value has exactly one accepted spelling."""

from __future__ import annotations

import base64
import random

import pytest
from confide_server.encoding import b64d, b64e
from confide_server.errors import InvalidInput


@pytest.mark.parametrize("size", range(0, 9))
def test_round_trip(size: int) -> None:
    data = bytes(range(250, 250 - size, -1))
    assert b64d(b64e(data), "f") == data


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("AA==", "f must be base64url without padding"),
        ("+/8", "f is not valid base64url"),
        ("A", "f is not valid base64url"),
        ("AB", "f is not canonical base64url"),
        ("A A", "f is not valid base64url"),
        ("é", "f is not valid base64url"),
        (7, "f must be a base64url string"),
    ],
)
def test_refused(text: object, detail: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        b64d(text, "f")
    assert raised.value.detail == detail


def test_sizes() -> None:
    text = base64.urlsafe_b64encode(b"x" * 16).rstrip(b"=").decode()
    assert b64d(text, "f", size=16) == b"x" * 16
    with pytest.raises(InvalidInput, match="must be 32 bytes"):
        b64d(text, "f", size=32)
    with pytest.raises(InvalidInput, match="larger than 8 bytes"):
        b64d(text, "f", max_size=8)


def _stdlib_strict(text: str) -> bytes | None:
    """The same rules written with the standard library alone, to check pybase64's use."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if any(c not in alphabet for c in text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != text:
        return None  # not canonical
    return data


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_a_plain_reading_of_the_rules(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    odd = "AQgw+/= \n\t.\x00é"
    for _ in range(500):
        # Both sides of the switch to pybase64 at 256 characters.
        length = rng.choice((rng.randrange(0, 12), rng.randrange(250, 400)))
        # Mostly valid characters, so that many strings decode and the rest fail late; odd
        # ones include the last characters that are canonical or not at the end.
        text = "".join(
            rng.choice(odd if rng.random() < 2 / (length + 1) else alphabet) for _ in range(length)
        )
        expected = _stdlib_strict(text)
        if expected is None:
            with pytest.raises(InvalidInput):
                b64d(text, "f")
        else:
            assert b64d(text, "f") == expected
