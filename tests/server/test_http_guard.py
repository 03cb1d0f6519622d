"""The front door's bookkeeping without sockets: trusted proxies and per-address counts
(tests/system/test_front_door.py drives the guard itself over real sockets)."""

from __future__ import annotations

from confide_server.http_guard import AddressCounts, trusted_proxies


def test_trusted_proxies_follow_uvicorns_syntax() -> None:
    trusted = trusted_proxies("127.0.0.1, 10.0.0.0/8, ::1, /run/proxy.sock")
    assert trusted("127.0.0.1")
    assert trusted("10.20.30.40")
    assert trusted("::1")
    assert trusted("/run/proxy.sock")
    assert not trusted("192.0.2.1")
    assert not trusted("not an address")
    assert trusted_proxies("*")("192.0.2.1")
    assert not trusted_proxies("")("127.0.0.1")


def test_an_address_is_admitted_up_to_the_limit_and_forgotten_at_zero() -> None:
    counts = AddressCounts(2, trusted_proxies("127.0.0.1"))
    first, second = counts.admit("192.0.2.1"), counts.admit("192.0.2.1")
    assert isinstance(first, bytes) and first == second
    assert b"192.0.2.1" not in first  # a salted hash, not the address
    assert counts.admit("192.0.2.1") is False
    other = counts.admit("192.0.2.2")
    assert isinstance(other, bytes)
    counts.release(first)
    assert counts.admit("192.0.2.1") == first
    for _ in range(2):
        counts.release(first)
    counts.release(other)
    assert len(counts) == 0  # nothing of an address is kept once its connections are gone
    # A trusted proxy and a connection without an address (a unix socket) are not counted.
    assert all(counts.admit("127.0.0.1") is None for _ in range(5))
    assert all(counts.admit(None) is None for _ in range(5))
    assert len(counts) == 0
