"""A frame whose header arrives alone must be read as RFC 6455 reads it (issue 13)."""

from __future__ import annotations

import asyncio
import json

import httpx
from confide_server.relay import Relay

from .conftest import LiveServer
from .helpers import enrol
from .wsclient import WsClient

HIDDEN = b'{"type":"ping","ref":"hidden"}'


def masked(payload: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def split_header_frame() -> tuple[bytes, bytes, bytes]:
    """A masked text frame, as (its 2-byte header, the rest, the payload an RFC 6455 parser
    reads), whose masking key and first payload bytes are shaped like the start of another
    text frame, so a reader that starts at the second part sees ``HIDDEN`` instead."""
    n = len(HIDDEN)
    assert n < 126
    # The inner frame: header 0x81 0x80|n, masking key (a, b, c, d), then HIDDEN masked.
    inner_mask = bytes((0x11, 0x22, 0x81, 0x80 | n))
    inner = bytes((0x81, 0x80 | n)) + inner_mask + masked(HIDDEN, inner_mask)
    # The outer frame's masking key is the inner frame's first four bytes, and its masked
    # payload the rest of the inner frame.
    outer_mask, outer_masked = inner[:4], inner[4:]
    header = bytes((0x81, 0x80 | len(outer_masked)))
    return header, outer_mask + outer_masked, masked(outer_masked, outer_mask)


def test_the_crafted_frame_hides_a_ping() -> None:
    _header, rest, payload = split_header_frame()
    assert rest[:2] == bytes((0x81, 0x80 | len(HIDDEN)))
    # What RFC 6455 reads: two NUL bytes, then HIDDEN: valid UTF-8, but not JSON.
    assert payload == b"\x00\x00" + HIDDEN


async def test_a_split_header_frame_is_read_as_rfc_6455_reads_it(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    worker = await enrol(live_client, live_relay)
    client = await WsClient.open(live.ws, worker.token)
    header, rest, _payload = split_header_frame()
    transport = client.conn.transport
    transport.write(header)
    # The header travels alone in one TCP segment (TCP_NODELAY is set on asyncio's
    # sockets); the pause lets the relay read it before the rest arrives.
    await asyncio.sleep(0.2)
    transport.write(rest)
    await client.put({"type": "ping", "ref": "after"})
    # The outer frame is not JSON: an error frame without a ref, then the real ping's pong.
    first = await client.get()
    assert first["type"] == "error", first
    assert (first["ref"], first["error"]) == (None, "invalid-input")
    assert await client.get() == {"type": "pong", "ref": "after"}
    await client.close()
    assert json.loads(HIDDEN)["ref"] == "hidden"
