"""The served pages on their own: light first paint under the strict CSP, neutral join page,
quick exit, and no request to any origin but the relay's."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_support import OriginGuard

pytestmark = pytest.mark.browser


def test_worker_app_first_paint_under_csp(relay, browser, screenshots: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    response = page.goto(relay.url + "/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp
    page.get_by_role("heading", name="Set up Confide on this device").wait_for()
    assert page.title() == "Confide"
    page.screenshot(path=str(screenshots / "01-worker-enrol.png"), full_page=True)
    # The first paint loads no crypto: libsodium's chunk arrives only when a form is used.
    assert guard.script_bytes() < 64 * 1024
    guard.assert_clean()
    context.close()


def test_join_page_is_neutral_and_keeps_nothing(relay, browser, screenshots: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    page.goto(relay.url + "/join")
    page.get_by_role("heading", name="Nothing here").wait_for()
    assert page.title() == "Notes"
    assert page.get_by_role("button", name="Quick exit").is_visible()
    page.screenshot(path=str(screenshots / "02-join-without-link.png"), full_page=True)
    guard.assert_clean()
    context.close()


@pytest.mark.parametrize("how", ["button", "escape-twice"])
def test_quick_exit_replaces_the_page(relay, browser, how: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    page.goto(relay.url + "/join")
    page.get_by_role("heading", name="Nothing here").wait_for()
    page.evaluate("sessionStorage.setItem('a', 'b'); localStorage.setItem('a', 'b')")
    if how == "button":
        page.get_by_role("button", name="Quick exit").click()
    else:
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
    page.wait_for_url("**/assets/neutral.html")
    assert page.title() == "Weather"
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.length") == 0
    guard.assert_clean()
    context.close()
