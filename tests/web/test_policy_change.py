"""A new policy version reaches both open apps at once (issue 14), in a real browser.

Seen: after a new version a worker whose app stayed open was not told and kept sending, a
client with the page open was never prompted, and a client who is not remembered had no way
to consent again. Here nobody reloads: the relay's policy notice does it all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from accessibility import assert_accessible, assert_view_focus
from playwright.sync_api import expect
from web_support import DESKTOP, PHONE, POLICY, OriginGuard, create_invite, enrol_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADDED = "New: supervisors may read de-identified excerpts."


def _stored_receipts(data_dir: Path) -> int:
    [database] = list(data_dir.glob("*.db"))
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT count(*) FROM consent_receipts WHERE kind = 'receipt'")
        return int(row.fetchone()[0])


def test_a_policy_change_reaches_open_apps_and_a_forgotten_client_agrees_again(
    relay, browser
) -> None:
    worker_ctx = browser.new_context(viewport=DESKTOP)
    worker = worker_ctx.new_page()
    guard = OriginGuard(relay.url, worker)
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    link = create_invite(worker, "Sam")
    worker.get_by_role("button", name="Open the conversation").click()

    client_ctx = browser.new_context(viewport=PHONE)
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(link)  # not remembered: nothing of this survives the tab
    client.get_by_role("button", name="I agree").click()
    expect(worker.locator("#compose-text")).to_be_enabled(timeout=30_000)
    worker.locator("#compose-text").fill("Hello Sam.")
    worker.locator("#compose-text").press("Enter")
    expect(client.get_by_text("Hello Sam.")).to_be_visible()

    relay.process.publish_policy(POLICY + "\n\n" + ADDED)

    # The worker's open app: the badge and the send rule follow the receipt held.
    expect(worker.locator("#consent-state")).to_contain_text("waiting for consent to version 2")
    expect(worker.locator("nav")).to_contain_text("Waiting for consent to version 2")
    expect(worker.locator("#compose-text")).to_be_disabled()

    # The client's open page: the new text and what changed; declining keeps it gated.
    expect(client.get_by_role("heading", name="The policy has changed")).to_be_visible()
    expect(client.locator("#policy-text")).to_contain_text(ADDED)
    expect(client.locator("#policy-changes ins", has_text=ADDED)).to_have_count(1)
    expect(client.locator("#policy-changes del")).to_have_count(0)
    assert_view_focus(client, "The policy has changed")
    assert_accessible(client, "changed policy")
    client.get_by_role("button", name="Not now").click()
    expect(client.locator("#policy-outdated")).to_contain_text("policy version 2")
    expect(client.locator("#compose-text")).to_be_disabled()
    assert_accessible(client, "conversation waiting for consent to a new policy")

    # The worker asks for a review; the client reads it again and agrees.
    worker.locator("#ask-review").click()
    expect(worker.get_by_text("You asked them to review policy version 2.")).to_be_visible()
    expect(client.get_by_role("heading", name="The policy has changed")).to_be_visible()
    client.get_by_role("button", name="I agree").click()
    expect(client.locator("#compose-text")).to_be_enabled()
    expect(worker.locator("#consent-state")).to_contain_text("Consent given (policy version 2")
    expect(worker.locator("#compose-text")).to_be_enabled()
    worker.locator("#compose-text").fill("Thanks for reading it.")
    worker.locator("#compose-text").press("Enter")
    expect(client.get_by_text("Thanks for reading it.")).to_be_visible()

    # The organisation's record holds both receipts, one for each version.
    assert _stored_receipts(relay.process.data_dir) == 2
    guard.assert_clean()
    worker_ctx.close()
    client_ctx.close()
