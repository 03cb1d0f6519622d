"""The worker app locks itself after the idle time, and the lock forgets everything in memory.

The page's clock is Playwright's controllable clock: the test moves it past the idle time
instead of waiting, so nothing here depends on how fast the machine is."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from web_support import DESKTOP, PASSPHRASE, OriginGuard, enrol_worker

pytestmark = pytest.mark.browser


def test_worker_app_locks_when_idle(relay, browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    page.clock.install()
    page.goto(relay.url + "/")
    enrol_worker(page, relay.enrolment_code())
    page.clock.fast_forward("04:00")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    page.clock.fast_forward("02:00")
    expect(page.get_by_role("heading", name="Confide is locked")).to_be_visible()
    expect(page.get_by_text("Locked after a period of inactivity.")).to_be_visible()
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible(timeout=60_000)
    guard.assert_clean()
    context.close()


def test_the_organisations_idle_lock_time_is_the_apps(relay, browser) -> None:
    """idle_lock_seconds (confide settings set) replaces the app's default of five minutes."""
    relay.process.cli("settings", "set", "idle_lock_seconds", "15m")
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.clock.install()
        page.goto(relay.url + "/")
        enrol_worker(page, relay.enrolment_code())
        page.clock.fast_forward("10:00")  # past the default, within the organisation's time
        expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
        page.clock.fast_forward("06:00")
        expect(page.get_by_role("heading", name="Confide is locked")).to_be_visible()
    finally:
        context.close()
        relay.process.cli("settings", "set", "idle_lock_seconds", "5m")
