"""Issue 19 §10 as a fault on a real process: the relay's wall clock leaps eight days ahead,
runs there, and comes back; every envelope queued and accepted before is still delivered.

``confide serve`` runs under libfaketime, which offsets CLOCK_REALTIME by whatever a file
says (re-read every second) and leaves CLOCK_MONOTONIC alone: as a host whose clock was set
wrong and then corrected by an operator or NTP. The sweeper runs twice a second here, so it
has every chance to delete what the leap made look expired (the default TTL is 7 days).
tests/server/test_clock_jump.py pins both clocks in process; this checks the whole relay.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from pathlib import Path

import httpx
import pytest
from conftest import need_executable

from system.relay_process import RelayProcess
from system.wire import Device, Inbox, http_send

pytestmark = pytest.mark.slow

# Debian's faketime package: its command proves the package, its library does the work.
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
QUEUED = 40
EIGHT_DAYS = 8 * 86_400


async def _relay_wall_clock(http: httpx.AsyncClient) -> float:
    """The relay's wall clock, as its Date header gives it (to the second)."""
    answer = await http.get("/healthz")
    return email.utils.parsedate_to_datetime(answer.headers["date"]).timestamp()


async def _until_offset(http: httpx.AsyncClient, low: float, high: float) -> None:
    for _ in range(100):
        if low <= await _relay_wall_clock(http) - time.time() <= high:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the relay's clock did not move as the offset file says")


async def test_a_clock_leap_ahead_and_back_loses_no_queued_envelope(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    need_executable("faketime")
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    env = database_env | {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_CACHE_DURATION": "1",  # re-read the offset file at most once a second
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "CONFIDE_SWEEP_INTERVAL_SECONDS": "0.5",
    }
    relay = RelayProcess(tmp_path / "relay", env=env)
    code = relay.create_org_and_enrolment_code(policy=None)
    with relay:
        recipient = await Device.enrol_at(relay.http_url, code)
        async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
            await _until_offset(http, -5, 5)
            sent = {f"before-{n}": f"queued before the leap {n}".encode() for n in range(QUEUED)}
            for cmid, body in sent.items():
                await http_send(http, recipient, cmid, body)

            offset.write_text("+8d\n")
            await _until_offset(http, EIGHT_DAYS - 5, EIGHT_DAYS + 5)
            # Sends still work while the clock is wrong; their expiry is reckoned from it.
            for n in range(5):
                cmid, body = f"ahead-{n}", f"queued while ahead {n}".encode()
                await http_send(http, recipient, cmid, body)
                sent[cmid] = body
            await asyncio.sleep(3)  # six sweeps with the wall clock eight days ahead

            offset.write_text("+0\n")
            await _until_offset(http, -5, 5)
            await asyncio.sleep(2)  # four more sweeps back at the real time
            sentinel = b"sentinel after the clock came back"
            await http_send(http, recipient, "sentinel", sentinel)

        async with Inbox(relay.ws_url, recipient) as inbox:
            bodies = await inbox.receive_until(sentinel, wait=30, limit=len(sent) + 5)
    assert sorted(bodies[:-1]) == sorted(sent.values())
