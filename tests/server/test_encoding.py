"""Strict base64url (encoding.py): each value has exactly one accepted spelling."""

from __future__ import annotations

import base64

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
