"""A full disk, then drained (issue 19 item 9): the relay recovers by itself, and says so.

The relay's data directory is a small tmpfs. Sends fill it until the relay refuses them with
503; while it is full, /readyz says so and /metrics reports storage as not writable. The
recipient then drains its queue (acks that fail are redelivered and acked again), and once
there is space again, sends and acks work, /readyz answers 200 and the metric is back to 1,
without a restart. Every envelope accepted before the disk filled is delivered.

Two ways: with a reserve (``CONFIDE_DISK_RESERVE_BYTES``), sends stop before the disk is
full and the drained queue's free pages are room again; without one, the disk fills to the
last byte (SQLite's "database or disk is full"), and room comes back when the operator
deletes a file.

Mounting a tmpfs needs root (CAP_SYS_ADMIN): on a machine where that is refused the test is
skipped with the reason; no service is missing, the machine cannot make a small disk.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from system.relay_process import RelayProcess
from system.wire import Device, b64d, b64e

pytestmark = pytest.mark.slow

DISK = "12m"
BODY = 48 * 1024
MAX_SENDS = 2000  # 12 MiB holds far fewer than this many 48 KiB envelopes


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


async def _send(http: httpx.AsyncClient, device: Device, cmid: str) -> httpx.Response:
    return await http.post(
        f"/v1/mailboxes/{b64e(device.mailbox_id)}/messages",
        json={
            "capability": b64e(device.capability),
            "client_message_id": cmid,
            "body": b64e(cmid.encode().ljust(BODY, b"\x5a")),
        },
    )


async def _drain(ws_url: str, device: Device) -> tuple[set[str], int]:
    """One connection's worth of reading: ack every envelope; (bodies' ids, acks failed)."""
    seen: set[str] = set()
    failed = 0
    try:
        async with connect(ws_url, compression=None, open_timeout=10, max_size=None) as socket:
            await socket.send(json.dumps({"type": "auth", "token": b64e(device.token)}))
            while True:
                try:
                    message = await asyncio.wait_for(socket.recv(), timeout=3)
                except TimeoutError:
                    return seen, failed
                frame = json.loads(message)
                if frame["type"] == "envelope":
                    seen.add(b64d(frame["body"]).rstrip(b"\x5a").decode())
                    ack = {"type": "ack", "ref": frame["id"], "ids": [frame["id"]]}
                    await socket.send(json.dumps(ack))
                elif frame["type"] == "error":
                    failed += 1
    except (ConnectionClosed, OSError):
        return seen, failed + 1


def _storage_metric(relay: RelayProcess) -> str:
    answer = httpx.get(f"{relay.http_url}/metrics", timeout=10)
    lines = [line for line in answer.text.splitlines() if line.startswith("confide_storage_")]
    return "\n".join(lines)


@pytest.mark.parametrize("reserve", [2 * 1024 * 1024, 0], ids=["reserve", "no-reserve"])
async def test_a_full_disk_refuses_sends_then_recovers_by_itself(
    tmp_path: Path, small_disk: Path, reserve: int
) -> None:
    # Only the database is on the small disk; the relay's logs are not.
    env = {
        "CONFIDE_DATA_DIR": str(small_disk / "data"),
        "CONFIDE_MAX_ENVELOPE_BYTES": str(BODY),
        "CONFIDE_DISK_RESERVE_BYTES": str(reserve),
    }
    filler = small_disk / "filler"  # what the operator deletes in the second way
    filler.write_bytes(b"\0" * (6 * 1024 * 1024 if reserve == 0 else 0))
    relay = RelayProcess(tmp_path / "relay", env=env)
    code = relay.create_org_and_enrolment_code(policy=None)
    with relay:
        async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
            device = await Device.enrol(http, code)
            accepted: list[str] = []
            refusal: httpx.Response | None = None
            for i in range(MAX_SENDS):
                answer = await _send(http, device, f"m{i:05d}")
                if answer.status_code != 202:
                    refusal = answer
                    break
                accepted.append(f"m{i:05d}")
            assert refusal is not None, "the disk never filled"
            assert refusal.status_code == 503, refusal.text
            assert refusal.headers["content-type"] == "application/problem+json"
            assert accepted

            # While full: readiness and the metric tell the truth.
            ready = await http.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["storage"] is False
            assert "confide_storage_writable 0.0" in _storage_metric(relay)

            if reserve == 0:
                filler.unlink()  # the operator makes room

            # The recipient drains its queue; acks refused while the disk is full leave their
            # envelopes queued, to be delivered and acked again on the next connection.
            delivered: set[str] = set()
            for _ in range(25):
                seen, _failed = await _drain(relay.ws_url, device)
                delivered |= seen
                if not seen:
                    break
            assert not seen, "the queue never drained"
            assert delivered >= set(accepted)

            # Space again: sends, acks and readiness work, with no restart.
            answer = None
            for attempt in range(50):
                answer = await _send(http, device, f"after{attempt}")
                if answer.status_code == 202:
                    break
                await asyncio.sleep(0.2)
            assert answer is not None and answer.status_code == 202, answer.text if answer else ""
            seen, failed = await _drain(relay.ws_url, device)
            assert seen == {f"after{attempt}"} and failed == 0
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert "confide_storage_writable 1.0" in _storage_metric(relay)
        log = relay.logs()
        assert "the database's disk is full" in log
        assert "has room again" in log
