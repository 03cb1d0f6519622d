"""After a run, neither the relay's database nor its logs hold a client address or a payload.

The relay listens on 127.0.0.2 while every client connects from 127.0.0.1, so the string
"127.0.0.1" can only reach the logs or the database as a client's address, never as the
relay's own; HTTP requests also carry an X-Forwarded-For address, as behind Caddy. The
envelopes carry a marker; once they are delivered and acknowledged, the marker must be gone
from the database files (secure_delete overwrites deleted rows) and must never have been
logged. Error paths are exercised too, since errors are where addresses and
request bodies tend to leak into logs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import httpx
import pytest
from conftest import need_executable
from websockets.asyncio.client import connect

from system.relay_process import RelayProcess
from system.wire import Device, Inbox, b64e, http_send, send_frame

pytestmark = pytest.mark.slow

CLIENT_ADDRESS = b"127.0.0.1"
# HTTP requests claim to come through a proxy (127.0.0.1 is a trusted proxy by default), so
# the relay takes this as the client's address for its in-memory rate limits.
FORWARDED_ADDRESS = b"203.0.113.77"
RELAY_ADDRESS = "127.0.0.2"
MARKER = b"NO-TRACE-PAYLOAD-MARKER"
COUNT = 60


def body(i: int) -> bytes:
    return MARKER + f":{i:04d}:".encode() + b"\x33" * 700


async def send_all(relay: RelayProcess, code: str) -> Device:
    """Registration, sends over HTTP and WebSocket, and bad requests of several kinds."""
    headers = {"X-Forwarded-For": FORWARDED_ADDRESS.decode()}
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=30, headers=headers) as http:
        device = await Device.enrol(http, code)
        for i in range(COUNT // 2):
            await http_send(http, device, f"http-{i}", body(i))
        mailbox = b64e(device.mailbox_id)
        bad_requests = [
            http.post(f"/v1/mailboxes/{mailbox}/messages", content=b"{not json"),
            http.post(
                f"/v1/mailboxes/{mailbox}/messages",
                json={"capability": b64e(b"\0" * 32), "client_message_id": "x", "body": "AA"},
            ),
            http.get(f"/v1/mailboxes/{mailbox}/messages"),
            http.get("/v1/no-such-thing"),
            http.post("/v1/devices/enrol", json={"enrolment_code": "!!"}),
        ]
        for answer in await asyncio.gather(*bad_requests):
            assert 400 <= answer.status_code < 500, answer.text

    async with connect(relay.ws_url, compression=None) as socket:
        for i in range(COUNT // 2, COUNT):
            await socket.send(send_frame(device, f"ws-{i}", body(i), ref=i))
        answers = [json.loads(await socket.recv()) for _ in range(COUNT - COUNT // 2)]
        assert {a["type"] for a in answers} == {"accepted"}
        await socket.send("this is not json")
        assert json.loads(await socket.recv())["type"] == "error"
    return device


async def deliver_all(relay: RelayProcess, device: Device) -> None:
    async with Inbox(relay.ws_url, device) as inbox:
        bodies = [(await inbox.next_envelope(30))[1] for _ in range(COUNT)]
    assert sorted(bodies) == sorted(body(i) for i in range(COUNT))


def holds(data: bytes, needle: bytes) -> bool:
    """Whether ``needle`` is in ``data`` as raw bytes or as hex (pg_dump's bytea form)."""
    return needle in data or needle.hex().encode() in data


def database_bytes(relay: RelayProcess, env: dict[str, str], workdir: Path) -> dict[str, bytes]:
    """The database as stored: SQLite's files, or a plain pg_dump of PostgreSQL."""
    url = env.get("CONFIDE_DATABASE_URL")
    if url is None:
        files = sorted(relay.data_dir.glob("confide.db*"))
        assert files, "the SQLite database should exist"
        return {f.name: f.read_bytes() for f in files}
    pg_dump = need_executable("pg_dump")
    dump = workdir / "dump.sql"
    subprocess.run(
        [pg_dump, "--data-only", f"--file={dump}", url.replace("+asyncpg", "")],
        check=True,
        timeout=120,
    )
    return {"pg_dump": dump.read_bytes()}


async def test_no_client_address_or_payload_is_left_behind(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    relay = RelayProcess(tmp_path / "relay", env=database_env, host=RELAY_ADDRESS)
    code = relay.create_org_and_enrolment_code(policy=None)
    with relay:
        device = await send_all(relay, code)
        # While queued, the envelopes are in the database: this shows the scan below can see.
        queued = database_bytes(relay, database_env, tmp_path)
        assert any(holds(data, MARKER) for data in queued.values())
        await deliver_all(relay, device)
        # Acknowledgements are written in the background; the graceful stop flushes them.

    logs = relay.logs().encode()
    assert RELAY_ADDRESS.encode() in logs, "the relay's own address is logged at start-up"
    assert CLIENT_ADDRESS not in logs, "a client address reached the logs"
    assert FORWARDED_ADDRESS not in logs, "a forwarded client address reached the logs"
    assert MARKER not in logs, "envelope content reached the logs"

    for name, data in database_bytes(relay, database_env, tmp_path).items():
        assert not holds(data, CLIENT_ADDRESS), f"a client address is stored in {name}"
        assert not holds(data, FORWARDED_ADDRESS), f"a forwarded address is stored in {name}"
        assert not holds(data, MARKER), f"a delivered envelope lingers in {name}"
