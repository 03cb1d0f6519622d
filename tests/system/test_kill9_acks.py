"""A confirmed acknowledgement survives a SIGKILL: what was acked is never delivered again.

The recipient reads a full queue over a WebSocket and acknowledges each envelope with a
``ref``; the relay answers ``acked`` once the deletion is durable. Midway the relay is
killed with SIGKILL and restarted on the same database. After reconnecting, the recipient
must get every envelope whose acknowledgement was not confirmed, and none whose was: the
only possible repeats are envelopes it had received but whose ack was still in flight, which
a client recognises by its message id.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from system.relay_process import RelayProcess
from system.wire import Device, Inbox, b64d, b64e, http_send

pytestmark = pytest.mark.slow

QUEUED = 400
KILL_AFTER_CONFIRMED = 150


class AckingReader:
    """Reads envelopes and acks each with its id as ``ref``, recording what was confirmed."""

    def __init__(self) -> None:
        self.delivered: list[bytes] = []
        self.bodies: dict[bytes, bytes] = {}
        self.confirmed: set[bytes] = set()
        self.enough = asyncio.Event()

    async def run(self, ws_url: str, device: Device) -> None:
        try:
            async with connect(ws_url, compression=None, open_timeout=10) as socket:
                await socket.send(json.dumps({"type": "auth", "token": b64e(device.token)}))
                async for message in socket:
                    frame = json.loads(message)
                    if frame["type"] == "envelope":
                        envelope_id = frame["id"].encode()
                        self.delivered.append(envelope_id)
                        self.bodies[envelope_id] = b64d(frame["body"])
                        ack = {"type": "ack", "ref": frame["id"], "ids": [frame["id"]]}
                        await socket.send(json.dumps(ack))
                    elif frame["type"] == "acked":
                        self.confirmed.add(str(frame["ref"]).encode())
                        if len(self.confirmed) >= KILL_AFTER_CONFIRMED:
                            self.enough.set()
                    else:
                        assert frame["type"] == "ready", frame
        except (ConnectionClosed, OSError):
            return


async def test_confirmed_acks_survive_sigkill(tmp_path: Path, database_env: dict[str, str]) -> None:
    relay = RelayProcess(tmp_path / "relay", env=database_env)
    code = relay.create_org_and_enrolment_code(policy=None)
    relay.start()
    try:
        relay.wait_ready()
        async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
            device = await Device.enrol(http, code)
            sent = [f"queued {i:04d}".encode() for i in range(QUEUED)]
            for start in range(0, QUEUED, 50):
                await asyncio.gather(
                    *(http_send(http, device, f"q{i}", sent[i]) for i in range(start, start + 50))
                )

        reader = AckingReader()
        reading = asyncio.create_task(reader.run(relay.ws_url, device))
        await asyncio.wait_for(reader.enough.wait(), timeout=120)
        relay.kill9()
        await asyncio.wait_for(reading, timeout=60)
        assert reader.confirmed <= set(reader.delivered)

        relay.start()
        relay.wait_ready()
        async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
            await http_send(http, device, "sentinel", b"sentinel")
        async with Inbox(relay.ws_url, device) as inbox:
            after = await inbox.receive_until(b"sentinel", wait=30, limit=QUEUED + 10)
    finally:
        relay.stop()

    before = [reader.bodies[i] for i in reader.delivered]
    confirmed = {reader.bodies[i] for i in reader.confirmed}
    again = set(after) & set(before)
    print(f"delivered {len(before)}, confirmed {len(confirmed)}, delivered again {len(again)}")
    assert not again & confirmed, "an envelope whose ack was confirmed came back"
    assert again <= set(before) - confirmed
    assert max(Counter(after).values()) == 1
    assert (set(before) | set(after)) - {b"sentinel"} == set(sent), "an envelope was lost"
