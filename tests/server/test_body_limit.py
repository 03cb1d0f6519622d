"""Bodies over the limit get 413 problem+json over a real socket, with or without a length.

A chunked body has no Content-Length, so the relay can only count it as it arrives; it must
still answer 413 (not the 400 a failed body parse gives) and stop reading.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from confide_server.app import create_app

from .conftest import LiveServer, SettingsFactory
from .helpers import enrol

CHUNK = b"x" * 1024
MAX_CHUNKS = 256  # bounded: the relay must answer long before this


async def exchange(
    port: int, path: str, *, chunked: bool, size: int, auth: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """Send one POST of ``size`` bytes; return (status, headers, body) of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
            f"{auth}{framing}\r\n\r\n".encode()
        )
        response = asyncio.ensure_future(reader.read(65536 * 4))
        sent = 0
        while sent < size and not response.done():
            piece = CHUNK[: size - sent]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
            try:
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0)
        if chunked and not response.done():
            writer.write(b"0\r\n\r\n")
        raw = await asyncio.wait_for(response, 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("path", ["/v1/auth/token", "/v1/attachments"])
async def test_an_oversized_body_gets_413(
    sqlite_url: str, make_settings: SettingsFactory, chunked: bool, path: str
) -> None:
    settings = make_settings(
        sqlite_url, max_http_body_bytes=1024, max_envelope_bytes=64, max_attachment_bytes=4096
    )
    limit = 4096 if path == "/v1/attachments" else settings.max_frame_bytes
    async with LiveServer(create_app(settings), settings.max_frame_bytes) as live:
        async with httpx.AsyncClient(base_url=live.http) as client:
            worker = await enrol(client, live.app.state.relay)
        status, headers, body = await exchange(
            live.port,
            path,
            chunked=chunked,
            size=min(limit * 4, MAX_CHUNKS * len(CHUNK)),
            auth=f"Authorization: Bearer {worker.token}\r\n",
        )
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body[: int(headers["content-length"])])
    assert problem["type"].endswith("/too-large")
    assert problem["status"] == 413


async def test_a_body_under_the_limit_still_reaches_the_route(
    sqlite_url: str, make_settings: SettingsFactory
) -> None:
    settings = make_settings(sqlite_url, max_http_body_bytes=1024, max_envelope_bytes=64)
    async with LiveServer(create_app(settings), settings.max_frame_bytes) as live:
        status, headers, _ = await exchange(live.port, "/v1/auth/token", chunked=True, size=2048)
    # Not JSON, so the route refuses it: the limit did not interfere.
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
