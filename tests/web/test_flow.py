"""The whole journey in a real browser against a real relay: a worker enrols, invites a
client, the client consents, they talk both ways with an attachment, compare safety
numbers, the worker reloads and unlocks, the client's closed tab keeps nothing, and a
revocation stops the worker's sends. Each screen is photographed for people to look at."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from web_support import (
    DESKTOP,
    PASSPHRASE,
    PHONE,
    POLICY,
    UNLABELLED,
    OriginGuard,
    create_invite,
    enrol_worker,
    open_conversation,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.n = 10

    def __call__(self, page: Any, name: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.folder / f"{self.n:02d}-{name}.png"), full_page=True)


class SendFrames:
    """Watches a page's WebSocket for its send frames: which mailbox and capability it used.

    Those two are what the relay sees of every send anyway; the test reuses them to show the
    relay refuses a revoked capability."""

    def __init__(self, page: Any) -> None:
        self.targets: list[tuple[str, str]] = []
        page.on("websocket", self._socket)

    def _socket(self, socket: Any) -> None:
        socket.on("framesent", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        frame = json.loads(payload)
        if frame.get("type") == "send":
            self.targets.append((frame["mailbox_id"], frame["capability"]))

    def last_target(self) -> tuple[str, str]:
        assert self.targets, "the page sent nothing over its WebSocket"
        return self.targets[-1]


def test_worker_and_client_journey(relay, browser, screenshots: Path) -> None:
    shot = Shots(screenshots)
    worker_ctx = browser.new_context(viewport=DESKTOP)
    worker = worker_ctx.new_page()
    guard = OriginGuard(relay.url, worker)
    sends = SendFrames(worker)
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    shot(worker, "worker-home")

    link = create_invite(worker, "Sam")
    assert link.startswith(relay.url + "/join#")
    expect(worker.get_by_role("img", name="Invite link as a QR code")).to_be_visible()
    shot(worker, "worker-invite-qr")

    # Before consent the worker cannot write: no capability, no session, sending disabled.
    worker.get_by_role("button", name="Open the conversation").click()
    expect(worker.locator("#compose-text")).to_be_disabled()

    client_ctx = browser.new_context(viewport=PHONE)
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(link)
    expect(client.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    assert "#" not in client.url, "the invite secret must leave the address bar"
    expect(client.locator("#policy-text")).to_contain_text("Limits of confidentiality")
    expect(client.get_by_label(re.compile("Remember this device"))).not_to_be_checked()
    assert client.title() == "Notes"
    assert client.evaluate(UNLABELLED) == []
    shot(client, "client-policy-consent")
    expect(worker.locator("#compose-text")).to_be_disabled()

    client.get_by_role("button", name="I agree").click()
    expect(client.get_by_role("heading", name="Your conversation")).to_be_visible()
    expect(worker.locator("#consent-state")).to_contain_text("Consent given", timeout=30_000)
    expect(worker.locator("#compose-text")).to_be_enabled()
    shot(client, "client-conversation-empty")

    # A conversation both ways, with delivery state.
    worker.locator("#compose-text").fill("Hi Sam, this is Alex from Riverside.")
    worker.get_by_role("button", name="Send", exact=True).click()
    expect(client.get_by_text("Hi Sam, this is Alex from Riverside.")).to_be_visible()
    expect(worker.locator('.message.mine[data-state="delivered"]')).to_have_count(1)
    client.locator("#compose-text").fill("Hello Alex, thanks for reaching out.")
    client.locator("#compose-text").press("Enter")
    expect(worker.get_by_text("Hello Alex, thanks for reaching out.")).to_be_visible()
    expect(client.locator('.message.mine[data-state="delivered"]')).to_have_count(1)

    # An attachment from the client, saved by the worker after its digest checks out.
    client.locator("#compose-file").set_input_files(
        files=[{"name": "plan.txt", "mimeType": "text/plain", "buffer": b"my safety plan\n"}]
    )
    open_button = worker.get_by_role("button", name="Save plan.txt to this device")
    expect(open_button).to_be_visible()
    with worker.expect_download() as download_info:
        open_button.click()
    assert Path(download_info.value.path()).read_bytes() == b"my safety plan\n"
    assert worker.evaluate(UNLABELLED) == []
    assert client.evaluate(UNLABELLED) == []
    shot(worker, "worker-conversation")
    shot(client, "client-conversation")
    worker.set_viewport_size(PHONE)
    shot(worker, "worker-conversation-phone")
    worker.set_viewport_size(DESKTOP)

    # A disappearing timer chosen by the worker applies to both sides' new messages.
    worker.get_by_label("Disappearing messages").select_option("3600")
    expect(client.get_by_label("Disappearing messages")).to_have_value("3600")
    worker.locator("#compose-text").fill("This one disappears in an hour.")
    worker.locator("#compose-text").press("Enter")
    expect(client.get_by_text("This one disappears in an hour.")).to_be_visible()
    fading = client.locator(".message", has_text="disappears in an hour")
    expect(fading.locator(".meta")).to_contain_text("disappears")

    # Safety numbers: the same sixty digits on both screens.
    worker.locator("#open-safety").click()
    client.locator("#open-safety").click()
    worker_digits = worker.locator("#safety-digits").inner_text()
    assert re.fullmatch(r"(\d{5} ){11}\d{5}", worker_digits)
    assert client.locator("#safety-digits").inner_text() == worker_digits
    shot(worker, "worker-safety-number")
    worker.get_by_role("button", name=re.compile("mark as verified")).click()
    expect(worker.locator("#verified-state")).to_be_visible()
    worker.get_by_role("button", name="Back to the conversation").click()
    client.get_by_role("button", name="Back to the conversation").click()

    # The worker's reload locks the app; the passphrase brings the history back.
    worker.reload()
    expect(worker.get_by_role("heading", name="Confide is locked")).to_be_visible()
    shot(worker, "worker-locked")
    worker.get_by_label("Passphrase").fill(PASSPHRASE)
    worker.get_by_role("button", name="Unlock").click()
    open_conversation(worker, "Sam")
    expect(worker.get_by_text("Hello Alex, thanks for reaching out.")).to_be_visible()
    expect(worker.get_by_role("button", name=re.compile("Verified"))).to_be_visible()

    # Revocation: the client withdraws, the worker's sending stops.
    client.get_by_role("button", name="Your consent").click()
    shot(client, "client-consent-review")
    client.get_by_label("Yes, I want to withdraw").check()
    client.get_by_role("button", name="Withdraw my consent").click()
    expect(client.locator("#compose-text")).to_be_disabled()
    expect(worker.locator("#consent-state")).to_contain_text("Consent revoked", timeout=30_000)
    expect(worker.locator("#compose-text")).to_be_disabled()
    shot(worker, "worker-consent-revoked")
    # And the relay itself now refuses the capability the worker used to write to Sam.
    mailbox, capability = sends.last_target()
    refused = httpx.post(
        f"{relay.url}/v1/mailboxes/{mailbox}/messages",
        json={"capability": capability, "client_message_id": "after-revoke", "body": "AAAA"},
    )
    assert refused.status_code == 403, refused.text

    # The worker destroys the record on this device once it is no longer needed.
    worker.get_by_text("Delete conversation").click()
    worker.get_by_label("Yes, delete the conversation with Sam").check()
    worker.get_by_role("button", name="Delete from this device").click()
    expect(worker.locator('nav button[data-alias="Sam"]')).to_have_count(0)

    # The client's tab closed and the link opened again: nothing was kept, nothing works.
    client.close()
    again = client_ctx.new_page()
    guard.watch(again)
    again.goto(link)
    expect(again.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    again.goto(relay.url + "/join")
    expect(again.get_by_role("heading", name="Nothing here")).to_be_visible()
    assert again.evaluate("indexedDB.databases().then(d => d.length)") == 0
    shot(again, "client-reopened")

    guard.assert_clean()
    worker_ctx.close()
    client_ctx.close()


def test_client_who_chose_to_be_remembered(relay, browser, screenshots: Path) -> None:
    worker_ctx = browser.new_context(viewport=DESKTOP)
    worker = worker_ctx.new_page()
    guard = OriginGuard(relay.url, worker)
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    link = create_invite(worker, "Robin")
    worker.get_by_role("button", name="Open the conversation").click()

    client_ctx = browser.new_context(viewport=PHONE)
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(link)
    client.get_by_label(re.compile("Remember this device")).check()
    client.get_by_label("Passphrase for this device").fill("robin's own passphrase")
    client.get_by_role("button", name="I agree").click()
    expect(worker.locator("#compose-text")).to_be_enabled(timeout=30_000)
    worker.locator("#compose-text").fill("See you Thursday.")
    worker.locator("#compose-text").press("Enter")
    expect(client.get_by_text("See you Thursday.")).to_be_visible()

    # The organisation publishes a new policy: the worker may not write until Robin agrees.
    relay.process.publish_policy(POLICY + "\n\nNew: supervisors may read de-identified excerpts.")
    worker.reload()
    worker.get_by_label("Passphrase").fill(PASSPHRASE)
    worker.get_by_role("button", name="Unlock").click()
    open_conversation(worker, "Robin")
    expect(worker.locator("#compose-help")).to_contain_text("policy version 1")
    expect(worker.locator("#compose-text")).to_be_disabled()

    # The remembered state comes back only with the passphrase, and asks about the new policy.
    client.goto(relay.url + "/join")
    expect(client.get_by_role("heading", name="Welcome back")).to_be_visible()
    shot = Shots(screenshots)
    shot.n = 40
    shot(client, "client-remembered-unlock")
    client.get_by_label("Passphrase").fill("robin's own passphrase")
    client.get_by_role("button", name="Open").click()
    expect(client.get_by_role("heading", name="The policy has changed")).to_be_visible()
    expect(client.locator("#policy-text")).to_contain_text("de-identified excerpts")
    shot(client, "client-policy-changed")
    client.get_by_role("button", name="I agree").click()
    expect(client.get_by_text("See you Thursday.")).to_be_visible()
    expect(worker.locator("#compose-text")).to_be_enabled()
    expect(worker.locator("#consent-state")).to_contain_text("policy version 2")

    # Quick exit wipes even a remembered device.
    client.get_by_role("button", name="Quick exit").click()
    client.wait_for_url("**/assets/neutral.html")
    client.goto(relay.url + "/join")
    expect(client.get_by_role("heading", name="Nothing here")).to_be_visible()
    guard.assert_clean()
    worker_ctx.close()
    client_ctx.close()
