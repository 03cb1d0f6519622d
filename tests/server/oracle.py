"""Frames as the relay's reader reads them, and as websockets' own parser does (the oracle).

Both read one byte stream, fed in the pieces given; each gives the same list of outcomes,
so that a test can require them equal: ``("text", payload)``, ``("ping", payload)``,
``("pong", payload)``, ``("close", code, reason)``, and last, if the stream is refused,
``("refused", code)``. websockets accepts some frames the relay refuses (binary ones,
fragments, text that is not UTF-8, which it leaves to a higher layer); for those the oracle
says what the relay's close code must be, from docs/protocol.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from confide_server.ws.framing import FrameReader, Refused
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

Outcome = tuple[object, ...]


def relay_reads(pieces: Iterable[bytes], max_size: int) -> list[Outcome]:
    out: list[Outcome] = []
    reader = FrameReader(
        max_size,
        lambda payload: out.append(("text", payload)),
        lambda opcode, payload: out.append(("ping" if opcode == 9 else "pong", payload)),
        lambda code, reason: out.append(("close", code, reason)),
    )
    try:
        for piece in pieces:
            reader.feed(piece)
    except Refused as refused:
        out.append(("refused", refused.code))
    return out


def _outcome(frame: Frame) -> tuple[Outcome, bool]:
    """The relay's outcome for a frame websockets read, and whether reading stops there."""
    if frame.opcode is Opcode.TEXT:
        if not frame.fin:
            return ("refused", 1003), True
        try:
            frame.data.decode()
        except UnicodeDecodeError:
            return ("refused", 1007), True
        return ("text", bytes(frame.data)), False
    if frame.opcode is Opcode.BINARY:
        return ("refused", 1003), True
    if frame.opcode is Opcode.PING:
        return ("ping", bytes(frame.data)), False
    if frame.opcode is Opcode.PONG:
        return ("pong", bytes(frame.data)), False
    raise AssertionError(frame)  # close frames are read from the protocol's state


def oracle_reads(pieces: Iterable[bytes], max_size: int) -> list[Outcome]:
    protocol = Protocol(Side.SERVER, state=State.OPEN, max_size=max_size)
    out: list[Outcome] = []
    for piece in pieces:
        protocol.receive_data(piece)
        for frame in protocol.events_received():
            if frame.opcode is Opcode.CLOSE:
                continue
            outcome, stop = _outcome(frame)
            out.append(outcome)
            if stop:
                return out
        if protocol.state is not State.OPEN:
            break
    if protocol.close_rcvd is not None:
        out.append(("close", protocol.close_rcvd.code, protocol.close_rcvd.reason))
    elif protocol.close_sent is not None:
        code = protocol.close_sent.code
        out.append(("refused", 4413 if code == 1009 else code))
    return out
