"""A bounded fuzzer over ws/framing.py's reader, in the normal test run.

Hypothesis mutates streams of valid client frames (flipped, dropped and inserted bytes)
and cuts them at random; the reader must never raise anything but ``Refused`` and must read
exactly what websockets' own parser reads (tests/server/oracle.py). The number of inputs is
bounded so that the run stays short; raise ``max_examples`` locally to fuzz for longer.

A mutated stream may end inside a frame, where the relay's reader may already refuse from
the header what websockets refuses once the payload is there; padding both streams with
enough zero bytes to finish any frame makes them decide on the same bytes.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .oracle import oracle_reads, relay_reads
from .test_framing import streams

LIMIT = 1000
PADDING = b"\x00" * (LIMIT + 14)  # finishes any frame the limit allows; then 0x00 0x00 is refused


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    data = bytearray(draw(streams()))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "drop", "insert"]))
        if kind == "insert" or not data:
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
        elif kind == "flip":
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= 1 << draw(st.integers(0, 7))
        else:
            at = draw(st.integers(0, len(data) - 1))
            del data[at]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(data) - 1)), max_size=8)))
    return bytes(data), cuts


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_streams_read_as_websockets_reads_them(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    pieces = [data[i:j] for i, j in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    pieces.append(PADDING)
    assert relay_reads(pieces, LIMIT) == oracle_reads(pieces, LIMIT)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 64))
def test_random_bytes_never_raise_anything_but_a_refusal(data: bytes, step: int) -> None:
    pieces = [data[i : i + step] for i in range(0, len(data), step)] + [PADDING]
    assert relay_reads(pieces, LIMIT) == oracle_reads(pieces, LIMIT)
