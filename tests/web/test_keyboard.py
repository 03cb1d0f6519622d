"""Keyboard use and labels: a worker can enrol and create an invite with the keyboard alone,
every form control on the screens it passes through has an accessible name, and both apps'
main flows work with Tab, Enter and Space, every control on each view in the Tab order."""

from __future__ import annotations

import pytest
from accessibility import assert_accessible, assert_all_reachable, assert_view_focus, tab_to
from playwright.sync_api import expect
from web_support import DESKTOP, PASSPHRASE, PHONE, UNLABELLED, OriginGuard

pytestmark = pytest.mark.browser


def test_enrol_and_invite_by_keyboard_alone(relay, browser) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    page.goto(relay.url + "/")
    page.get_by_role("heading", name="Set up Confide on this device").wait_for()
    assert page.evaluate(UNLABELLED) == []
    keys = page.keyboard
    keys.press("Tab")
    keys.type(relay.enrolment_code())
    keys.press("Tab")
    keys.type(PASSPHRASE)
    keys.press("Tab")
    keys.type(PASSPHRASE)
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Invite someone").focus()
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Invite someone")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    # The worker app on a phone: the list stacks above the view, targets stay 24px.
    assert_accessible(page, "new invite, on a phone")
    page.get_by_label("A name for them").focus()
    keys.type("Kim")
    keys.press("Enter")
    expect(page.locator("#invite-link")).to_contain_text("/join#")
    assert_accessible(page, "invite, on a phone")
    guard.assert_clean()
    context.close()


def test_main_flows_by_tab_and_enter(relay, browser, tmp_path) -> None:
    """Worker and client go through their main flows with Tab, Enter and Space only, and on
    each view every visible control is somewhere in the Tab order."""
    worker_ctx = browser.new_context(viewport=DESKTOP)
    worker = worker_ctx.new_page()
    guard = OriginGuard(relay.url, worker)
    # Listening from the start: Playwright turns on its file chooser interception without
    # waiting, so a listener added just before the key press could miss the chooser.
    note = tmp_path / "plan.txt"
    note.write_text("a plan")
    worker.on("filechooser", lambda chooser: chooser.set_files(str(note)))
    worker.goto(relay.url + "/")
    worker.get_by_role("heading", name="Set up Confide on this device").wait_for()
    keys = worker.keyboard
    tab_to(worker, "Enrolment code")
    keys.type(relay.enrolment_code())
    tab_to(worker, "Choose a passphrase")
    keys.type(PASSPHRASE)
    tab_to(worker, "Type the passphrase again")
    keys.type(PASSPHRASE)
    tab_to(worker, "Set up this device")
    keys.press("Enter")
    expect(worker.get_by_text("Connected")).to_be_visible(timeout=60_000)
    assert_all_reachable(worker, "conversation list")

    tab_to(worker, "Invite someone")
    keys.press("Enter")
    assert_view_focus(worker, "Invite someone")
    tab_to(worker, "A name for them")
    keys.type("Kim")
    keys.press("Enter")
    expect(worker.locator("#invite-link")).to_contain_text("/join#")
    assert_view_focus(worker, "Invite for Kim")
    assert_all_reachable(worker, "invite")
    link = worker.locator("#invite-link").inner_text().strip()
    tab_to(worker, "Open the conversation")
    keys.press("Enter")
    assert_view_focus(worker, "Kim")

    # The client consents and writes with the keyboard.
    client_ctx = browser.new_context(viewport=PHONE)
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(link)
    expect(client.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    assert_all_reachable(client, "consent")
    tab_to(client, "Remember this device")
    client.keyboard.press("Space")
    expect(client.locator("#remember-pass")).to_be_visible()
    client.keyboard.press("Space")
    expect(client.locator("#remember-pass")).to_be_hidden()
    tab_to(client, "I agree")
    client.keyboard.press("Enter")
    assert_view_focus(client, "Your conversation")
    assert_all_reachable(client, "client conversation")
    tab_to(client, "Message")
    client.keyboard.type("Hello from the keyboard.")
    client.keyboard.press("Enter")
    expect(worker.get_by_text("Hello from the keyboard.")).to_be_visible()

    # The worker replies, attaches a file, renames and verifies, all from the keyboard.
    expect(worker.locator("#compose-text")).to_be_enabled()
    assert_all_reachable(worker, "worker conversation")
    tab_to(worker, "Message")
    keys.type("Got it.")
    keys.press("Enter")
    expect(client.get_by_text("Got it.")).to_be_visible()
    tab_to(worker, "Attach file")
    keys.press("Enter")
    expect(client.get_by_role("button", name="Save plan.txt to this device")).to_be_visible()
    tab_to(worker, "Rename")
    keys.press("Enter")
    tab_to(worker, "Local name")
    keys.press("Control+A")
    keys.type("Kim R")
    keys.press("Enter")
    assert_view_focus(worker, "Kim R")
    tab_to(worker, "Compare safety number")
    keys.press("Enter")
    assert_view_focus(worker, "Safety number with Kim R")
    assert_all_reachable(worker, "safety number")
    tab_to(worker, "The numbers match")
    keys.press("Space")
    expect(worker.locator("#verified-state")).to_have_text("Verified")
    tab_to(worker, "Back to the conversation")
    keys.press("Enter")
    assert_view_focus(worker, "Kim R")
    expect(worker.locator("#open-safety")).to_contain_text("Verified")

    # The client's review of consent, and back.
    tab_to(client, "Your consent")
    client.keyboard.press("Enter")
    assert_view_focus(client, "Your consent")
    assert_all_reachable(client, "consent review")
    tab_to(client, "Back")
    client.keyboard.press("Enter")
    assert_view_focus(client, "Your conversation")
    guard.assert_clean()
    worker_ctx.close()
    client_ctx.close()
