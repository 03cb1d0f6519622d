"""Uploads and downloads of large attachments run in bounded memory in a real relay process.

Seen in issue 19: six concurrent 25 MiB uploads took the relay from 200 to 790 MB of resident
memory (552 MB afterwards), because each upload was held whole, joined, and handed to the
driver. The relay now streams a blob to the database in pieces and back out the same way.
The figure checked is the process's resident memory (psutil), never a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from confide_crypto.encoding import b64encode as b64e

from .relay_process import RelayProcess
from .wire import Device

MIB = 1024 * 1024
BLOB_MIB = 25
UPLOADS = 6
# Six blobs are 150 MiB; held in memory they cost several times that. Streamed, the relay
# holds a piece or two of each upload at a time.
GROWTH_BOUND = 80 * MIB


def piece(index: int) -> bytes:
    return hashlib.sha256(index.to_bytes(4, "big")).digest() * (MIB // 32)


def digest_of_blob() -> str:
    hasher = hashlib.sha256()
    for index in range(BLOB_MIB):
        hasher.update(piece(index))
    return hasher.hexdigest()


async def blob_body() -> AsyncIterator[bytes]:
    for index in range(BLOB_MIB):
        yield piece(index)
        await asyncio.sleep(0)


@contextmanager
def peak_rss(pid: int) -> Iterator[list[int]]:
    """Sample the process's resident memory every 20 ms (bounded) while the block runs."""
    process = psutil.Process(pid)
    samples = [process.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        for _ in range(30_000):
            if done.wait(0.02):
                return
            samples.append(process.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        done.set()
        thread.join(timeout=5)


async def upload(http: httpx.AsyncClient, device: Device) -> str:
    answer = await http.post(
        "/v1/attachments",
        headers={
            "Authorization": f"Bearer {b64e(device.token)}",
            "Content-Length": str(BLOB_MIB * MIB),
        },
        content=blob_body(),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["attachment_id"])


async def download_digest(http: httpx.AsyncClient, device: Device, blob_id: str) -> str:
    hasher = hashlib.sha256()
    async with http.stream(
        "GET",
        f"/v1/attachments/{blob_id}",
        headers={"Authorization": f"Bearer {b64e(device.token)}"},
    ) as answer:
        assert answer.status_code == 200
        async for chunk in answer.aiter_bytes():
            hasher.update(chunk)
    return hasher.hexdigest()


# 150 MiB through a real relay process on each database: 20 to 30 s, so not in `make check`.
@pytest.mark.slow
def test_six_concurrent_25_mib_uploads_stay_in_bounded_memory(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    env = {
        **database_env,
        "CONFIDE_ATTACHMENT_UPLOADS_IN_FLIGHT": str(UPLOADS),
        "CONFIDE_ATTACHMENT_BYTES_PER_DAY": str(UPLOADS * 2 * BLOB_MIB * MIB),
    }
    with RelayProcess(tmp_path / "relay", env=env) as relay:
        code = relay.create_org_and_enrolment_code(policy=None)
        assert relay.process is not None

        async def scenario() -> tuple[list[int], list[int], list[str], list[str]]:
            async with httpx.AsyncClient(base_url=relay.http_url, timeout=120) as http:
                device = await Device.enrol(http, code)
                # Warm the code paths once, so the baseline includes them.
                await download_digest(http, device, await upload(http, device))
                with peak_rss(relay.process.pid) as up_samples:
                    ids = await asyncio.gather(*(upload(http, device) for _ in range(UPLOADS)))
                with peak_rss(relay.process.pid) as down_samples:
                    digests = await asyncio.gather(
                        *(download_digest(http, device, blob_id) for blob_id in ids)
                    )
            return up_samples, down_samples, list(ids), list(digests)

        up, down, ids, digests = asyncio.run(scenario())
    # Shown with pytest -s; docs/operations.md quotes it.
    print(
        f"RSS growth: uploads {(max(up) - up[0]) / MIB:.0f} MiB,"
        f" downloads {(max(down) - down[0]) / MIB:.0f} MiB;"
        f" baseline {up[0] / MIB:.0f} MiB, after {up[-1] / MIB:.0f} MiB"
    )
    assert len(set(ids)) == UPLOADS
    assert digests == [digest_of_blob()] * UPLOADS
    assert max(up) - up[0] < GROWTH_BOUND, f"uploads grew RSS by {(max(up) - up[0]) // MIB} MiB"
    assert max(down) - down[0] < GROWTH_BOUND, (
        f"downloads grew RSS by {(max(down) - down[0]) // MIB} MiB"
    )
