"""A client that stops reading, lets TCP fill up, and then disconnects leaves nothing behind.

The client authenticates, then sends pings and never reads a pong: the relay's answers pile
up in the kernel's buffers and then in the relay, until it stops reading the client's frames
(docs/protocol.md, "Flow control") and the client's own writes block. Then the client
resets the connection. The relay must notice that the connection is gone: the connection
gauge in /metrics goes back to zero, and the token (allowed one connection here) can open a
connection again instead of being refused with 4429. Both WebSocket transports are tested.

Every wait is bounded; a relay that keeps the dead connection fails the gauge's wait.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import select
import socket
import struct
import time
from pathlib import Path

import httpx
import pytest

from system.relay_process import RelayProcess
from system.wire import Device, Inbox, b64e

pytestmark = pytest.mark.slow

MAX_PINGS = 400_000  # bounds the upload (about 40 MB) if the relay never stops reading
BLOCKED_ROUNDS = 3  # consecutive one-second waits with the socket unwritable: the relay stopped
GAUGE = "confide_websocket_connections"


def masked_text(payload: bytes) -> bytes:
    """One final, masked text frame (RFC 6455 §5.2); a zero key leaves the bytes as they are."""
    assert len(payload) < 126  # the short length form is all this test sends
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + b"\0\0\0\0" + payload


def open_raw(port: int) -> socket.socket:
    """A WebSocket on a bare socket with a small receive buffer, after the handshake."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 4096:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def read_frame(sock: socket.socket) -> bytes:
    """The payload of one unmasked server frame (the answer to ``auth``)."""

    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "the relay closed the connection"
            data += chunk
        return data

    _, length = exactly(2)
    if length == 126:
        (length,) = struct.unpack("!H", exactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", exactly(8))
    return exactly(length)


def stall_and_reset(port: int, token: bytes) -> None:
    """Authenticate, ping without reading until the relay stops reading, then reset."""
    sock = open_raw(port)
    sock.sendall(masked_text(json.dumps({"type": "auth", "token": b64e(token)}).encode()))
    ready = json.loads(read_frame(sock))
    assert ready["type"] == "ready", ready
    ping = masked_text(json.dumps({"type": "ping", "ref": "p" * 64}).encode())
    batch = ping * 64
    sock.setblocking(False)
    blocked, sent = 0, 0
    while blocked < BLOCKED_ROUNDS:
        assert sent < MAX_PINGS, "the relay never stopped reading a client that does not read"
        _, writable, _ = select.select([], [sock], [], 1.0)
        if not writable:
            blocked += 1
            continue
        blocked = 0
        try:
            sent += sock.send(batch) // len(ping)
        except BlockingIOError:
            continue
    # Unread data in the receive buffer: closing sends a reset, as a client that vanishes.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def connections(relay: RelayProcess) -> float:
    answer = httpx.get(f"{relay.http_url}/metrics", timeout=10)
    for line in answer.text.splitlines():
        if line.startswith(GAUGE + " "):
            return float(line.split()[1])
    raise AssertionError(f"{GAUGE} missing from /metrics")


def wait_for_no_connections(relay: RelayProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    value = connections(relay)
    while value != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        value = connections(relay)
    assert value == 0, f"{GAUGE} is {value} after the client went away"


@pytest.mark.parametrize("transport", ["relay", "asgi"])
def test_stalled_reader_disconnect_frees_connection_and_token(
    tmp_path: Path, transport: str
) -> None:
    env = {"CONFIDE_WS_TRANSPORT": transport, "CONFIDE_CONNECTIONS_PER_TOKEN": "1"}
    relay = RelayProcess(tmp_path / "relay", env=env)
    code = relay.create_org_and_enrolment_code(policy=None)
    with relay:
        device = asyncio.run(Device.enrol_at(relay.http_url, code))
        stall_and_reset(relay.port, device.token)
        wait_for_no_connections(relay)

        async def reconnect() -> None:
            async with Inbox(relay.ws_url, device):  # asserts ``ready``, not 4429
                pass

        asyncio.run(reconnect())
