"""Keyboard use and labels: a worker can enrol and create an invite with the keyboard alone,
and every form control on the screens it passes through has an accessible name."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from web_support import PASSPHRASE, PHONE, UNLABELLED, OriginGuard

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
    page.get_by_label("A name for them").focus()
    keys.type("Kim")
    keys.press("Enter")
    expect(page.locator("#invite-link")).to_contain_text("/join#")
    guard.assert_clean()
    context.close()
