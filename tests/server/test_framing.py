"""ws/framing.py against websockets' own frame parser and serializer."""

from __future__ import annotations

from collections.abc import Generator

from confide_server.ws.framing import take_text_frames, text_frames
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

MAX = 70_000

texts = st.text(max_size=300) | st.builds(lambda n: "x" * n, st.integers(100, 65_535))


def client_frame(frame: Frame) -> bytes:
    return frame.serialize(mask=True)


def parse_all(data: bytes, *, mask: bool) -> list[Frame]:
    """Every whole frame in ``data``, by websockets' parser."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    out: list[Frame] = []
    while reader.buffer:
        parser: Generator[None, None, Frame] = Frame.parse(
            reader.read_exact, mask=mask, max_size=None
        )
        try:
            next(parser)
        except StopIteration as done:
            out.append(done.value)
        else:  # pragma: no cover - the data was whole
            raise AssertionError("incomplete frame")
    return out


def take_all(data: bytes, max_size: int = MAX, refuse: str | None = None) -> tuple[list, int]:
    got: list[bytes] = []

    def sink(payload: bytes) -> bool:
        if refuse is not None and payload == refuse.encode():
            return False
        got.append(payload)
        return True

    return got, take_text_frames(data, max_size, sink)


@given(st.lists(texts, max_size=6))
def test_whole_text_frames_are_read_as_websockets_writes_them(values: list[str]) -> None:
    data = b"".join(client_frame(Frame(Opcode.TEXT, v.encode())) for v in values)
    got, taken = take_all(data)
    assert taken == len(data)
    assert got == [v.encode() for v in values]


@given(st.lists(texts, min_size=1, max_size=4), st.data())
def test_a_frame_cut_short_is_left_whole_for_later(values: list[str], data: st.DataObject) -> None:
    frames = [client_frame(Frame(Opcode.TEXT, v.encode())) for v in values]
    stream = b"".join(frames)
    cut = data.draw(st.integers(0, len(stream) - 1))
    got, taken = take_all(stream[:cut])
    # Exactly the frames that fit whole are taken, and no byte of the next one.
    boundaries = [sum(len(f) for f in frames[: i + 1]) for i in range(len(frames))]
    whole = [b for b in boundaries if b <= cut]
    assert taken == (whole[-1] if whole else 0)
    assert got == [v.encode() for v in values[: len(whole)]]


@given(st.text(max_size=50), st.sampled_from(["ping", "binary", "fragment", "continuation"]))
def test_anything_but_a_final_text_frame_stops_the_reading(first: str, kind: str) -> None:
    other = {
        "ping": Frame(Opcode.PING, b"hi"),
        "binary": Frame(Opcode.BINARY, b"\x00\x01"),
        "fragment": Frame(Opcode.TEXT, b"part", fin=False),
        "continuation": Frame(Opcode.CONT, b"rest"),
    }[kind]
    head = client_frame(Frame(Opcode.TEXT, first.encode()))
    data = head + client_frame(other) + client_frame(Frame(Opcode.TEXT, b"after"))
    got, taken = take_all(data)
    assert taken == len(head)
    assert got == [first.encode()]


def test_unmasked_extension_bits_large_and_oversized_frames_are_left_alone() -> None:
    unmasked = Frame(Opcode.TEXT, b"plain").serialize(mask=False)
    assert take_all(unmasked) == ([], 0)
    rsv = Frame(Opcode.TEXT, b"x", rsv1=True)
    rsv_bytes = bytearray(client_frame(Frame(Opcode.TEXT, b"x")))
    rsv_bytes[0] |= 0x40
    assert rsv.rsv1 and take_all(bytes(rsv_bytes)) == ([], 0)
    # Payloads of 64 KiB and more (a 64-bit length) go to the general parser.
    big = client_frame(Frame(Opcode.TEXT, b"y" * 70_000))
    assert take_all(big, max_size=1 << 20) == ([], 0)
    # So does a frame over the limit, for the general parser to refuse.
    over = client_frame(Frame(Opcode.TEXT, b"z" * 200))
    assert take_all(over, max_size=199) == ([], 0)
    assert take_all(over, max_size=200)[1] == len(over)


def test_a_refused_frame_and_what_follows_are_not_taken() -> None:
    frames = [client_frame(Frame(Opcode.TEXT, t)) for t in (b"a", b"no", b"b")]
    got, taken = take_all(b"".join(frames), refuse="no")
    assert got == [b"a"]
    assert taken == len(frames[0])


@given(st.lists(texts, max_size=6))
def test_frames_written_parse_as_websockets_reads_them(values: list[str]) -> None:
    parsed = parse_all(text_frames(values), mask=False)
    assert [(f.opcode, f.fin, f.rsv1, f.rsv2, f.rsv3) for f in parsed] == [
        (Opcode.TEXT, True, False, False, False)
    ] * len(values)
    assert [f.data.decode() for f in parsed] == values
    assert text_frames(values) == b"".join(
        Frame(Opcode.TEXT, v.encode()).serialize(mask=False) for v in values
    )
