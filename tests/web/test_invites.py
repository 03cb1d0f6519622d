"""Invites in a real browser against a real relay: a link pasted into a tab that already
shows /join, and pending invites shown again, cancelled, and leaving the list once redeemed
(docs/web.md). A module of its own, so its relay's per-address limit on redemptions and
enrolments (10 a minute) is not shared with test_identity.py's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import PHONE, create_invite, join_client, open_worker_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_invite_link_pasted_into_an_open_join_tab(relay: Any, browser: Any) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    link = create_invite(worker, "Rae")
    tab_ctx = browser.new_context(viewport=PHONE)
    tab = tab_ctx.new_page()
    guard.watch(tab)
    tab.goto(relay.url + "/join")
    expect(tab.get_by_role("heading", name="Nothing here")).to_be_visible()
    # Only the fragment changes: no page load, so the page must notice it by itself.
    tab.evaluate("(link) => { location.href = link; }", link)
    expect(tab.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    assert "#" not in tab.url, "the invite secret must leave the address bar"
    guard.assert_clean()
    context.close()
    tab_ctx.close()


def test_pending_invites_are_shown_again_and_cancelled(relay: Any, browser: Any) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    ana_link = create_invite(worker, "Ana")
    expect(worker.get_by_text(re.compile("It works once and expires"))).to_be_visible()
    lee_link = create_invite(worker, "Lee")

    # Invites nobody redeemed are not conversations: they wait in their own list.
    pending = worker.get_by_role("navigation").get_by_role("list", name="Pending invites")
    expect(pending.get_by_role("button", name=re.compile("^Ana"))).to_be_visible()
    expect(worker.locator('nav .conversations button[data-alias="Ana"]')).to_have_count(0)

    # The link and its QR code can be shown again.
    pending.get_by_role("button", name=re.compile("^Ana")).click()
    expect(worker.locator("#invite-link")).to_have_text(ana_link)
    expect(worker.get_by_role("img", name="Invite link as a QR code")).to_be_visible()

    # Cancelled, it leaves the list and no longer opens.
    worker.get_by_role("button", name="Cancel this invite").click()
    expect(pending.get_by_role("button", name=re.compile("^Ana"))).to_have_count(0)
    client_ctx = browser.new_context(viewport=PHONE)
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(ana_link)
    expect(client.get_by_role("heading", name="This link cannot be used")).to_be_visible()

    # Lee's, redeemed, becomes a conversation and leaves the pending list.
    lee = join_client(browser, guard, lee_link)
    expect(worker.locator('nav .conversations button[data-alias="Lee"]')).to_be_visible()
    expect(worker.get_by_role("list", name="Pending invites")).to_have_count(0)
    guard.assert_clean()
    context.close()
    client_ctx.close()
    lee.context.close()
