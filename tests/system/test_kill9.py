"""An envelope answered "accepted" survives a SIGKILL of the relay and arrives exactly once.

A sender streams envelopes over a WebSocket with many in flight; once a few hundred have been
accepted the relay is killed with SIGKILL mid-stream and restarted on the same database. The
sender then retries, with the same client message ids, everything it never saw accepted and a
sample of what it did (as a client that lost its answers would). The recipient must get every
envelope it was sent exactly once: each accepted one, and no duplicate of any.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from system.relay_process import RelayProcess
from system.wire import Device, Inbox, http_send, send_frame

pytestmark = pytest.mark.slow

MARKER = b"KILL9-PAYLOAD-MARKER"
KILL_AFTER_ACCEPTED = 300
MAX_MESSAGES = 20_000
IN_FLIGHT = 64


def body_for(client_message_id: str) -> bytes:
    return MARKER + b":" + client_message_id.encode() + b":" + b"\x5a" * 1000


class Stream:
    """Sends envelopes over one WebSocket as fast as the relay answers, until it drops."""

    def __init__(self, ws_url: str, device: Device) -> None:
        self.ws_url = ws_url
        self.device = device
        self.sent: dict[str, bytes] = {}
        self.accepted: set[str] = set()
        self.enough = asyncio.Event()

    async def run(self) -> None:
        slots = asyncio.Semaphore(IN_FLIGHT)
        try:
            async with connect(self.ws_url, compression=None, open_timeout=10) as socket:
                reader = asyncio.create_task(self._read(socket, slots))
                try:
                    for i in range(MAX_MESSAGES):
                        await slots.acquire()
                        cmid = f"m{i:05d}"
                        self.sent[cmid] = body_for(cmid)
                        await socket.send(send_frame(self.device, cmid, self.sent[cmid], ref=cmid))
                finally:
                    await asyncio.wait_for(asyncio.shield(reader), timeout=30)
        except (ConnectionClosed, OSError):
            return

    async def _read(self, socket: ClientConnection, slots: asyncio.Semaphore) -> None:
        try:
            async for message in socket:
                frame = json.loads(message)
                assert frame["type"] == "accepted", frame
                self.accepted.add(frame["ref"])
                slots.release()
                if len(self.accepted) >= KILL_AFTER_ACCEPTED:
                    self.enough.set()
        except ConnectionClosed:
            pass
        finally:
            # Unblock the writer so that it notices the closed socket.
            for _ in range(IN_FLIGHT):
                slots.release()


async def test_accepted_envelopes_survive_sigkill_exactly_once(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    relay = RelayProcess(tmp_path / "relay", env=database_env)
    code = relay.create_org_and_enrolment_code(policy=None)
    relay.start()
    try:
        relay.wait_ready()
        recipient = await Device.enrol_at(relay.http_url, code)
        stream = Stream(relay.ws_url, recipient)
        sending = asyncio.create_task(stream.run())
        await asyncio.wait_for(stream.enough.wait(), timeout=120)
        relay.kill9()
        await asyncio.wait_for(sending, timeout=60)
        assert len(stream.accepted) >= KILL_AFTER_ACCEPTED
        assert stream.accepted <= set(stream.sent)

        relay.start()
        relay.wait_ready()
        async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
            unanswered = sorted(set(stream.sent) - stream.accepted)
            retried = sorted(stream.accepted)[:20]
            for cmid in unanswered + retried:
                result = await http_send(http, recipient, cmid, stream.sent[cmid])
                if cmid in stream.accepted:
                    assert result["duplicate"] is True, cmid
            sentinel = b"sentinel after the restart"
            await http_send(http, recipient, "sentinel", sentinel)

        async with Inbox(relay.ws_url, recipient) as inbox:
            bodies = await inbox.receive_until(sentinel, wait=30, limit=len(stream.sent) + 50)

        counts = Counter(bodies)
        duplicated = {body[:40] for body, n in counts.items() if n > 1}
        assert not duplicated, f"delivered more than once: {sorted(duplicated)[:5]}"
        delivered = set(bodies) - {sentinel}
        missing = {c for c in stream.accepted if stream.sent[c] not in delivered}
        assert not missing, f"accepted but lost: {sorted(missing)[:10]}"
        assert delivered == set(stream.sent.values())
        print(f"sent {len(stream.sent)}, accepted before the kill {len(stream.accepted)}")
    finally:
        relay.stop()
