"""A light /join (issue 17): what a client's browser fetches before it can consent.

Seen before: 620 KB of JavaScript, uncompressed and without cache headers, before the
consent screen, because the page made keys and redeemed the invite (libsodium) first. Now
the consent screen needs only the page, its stylesheet, a few kilobytes of script and the
public policy; the crypto arrives in the background once the screen can be used. Sizes are
the browser's own Resource Timing figures (bytes over the wire), never a duration.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import PHONE, OriginGuard, create_invite, open_worker_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The moment the consent screen can be used: "I agree" is on the page and enabled. Recorded in
# the page, on the same clock as Resource Timing, so what arrived before it can be told apart
# from what the page fetched afterwards in the background.
CONSENT_USABLE = """
new MutationObserver(() => {
  const agree = document.getElementById("agree");
  if (agree && !agree.disabled && window.__consentUsable === undefined) {
    window.__consentUsable = performance.now();
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""

RESOURCES = """() => [...performance.getEntriesByType("navigation"),
  ...performance.getEntriesByType("resource")].map((e) => ({
    name: e.name, start: e.startTime, end: e.responseEnd, bytes: e.transferSize,
    body: e.encodedBodySize, type: e.initiatorType }))"""

# Everything before the consent screen, compressed; the page and its stylesheet included.
BUDGET = 32 * 1024
# No script the consent screen needs comes near this; libsodium's chunk is far above it.
CRYPTO_CHUNK = 100 * 1024


def test_the_consent_screen_comes_before_the_crypto(relay: Any, browser: Any) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    link = create_invite(worker, "Mo")
    client_ctx = browser.new_context(viewport=PHONE)
    client_ctx.add_init_script(CONSENT_USABLE)
    client = client_ctx.new_page()
    guard.watch(client)
    headers: dict[str, dict[str, str]] = {}
    client.on("response", lambda r: headers.setdefault(r.url.split("#")[0], r.headers))
    client.goto(link)
    expect(client.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    usable = client.wait_for_function("() => window.__consentUsable").json_value()

    client.get_by_role("button", name="I agree").click()
    expect(client.get_by_role("heading", name="Your conversation")).to_be_visible(timeout=60_000)
    entries = client.evaluate(RESOURCES)
    before = [e for e in entries if e["end"] <= usable]
    after = [e for e in entries if e["end"] > usable]

    sent = sum(e["bytes"] for e in before)
    assert sent < BUDGET, f"{sent} bytes before the consent screen: {before}"
    assert all(e["body"] < CRYPTO_CHUNK for e in before), before
    crypto = [e for e in after if e["name"].endswith(".js") and e["body"] >= CRYPTO_CHUNK]
    assert crypto, f"the crypto chunk should arrive after the consent screen: {after}"

    page_url = link.split("#")[0]
    assert headers[page_url]["cache-control"] == "no-cache"
    assets = [url for url in headers if "/assets/" in url]
    assert any(url.endswith(".css") for url in assets) and len(assets) >= 3
    for url in assets:
        assert headers[url]["cache-control"] == "public, max-age=31536000, immutable", url
        # A tiny icon that brotli cannot shrink is sent as it is, the rest compressed.
        if url.endswith((".js", ".css")):
            assert headers[url]["content-encoding"] == "br", url
            assert headers[url]["vary"] == "Accept-Encoding", url
    guard.assert_clean()
    client_ctx.close()
    context.close()


def test_a_used_link_replaces_the_consent_screen(relay: Any, browser: Any) -> None:
    """The policy may be on screen before the relay has looked at the invite; a link that
    cannot be used takes its place without anyone agreeing to anything."""
    context, worker, guard = open_worker_app(browser, relay)
    link = create_invite(worker, "Jo")
    first_ctx = browser.new_context(viewport=PHONE)
    first = first_ctx.new_page()
    guard.watch(first)
    first.goto(link)
    first.get_by_role("button", name="I agree").click()
    expect(first.get_by_role("heading", name="Your conversation")).to_be_visible(timeout=60_000)
    again_ctx = browser.new_context(viewport=PHONE)
    again = again_ctx.new_page()
    again_guard = OriginGuard(relay.url, again)
    again.goto(link)
    expect(again.get_by_role("heading", name="This link cannot be used")).to_be_visible(
        timeout=60_000
    )
    expect(again.get_by_role("button", name="I agree")).to_have_count(0)
    again_guard.assert_clean()
    guard.assert_clean()
    for ctx in (again_ctx, first_ctx, context):
        ctx.close()
