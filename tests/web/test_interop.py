"""Interoperability: the web app in a real browser and the Python SDK talk through one real
relay, both ways, text and an attachment, and agree on the safety number.

The SDK is asynchronous and Playwright's sync API may not run inside an event loop, so the
SDK client runs on an event loop of its own in a background thread.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from confide_client.client import ConfideClient
from confide_client.messages import Message
from confide_client.transport.http import HttpTransport
from playwright.sync_api import expect
from web_support import DESKTOP, OriginGuard, create_invite, enrol_worker, open_conversation

pytestmark = [pytest.mark.browser, pytest.mark.slow]

T = TypeVar("T")
STEP_TIMEOUT = 60


class LoopThread:
    """An asyncio loop on its own thread; `run` waits for one coroutine's result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(STEP_TIMEOUT)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(STEP_TIMEOUT)
        self.loop.close()


@pytest.fixture
def sdk_loop() -> Iterator[LoopThread]:
    runner = LoopThread()
    try:
        yield runner
    finally:
        runner.close()


async def next_message(client: ConfideClient) -> Message:
    while True:
        event = await client.next_event()
        if isinstance(event, Message):
            return event


def test_web_worker_and_sdk_client(relay, browser, sdk_loop: LoopThread, tmp_path: Path) -> None:
    context = browser.new_context(viewport=DESKTOP)
    worker = context.new_page()
    guard = OriginGuard(relay.url, worker)
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    link = create_invite(worker, "Jordan")

    transport = HttpTransport(relay.url)
    client = ConfideClient.create(
        tmp_path / "sdk.state", "sdk passphrase", transport, key_cost="min"
    )

    async def join() -> str:
        worker_id = await client.join(link, lambda policy: "confidentiality" in policy.text)
        await client.start()
        client.send_text(worker_id, "Hello from the Python SDK")
        await client.flush()
        return worker_id

    worker_id = sdk_loop.run(join())
    try:
        # An SDK hello names no invite tag, so the web app files it under its key.
        open_conversation(worker, "New contact")
        expect(worker.get_by_text("Hello from the Python SDK")).to_be_visible()
        expect(worker.locator("#consent-state")).to_contain_text("Consent given")

        worker.locator("#compose-text").fill("Hello from the browser")
        worker.locator("#compose-text").press("Enter")
        got = sdk_loop.run(next_message(client))
        assert got.text == "Hello from the browser"

        async def send_file() -> None:
            await client.send_attachment(worker_id, b"%PDF-1.4 intake\n", name="intake.pdf")
            await client.flush()

        sdk_loop.run(send_file())
        open_button = worker.get_by_role("button", name="Open intake.pdf")
        expect(open_button).to_be_visible()
        with worker.expect_download() as download:
            open_button.click()
        assert Path(download.value.path()).read_bytes() == b"%PDF-1.4 intake\n"

        worker.locator("#open-safety").click()
        digits = worker.locator("#safety-digits").inner_text()
        assert re.fullmatch(r"(\d{5} ){11}\d{5}", digits)
        assert client.safety_number(worker_id) == digits
        guard.assert_clean()
    finally:
        sdk_loop.run(client.close())
        context.close()
