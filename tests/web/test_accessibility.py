"""Accessibility of every view of both apps (WCAG 2.1 AA, and 2.2's target size and focus
rules): axe finds nothing, each view has one level-one heading that takes the focus when the
view changes, and every target is at least 24 by 24 pixels (tests/web/accessibility.py); the
admin console's and the consultation form's controls are all in the Tab order (the other
views' are walked in test_keyboard.py).
The call's views are checked in tests/calls/test_calls_browser.py, which has the cameras."""

from __future__ import annotations

import re
from typing import Any

import pytest
from accessibility import assert_accessible, assert_all_reachable, assert_view_focus
from playwright.sync_api import expect
from web_support import (
    DESKTOP,
    PASSPHRASE,
    PHONE,
    OriginGuard,
    create_invite,
    enrol_worker,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLIENT_PASS = "the client's own passphrase"


def _dialog(page: Any, button: str, view: str) -> None:
    """Opens one of the header's dialogs, checks it once it has the relay's answer, closes it."""
    page.get_by_role("button", name=button).click()
    dialog = page.locator("dialog[open]")
    expect(dialog.locator("ul")).to_be_visible()
    assert_accessible(page, view)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)


def test_every_view_of_both_apps(relay, browser) -> None:
    worker_ctx = browser.new_context(viewport=DESKTOP)
    worker = worker_ctx.new_page()
    guard = OriginGuard(relay.url, worker)
    worker.goto(relay.url + "/")
    worker.get_by_role("heading", name="Set up Confide on this device").wait_for()
    assert_accessible(worker, "enrol")
    enrol_worker(worker, relay.process.enrol_worker("admin"))
    assert_accessible(worker, "conversation list")

    worker.get_by_role("button", name="Invite someone").click()
    assert_view_focus(worker, "Invite someone")
    assert_accessible(worker, "new invite")
    link = create_invite(worker, "Kim")
    assert_view_focus(worker, "Invite for Kim")
    assert_accessible(worker, "invite")

    # The client, on a phone: the page without a link, consent, the conversation.
    client_ctx = browser.new_context(viewport=PHONE)
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(relay.url + "/join")
    client.get_by_role("heading", name="Nothing here").wait_for()
    assert_accessible(client, "join without a link")
    client.goto(link)
    expect(client.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    assert_view_focus(client, "Before you start")
    assert_accessible(client, "consent")
    client.get_by_label(re.compile("Remember this device")).check()
    client.get_by_label("Passphrase for this device").fill(CLIENT_PASS)
    assert_accessible(client, "consent, remembering the device")
    client.get_by_role("button", name="I agree").click()
    expect(client.get_by_role("heading", name="Your conversation")).to_be_visible()
    assert_view_focus(client, "Your conversation")
    # A system line ("You agreed…") is in the list now.
    expect(client.locator(".message.system")).to_have_count(1)
    assert_accessible(client, "client conversation")

    # The same link a second time: used.
    used = client_ctx.new_page()
    used.goto(link)
    expect(used.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    assert_accessible(used, "used link")
    used.close()

    worker.get_by_role("button", name="Open the conversation").click()
    assert_view_focus(worker, "Kim")
    expect(worker.locator("#compose-text")).to_be_enabled()
    worker.locator("#compose-text").fill("Hello Kim.")
    worker.locator("#compose-text").press("Enter")
    expect(client.get_by_text("Hello Kim.")).to_be_visible()
    assert_accessible(worker, "worker conversation")
    assert_accessible(client, "client conversation with a message")

    # A message arriving redraws the worker's view; it is not a change of view, so focus
    # stays where the worker had it.
    worker.locator("#open-safety").focus()
    client.locator("#compose-text").fill("Hi.")
    client.locator("#compose-text").press("Enter")
    expect(worker.get_by_text("Hi.", exact=True)).to_be_visible()
    expect(worker.locator("#open-safety")).to_be_focused()

    worker.locator("#open-safety").click()
    assert_view_focus(worker, "Safety number with Kim")
    assert_accessible(worker, "worker safety number")
    worker.get_by_role("button", name="Back to the conversation").click()
    assert_view_focus(worker, "Kim")

    client.get_by_role("button", name="Safety number").click()
    assert_view_focus(client, "Safety number with Your peer worker")
    assert_accessible(client, "client safety number")
    client.get_by_role("button", name="Back to the conversation").click()
    client.get_by_role("button", name="Your consent").click()
    assert_view_focus(client, "Your consent")
    assert_accessible(client, "client consent review")
    _dialog(client, "What the relay keeps about this device", "client's relay records")
    client.get_by_role("button", name="Back").click()
    _dialog(client, "Keeping this conversation private", "client privacy guide")
    # The language switch, and the conversation drawn again in Spanish.
    client.locator("#join-language").select_option("es")
    expect(client.get_by_role("heading", level=1, name="Tu conversación")).to_be_visible()
    assert_accessible(client, "client conversation in Spanish")
    client.locator("#join-language").select_option("en")
    expect(client.get_by_role("heading", level=1, name="Your conversation")).to_be_visible()

    # Consultation views, the worker's privacy dialogs, the admin console.
    worker.get_by_role("button", name="Ask a supervisor").click()
    assert_view_focus(worker, "Ask a supervisor")
    assert_accessible(worker, "ask a supervisor")
    assert_all_reachable(worker, "ask a supervisor")
    worker.locator("nav").get_by_role("button", name="Consultations").click()
    assert_view_focus(worker, "Consultations")
    assert_accessible(worker, "consultations inbox")
    _dialog(worker, "What the relay keeps", "worker's relay records")
    _dialog(worker, "Consent records", "consent records")
    worker.get_by_role("button", name="Organisation").click()
    expect(worker.get_by_role("heading", name="Workers", exact=True)).to_be_visible()
    assert_view_focus(worker, "Organisation console")
    for tab in ("Workers", "Policies", "Settings", "Texts for clients and workers", "Audit trail"):
        worker.locator("#admin nav").get_by_role("button", name=tab, exact=True).click()
        title = worker.locator("#admin").get_by_role("heading", name=tab, exact=True)
        expect(title).to_be_visible()
        assert_accessible(worker, f"admin console, {tab}")
        assert_all_reachable(worker, f"admin console, {tab}")
    worker.get_by_role("button", name="Back to conversations").click()

    # Both lock screens.
    worker.get_by_role("button", name="Lock").click()
    expect(worker.get_by_role("heading", name="Confide is locked")).to_be_visible()
    assert_accessible(worker, "worker lock")
    worker.get_by_label("Passphrase").fill(PASSPHRASE)
    worker.get_by_role("button", name="Unlock").click()
    expect(worker.get_by_role("heading", name="Conversations")).to_be_visible()
    client.goto(relay.url + "/join")
    expect(client.get_by_role("heading", name="Welcome back")).to_be_visible()
    assert_accessible(client, "client lock")
    client.get_by_label("Passphrase").fill(CLIENT_PASS)
    client.get_by_role("button", name="Open").click()
    expect(client.get_by_text("Hello Kim.")).to_be_visible()
    guard.assert_clean()
    worker_ctx.close()
    client_ctx.close()
