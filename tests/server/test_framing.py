"""ws/framing.py against websockets' own parser, at every cut of the byte stream.

The relay's reader and websockets' sans-io parser (the oracle, tests/server/oracle.py) read
the same client byte stream, cut in two at every offset (so at every header byte too) and
fed a byte at a time, and must read the same frames in the same order, and refuse at the
same frame with the close code docs/protocol.md gives. Masking keys are drawn at random and
from keys shaped like the start of another frame (the attack of issue 13: a reader that
starts inside a frame sees a frame there).
"""

from __future__ import annotations

from collections.abc import Generator

from confide_server.ws.framing import FrameReader, Refused, close_frame, text_frames
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from .oracle import oracle_reads, relay_reads

MAX = 70_000

# Keys that read as the start of a frame: text, ping or close headers with short lengths.
HEADER_SHAPED = [b"\x81\x80\x00\x00", b"\x81\x9c\x81\x9c", b"\x89\x80\x81\x80", b"\x88\x82\x03\xe8"]
masks = st.sampled_from([*HEADER_SHAPED, b"\x00\x00\x00\x00"]) | st.binary(min_size=4, max_size=4)


def client_frame(first: int, payload: bytes, mask: bytes | None) -> bytes:
    """A client frame with byte 0 ``first`` and the given masking key (None: unmasked)."""
    n = len(payload)
    if n < 126:
        length = bytes([n])
    elif n < 1 << 16:
        length = bytes([126]) + n.to_bytes(2, "big")
    else:
        length = bytes([127]) + n.to_bytes(8, "big")
    if mask is None:
        return bytes([first]) + length + payload
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([first, 0x80 | length[0]]) + length[1:] + mask + masked


texts = st.text(max_size=40).map(str.encode) | st.integers(126, 700).map(lambda n: b"x" * n)
good = st.one_of(
    st.tuples(st.just(0x81), texts),
    st.tuples(st.sampled_from([0x89, 0x8A]), st.binary(max_size=125)),
)
bad = st.one_of(
    st.tuples(st.just(0x82), st.binary(max_size=20)),  # binary
    st.tuples(st.just(0x01), texts),  # the first fragment of a text message
    st.tuples(st.just(0x80), st.binary(max_size=20)),  # a continuation
    st.tuples(st.sampled_from([0xC1, 0xA1, 0x91]), st.binary(max_size=20)),  # reserved bits
    st.tuples(st.sampled_from([0x83, 0x87, 0x8B, 0x8F]), st.binary(max_size=20)),  # opcode
    st.tuples(st.just(0x81), st.sampled_from([b"\xff", b"\xc3", b"a\xed\xa0\x80"])),  # UTF-8
    st.tuples(st.just(0x09), st.binary(max_size=20)),  # a ping in fragments
    st.tuples(st.just(0x89), st.just(b"p" * 126)),  # a ping over 125 bytes
    st.tuples(st.just(0x88), st.sampled_from([b"\x03", b"\x03\xed", b"\x03\xe8\xff"])),
    st.tuples(st.just(0x81), st.just(b"y" * 1001)),  # over the limit below
)
closes = st.tuples(
    st.just(0x88),
    st.sampled_from([b"", b"\x03\xe8", b"\x0f\xa0bye", b"\x03\xf3restart"]),
)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    frames = draw(st.lists(good, max_size=5))
    ending = draw(st.none() | bad | closes)
    if ending is not None:
        frames.append(ending)
        frames += draw(st.lists(good, max_size=2))  # never to be read
    unmasked = draw(st.integers(-1, len(frames) - 1))
    out = [
        client_frame(first, payload, None if i == unmasked else draw(masks))
        for i, (first, payload) in enumerate(frames)
    ]
    return b"".join(out)


LIMIT = 1000


@settings(max_examples=100, deadline=None)
@given(streams())
def test_the_reader_reads_as_websockets_does_at_every_cut(stream: bytes) -> None:
    whole = oracle_reads([stream], LIMIT)
    assert relay_reads([stream], LIMIT) == whole
    for cut in range(1, len(stream)):
        pieces = [stream[:cut], stream[cut:]]
        assert relay_reads(pieces, LIMIT) == oracle_reads(pieces, LIMIT) == whole, cut
    bytewise = [stream[i : i + 1] for i in range(len(stream))]
    assert relay_reads(bytewise, LIMIT) == whole


@settings(max_examples=10, deadline=None)
@given(st.integers(1 << 16, (1 << 16) + 300), masks, st.data())
def test_the_64_bit_length_form_reads_alike_cut_in_its_header_or_payload(
    n: int, mask: bytes, data: st.DataObject
) -> None:
    frame = client_frame(0x81, b"z" * n, mask)
    stream = frame + client_frame(0x89, b"after", mask)
    header_cuts = list(range(1, 16))
    cuts = header_cuts + [data.draw(st.integers(16, len(stream) - 1)) for _ in range(5)]
    whole = oracle_reads([stream], MAX)
    assert whole == [("text", b"z" * n), ("ping", b"after")]
    for cut in cuts:
        pieces = [stream[:cut], stream[cut:]]
        assert relay_reads(pieces, MAX) == whole, cut
    assert relay_reads([stream], n - 1) == oracle_reads([stream], n - 1) == [("refused", 4413)]


def test_a_frame_over_the_limit_is_refused_from_its_header_alone() -> None:
    header = client_frame(0x81, b"w" * 5000, b"\x00\x00\x00\x00")[:8]
    assert relay_reads([header], 4999) == [("refused", 4413)]


def test_the_split_header_attack_reads_the_outer_frame() -> None:
    """The frame of tests/server/test_split_header.py, its header in a piece of its own."""
    from .test_split_header import split_header_frame

    header, rest, payload = split_header_frame()
    assert relay_reads([header, rest], MAX) == [("text", payload)]


def test_a_frame_fed_a_byte_at_a_time_is_parsed_once() -> None:
    """Bytes of an incomplete frame wait in a buffer: no parse is tried before the frame
    can be whole, so a slow sender costs no more parsing than a fast one."""
    texts: list[bytes] = []
    tries: list[int] = []

    class Counting(FrameReader):
        def _parse(self, data: bytes) -> int:
            tries.append(len(data))
            return super()._parse(data)

    reader = Counting(1 << 20, texts.append, lambda *_: None, lambda *_: None)
    frame = client_frame(0x81, b"q" * 50_000, b"\x01\x02\x03\x04")
    for i in range(len(frame)):
        reader.feed(frame[i : i + 1])
    # Tried at 1 and 2 bytes (the masking bit), 6 and 8 (the header), and once whole.
    assert tries == [1, 2, 6, 8, len(frame)]
    assert texts == [b"q" * 50_000]


def test_nothing_is_read_after_a_close_or_a_refusal() -> None:
    close = client_frame(0x88, b"\x03\xe8", b"\x01\x02\x03\x04")
    after = client_frame(0x81, b"after", b"\x01\x02\x03\x04")
    assert relay_reads([close + after, after], MAX) == [("close", 1000, "")]
    binary = client_frame(0x82, b"b", b"\x01\x02\x03\x04")
    events: list[bytes] = []
    reader = FrameReader(MAX, events.append, lambda *_: None, lambda *_: None)
    try:
        reader.feed(binary)
    except Refused as refused:
        assert refused.code == 1003
    reader.feed(after)
    assert events == [] and reader.done


def parse_all(data: bytes) -> list[Frame]:
    """Every whole server frame in ``data``, by websockets' parser."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    out: list[Frame] = []
    while reader.buffer:
        parser: Generator[None, None, Frame] = Frame.parse(
            reader.read_exact, mask=False, max_size=None
        )
        try:
            next(parser)
        except StopIteration as done:
            out.append(done.value)
        else:  # pragma: no cover - the data was whole
            raise AssertionError("incomplete frame")
    return out


@given(st.lists(st.text(max_size=300) | st.builds(lambda n: "x" * n, st.integers(100, 70_000))))
@settings(max_examples=50, deadline=None)
def test_frames_written_parse_as_websockets_reads_them(values: list[str]) -> None:
    parsed = parse_all(text_frames(values))
    assert [(f.opcode, f.fin, f.rsv1, f.rsv2, f.rsv3) for f in parsed] == [
        (Opcode.TEXT, True, False, False, False)
    ] * len(values)
    assert [f.data.decode() for f in parsed] == values
    assert text_frames(values) == b"".join(
        Frame(Opcode.TEXT, v.encode()).serialize(mask=False) for v in values
    )


def test_close_frames_written_parse_as_websockets_reads_them() -> None:
    (frame,) = parse_all(close_frame(4413, "é" * 100))
    assert frame.opcode is Opcode.CLOSE and len(frame.data) <= 125
    assert frame.data[:2] == (4413).to_bytes(2, "big")
    assert frame.data[2:].decode() == "é" * 61  # cut at 123 bytes, on a character boundary
    assert parse_all(close_frame(1005))[0].data == b""
