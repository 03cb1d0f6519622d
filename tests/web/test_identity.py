"""Identity at the edges, in a real browser against a real relay: a device that borrows
another client's invite tag takes nothing over, and a real key change (a rejoin) stops
sending until the worker compared and confirmed; the client's page warns before it is left
(docs/protocol.md E2E §18, docs/web.md). Invites themselves: test_invites.py."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from confide_client.client import ConfideClient
from confide_client.contact import Contact
from confide_client.transport.http import HttpTransport
from playwright.sync_api import expect
from web_support import (
    PHONE,
    LoopThread,
    create_invite,
    join_client,
    open_conversation,
    open_worker_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def web_invite_tag(link: str) -> str:
    """The tag the web app used to name an invite in a hello: SHA-256 of the token, 16 bytes."""
    return hashlib.sha256(link.rsplit("#", 1)[1].encode()).digest()[:16].hex()


class BorrowedTag(ConfideClient):
    """An SDK device whose hello also names another client's invite tag."""

    borrowed = ""

    def _enqueue(self, contact: Contact, kind: str, fields: Mapping[str, object]) -> str:
        if kind == "hello":
            fields = {**fields, "invite": self.borrowed}
        return super()._enqueue(contact, kind, fields)


def send(page: Any, text: str) -> None:
    page.locator("#compose-text").fill(text)
    page.locator("#compose-text").press("Enter")


def test_a_borrowed_invite_tag_takes_nothing_over(
    relay: Any, browser: Any, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    sam_link = create_invite(worker, "Sam")
    sam = join_client(browser, guard, sam_link)
    open_conversation(worker, "Sam")
    expect(worker.locator("#consent-state")).to_contain_text("Consent given")
    spare_link = create_invite(worker, "Spare")

    # A second device redeems the spare invite but names Sam's invite in its hello.
    impostor = BorrowedTag.create(
        tmp_path / "impostor.state", "impostor", HttpTransport(relay.url), key_cost="min"
    )
    impostor.borrowed = web_invite_tag(sam_link)

    async def intrude() -> str:
        worker_id = await impostor.join(spare_link, lambda policy: True)
        await impostor.start()
        impostor.send_text(worker_id, "It is me, Sam, on my new phone")
        await impostor.flush()
        return worker_id

    sdk_loop.run(intrude())
    try:
        # The impostor is filed under the invite it redeemed, and Sam's conversation is intact.
        open_conversation(worker, "Spare")
        expect(worker.get_by_text("It is me, Sam, on my new phone")).to_be_visible()
        open_conversation(worker, "Sam")
        expect(worker.locator("#key-changed")).to_have_count(0)
        expect(worker.get_by_text("It is me, Sam")).to_have_count(0)
        expect(worker.locator("#compose-text")).to_be_enabled()
        send(worker, "Only for Sam")
        expect(sam.get_by_text("Only for Sam")).to_be_visible()
        send(sam, "Still me, on the same phone")
        expect(worker.get_by_text("Still me, on the same phone")).to_be_visible()
        expect(worker.locator('nav button[data-alias="Sam"] .badge.warn')).to_have_count(0)
        guard.assert_clean()
    finally:
        sdk_loop.run(impostor.close())
        context.close()
        sam.context.close()


def test_a_rejoin_is_a_key_change_the_worker_confirms(relay: Any, browser: Any) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    link = create_invite(worker, "Kim")
    kim = join_client(browser, guard, link)
    open_conversation(worker, "Kim")
    send(kim, "Before my phone broke")
    expect(worker.get_by_text("Before my phone broke")).to_be_visible()

    # A client who is not remembered is warned before the page is left, and may stay.
    with kim.expect_event("dialog") as warned:
        kim.evaluate("setTimeout(() => location.reload(), 0)")
    assert warned.value.type == "beforeunload"
    warned.value.dismiss()
    expect(kim.get_by_text("Before my phone broke")).to_be_visible()

    # The worker makes a rejoin invite for Kim; it can be shown again, as a link and a QR.
    worker.get_by_role("button", name="Invite Kim to rejoin").click()
    rejoin = worker.locator("#invite-link")
    expect(rejoin).to_contain_text("/join#")
    rejoin_link = str(rejoin.inner_text()).strip()
    expect(worker.get_by_role("img", name="Invite link as a QR code")).to_be_visible()

    # Kim's new browser pastes the link into a tab that already shows /join.
    new_kim_ctx = browser.new_context(viewport=PHONE)
    new_kim = new_kim_ctx.new_page()
    guard.watch(new_kim)
    new_kim.goto(relay.url + "/join")
    expect(new_kim.get_by_role("heading", name="Nothing here")).to_be_visible()
    new_kim.goto(rejoin_link)
    expect(new_kim.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    assert "#" not in new_kim.url, "the invite secret must leave the address bar"
    new_kim.get_by_role("button", name="I agree").click()
    expect(new_kim.get_by_role("heading", name="Your conversation")).to_be_visible()
    send(new_kim, "Hello from my new phone")

    # The same conversation shows where the key changed; sending stops; the old key still talks.
    open_conversation(worker, "Kim")
    expect(worker.locator("#key-changed")).to_be_visible()
    expect(worker.locator(".message.system", has_text="new security key")).to_be_visible()
    expect(worker.locator("#compose-text")).to_be_disabled()
    expect(worker.get_by_text("Hello from my new phone")).to_have_count(0)
    send(kim, "Old phone, still here")
    expect(worker.get_by_text("Old phone, still here")).to_be_visible()

    # Comparing the new safety number and confirming it moves the conversation to the new key.
    worker.locator("#open-safety").click()
    new_kim.locator("#open-safety").click()
    expect(worker.locator("#safety-changed")).to_be_visible()
    digits = worker.locator("#safety-digits").inner_text()
    assert new_kim.locator("#safety-digits").inner_text() == digits
    worker.get_by_role("button", name=re.compile("confirm the new key")).click()
    worker.get_by_role("button", name="Back to the conversation").click()
    new_kim.get_by_role("button", name="Back to the conversation").click()
    expect(worker.locator("#key-changed")).to_have_count(0)
    expect(worker.get_by_text("Hello from my new phone")).to_be_visible()
    expect(worker.get_by_text("Before my phone broke")).to_be_visible()
    expect(worker.locator("#consent-state")).to_contain_text("Consent given")
    expect(worker.locator(".message.system", has_text="Consent given")).to_have_count(2)
    send(worker, "Welcome back, Kim")
    expect(new_kim.get_by_text("Welcome back, Kim")).to_be_visible()
    # The old device's capability for the worker's mailbox was revoked: the relay refuses it.
    send(kim, "Old phone, after the confirmation")
    expect(kim.locator('.message.mine[data-state="failed"]')).to_have_count(1)
    assert worker.locator('nav button[data-alias="Kim"]').count() == 1
    guard.assert_clean()
    context.close()
    kim.context.close()
    new_kim_ctx.close()
