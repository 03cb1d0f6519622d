"""Interoperability: the web app in a real browser and the Python SDK talk through one real
relay, both ways, text and an attachment, and agree on the safety number.

The SDK client runs on an event loop of its own in a background thread (web_support's
LoopThread), since Playwright's sync API may not run inside an event loop.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from confide_client.client import ConfideClient
from confide_client.transport.http import HttpTransport
from playwright.sync_api import expect
from web_support import (
    DESKTOP,
    LoopThread,
    OriginGuard,
    create_invite,
    enrol_worker,
    next_message,
    open_conversation,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wait_until_mailboxes_empty(data_dir: Path) -> None:
    """Wait (bounded) until the relay's SQLite database holds no queued envelope."""
    [database] = [p for p in data_dir.glob("*.db")]
    for _ in range(600):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            if conn.execute("SELECT count(*) FROM envelopes").fetchone() == (0,):
                return
        time.sleep(0.1)
    raise AssertionError("envelopes stayed queued on the relay")


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
        # The SDK's hello proves the invite it redeemed, so it opens the worker's "Jordan".
        open_conversation(worker, "Jordan")
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
        open_button = worker.get_by_role("button", name="Save intake.pdf to this device")
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


def test_web_worker_never_shows_a_message_before_consent_or_after_revocation(
    relay, browser, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    """Issue 14: a device that redeemed an invite and sent text before any valid consent,
    or after revoking it, bypassing its own gate: the web worker shows neither."""
    from confide_client import receipts
    from confide_client.consent import PolicyRef
    from confide_client.encoding import b64e
    from confide_client.errors import ConsentRequired
    from confide_client.invites import invite_proof, parse_invite

    context = browser.new_context(viewport=DESKTOP)
    worker = context.new_page()
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    link = create_invite(worker, "Jordan")
    client = ConfideClient.create(
        tmp_path / "sdk.state", "sdk passphrase", HttpTransport(relay.url), key_cost="min"
    )

    async def early_then_consent() -> str:
        with pytest.raises(ConsentRequired):
            await client.join(link, lambda _policy: False)
        [contact] = client._state.contacts.values()
        client._enqueue(contact, "text", {"text": "Sent before any consent"})
        await client.start()
        await client.flush()
        policy = await client.refresh_policy()
        ref = PolicyRef(policy.version, policy.sha256)
        receipt = receipts.consent_to(
            contact, client._state.device.identity, ref, int(client._clock()), 86400
        )
        minted = await client._transport.mint_capability()
        hello = {
            "mailbox": b64e(client._state.mailbox_id or b""),
            "capability": b64e(minted.secret),
            "device": client.device_id,
            "receipt": b64e(receipt.data),
            "signature": b64e(receipt.signature),
            "invite_proof": b64e(
                invite_proof(
                    parse_invite(link), client._state.device.identity.public, contact.identity_key
                )
            ),
        }
        client._enqueue(contact, "hello", hello)
        await client._transport.submit_consent(contact.device_id or "", "receipt", receipt)
        client.send_text(contact.contact_id, "Sent after consent")
        await client.flush()
        return contact.contact_id

    try:
        worker_id = sdk_loop.run(early_then_consent())
        # The hello proves Jordan's invite, so it is filed under that conversation.
        open_conversation(worker, "Jordan")
        expect(worker.get_by_text("Sent after consent")).to_be_visible()
        expect(worker.get_by_text("Sent before any consent")).to_have_count(0)

        async def revoke_then_write() -> None:
            await client.revoke_consent(worker_id)
            contact = client._state.contacts[worker_id]
            client._enqueue(contact, "text", {"text": "Sent after revoking"})
            client._enqueue(contact, "text", {"text": "Marker"})
            await client.flush()

        sdk_loop.run(revoke_then_write())
        expect(worker.locator("#consent-state")).to_contain_text("Consent revoked")
        # Once the worker's app has taken (and acknowledged) everything, nothing more shows.
        wait_until_mailboxes_empty(relay.process.data_dir)
        expect(worker.get_by_text("Sent after revoking")).to_have_count(0)
        expect(worker.get_by_text("Marker")).to_have_count(0)
    finally:
        sdk_loop.run(client.close())
        context.close()
