"""A client who chose "remember this device" on the group terms screen (issue 18): the tab
closes, the worker and another member go on talking, and /join opens the group again with
the client's passphrase (a wrong one is refused), with what was said before and meanwhile,
and the client can write. A device that also remembers a one-to-one conversation asks which
to open. A group closed while the tab was shut shows as closed. Quick exit then leaves
nothing in IndexedDB."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from accessibility import assert_accessible
from group_support import (
    GROUP_TERMS,
    group_invite,
    join_group,
    publish_group_terms,
    send,
    shows,
    worker_with_group,
)
from playwright.sync_api import expect
from web_support import UNLABELLED, create_invite

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUP = "Thursday morning circle"
CLIENT_PASSPHRASE = "kestrel's own passphrase"
DATABASES = "indexedDB.databases().then((d) => d.map((x) => x.name))"


def join_remembered(page: Any, link: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name="Before you join the group")).to_be_visible(
        timeout=60_000
    )
    page.get_by_label("The name others in the group will see").fill("Kestrel")
    remember = page.get_by_label(re.compile("Remember this device"))
    expect(remember).not_to_be_checked()
    expect(page.get_by_text("Off: nothing is kept once you close this tab.")).to_be_visible()
    remember.check()
    page.get_by_label("Passphrase for this device").fill(CLIENT_PASSPHRASE)
    assert page.evaluate(UNLABELLED) == []
    assert_accessible(page, "client group terms, remembering the device")
    page.get_by_role("button", name="I agree and join").click()
    expect(page.get_by_role("heading", name=GROUP)).to_be_visible(timeout=60_000)


def unlock_group(page: Any, passphrase: str) -> None:
    expect(page.get_by_role("heading", name="Welcome back to your group")).to_be_visible()
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Open").click()


def close_without_asking(page: Any) -> None:
    """Closes the tab as a person would; a "leave this page?" question would keep it open
    (Playwright dismisses it), so the close never happening fails the test."""
    with page.expect_event("close"):
        page.close(run_before_unload=True)


def nothing_left(page: Any, url: str) -> None:
    """No database in this browser context, and /join has nothing to open."""
    assert page.evaluate(DATABASES) == []
    page.goto(url + "/join")
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()


def reopen(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url + "/join")
    return page


def test_remembered_group_client_comes_back(relay, browser, tmp_path: Path) -> None:
    publish_group_terms(relay.process, tmp_path, GROUP_TERMS)
    guard, contexts, worker, kestrel, heron = worker_with_group(relay, browser, GROUP)
    join_remembered(kestrel, group_invite(worker))
    join_group(heron, group_invite(worker), GROUP, name="Heron")
    expect(kestrel.locator("#group-members li")).to_have_count(3)
    send(kestrel, "Before I closed the tab.")
    shows(worker, "Kestrel", "Before I closed the tab.")
    shows(heron, "Kestrel", "Before I closed the tab.")
    assert kestrel.evaluate(DATABASES) == ["notes-device"]
    # Heron did not choose it: nothing of Heron's membership is in storage.
    assert heron.evaluate(DATABASES) == []

    # A remembered page is not held up by the "leave this page?" question.
    close_without_asking(kestrel)
    context = contexts[1]
    send(worker, "Written while Kestrel was away.")
    send(heron, "Heron too, meanwhile.")
    shows(worker, "Heron", "Heron too, meanwhile.")

    # The passphrase opens it again; a wrong one does not.
    kestrel = reopen(context, relay.url)
    guard.watch(kestrel)
    unlock_group(kestrel, "not the passphrase at all")
    expect(kestrel.get_by_role("alert")).to_have_text("That passphrase does not open this.")
    assert kestrel.evaluate(UNLABELLED) == []
    assert_accessible(kestrel, "client group unlock, wrong passphrase")
    kestrel.get_by_label("Passphrase").fill(CLIENT_PASSPHRASE)
    kestrel.get_by_role("button", name="Open").click()
    expect(kestrel.get_by_role("heading", name=GROUP)).to_be_visible(timeout=30_000)
    expect(kestrel.get_by_text("Before I closed the tab.")).to_be_visible()
    shows(kestrel, "Facilitator", "Written while Kestrel was away.")
    shows(kestrel, "Heron", "Heron too, meanwhile.")
    send(kestrel, "Back again, thanks for waiting.")
    shows(worker, "Kestrel", "Back again, thanks for waiting.")
    shows(heron, "Kestrel", "Back again, thanks for waiting.")

    # The same device also remembers a one-to-one conversation: /join asks which to open.
    link = create_invite(worker, "Robin")
    worker.get_by_role("button", name="Open the conversation").click()
    kestrel.goto(link)
    kestrel.get_by_label(re.compile("Remember this device")).check()
    kestrel.get_by_label("Passphrase for this device").fill("robin's own passphrase")
    kestrel.get_by_role("button", name="I agree").click()
    expect(kestrel.get_by_role("heading", name="Your conversation")).to_be_visible(timeout=30_000)
    expect(worker.locator("#compose-text")).to_be_enabled(timeout=30_000)

    # The worker closes the group while Kestrel's tab is shut.
    close_without_asking(kestrel)
    worker.locator("nav").get_by_role("button", name=GROUP).click()
    worker.get_by_text("Close the group", exact=True).click()
    worker.locator("#confirm-close-group").check()
    worker.locator("#close-group").click()
    expect(worker.locator("#group-gone")).to_be_visible()

    kestrel = reopen(context, relay.url)
    guard.watch(kestrel)
    expect(kestrel.get_by_role("heading", name="Welcome back")).to_be_visible()
    assert kestrel.evaluate(UNLABELLED) == []
    assert_accessible(kestrel, "client choosing what to open")
    kestrel.get_by_role("button", name="My group").click()
    unlock_group(kestrel, CLIENT_PASSPHRASE)
    expect(kestrel.locator("#group-gone")).to_have_text(
        "This group is closed: nothing more can be sent."
    )
    shows(kestrel, "Heron", "Heron too, meanwhile.")
    expect(kestrel.locator("#compose-text")).to_be_disabled()
    expect(kestrel.get_by_role("button", name="Forget this group on this device")).to_be_visible()
    assert_accessible(kestrel, "remembered client group view, closed")

    # Quick exit wipes both remembered things: nothing is left in IndexedDB.
    kestrel.get_by_role("button", name="Quick exit").click()
    kestrel.wait_for_url("**/assets/neutral*.html")
    nothing_left(kestrel, relay.url)
    # Looking for remembered state creates no database either.
    assert kestrel.evaluate(DATABASES) == []
    guard.assert_clean()
    for c in contexts:
        c.close()


def test_leaving_forgets_a_remembered_group(relay, browser, tmp_path: Path) -> None:
    publish_group_terms(relay.process, tmp_path, GROUP_TERMS)
    guard, contexts, worker, kestrel = worker_with_group(relay, browser, GROUP, clients=1)
    join_remembered(kestrel, group_invite(worker))
    expect(kestrel.locator("#group-members li")).to_have_count(2)
    assert kestrel.evaluate(DATABASES) == ["notes-device"]
    kestrel.get_by_text("Leave the group", exact=True).first.click()
    kestrel.locator("#confirm-leave").check()
    kestrel.locator("#leave-group").click()
    expect(kestrel.get_by_role("heading", name="You left the group")).to_be_visible()
    expect(worker.get_by_text("Kestrel left the group.")).to_be_visible()
    nothing_left(kestrel, relay.url)
    guard.assert_clean()
    for c in contexts:
        c.close()


def test_removed_while_away_then_forgotten(relay, browser, tmp_path: Path) -> None:
    publish_group_terms(relay.process, tmp_path, GROUP_TERMS)
    guard, contexts, worker, kestrel = worker_with_group(relay, browser, GROUP, clients=1)
    join_remembered(kestrel, group_invite(worker))
    expect(worker.locator("#group-members li")).to_have_count(2)
    close_without_asking(kestrel)
    worker.get_by_role("button", name="Remove Kestrel").click()
    expect(worker.locator("#group-members li")).to_have_count(1)

    kestrel = reopen(contexts[1], relay.url)
    guard.watch(kestrel)
    unlock_group(kestrel, CLIENT_PASSPHRASE)
    expect(kestrel.locator("#group-gone")).to_have_text("You are no longer a member of this group.")
    expect(kestrel.locator("#compose-text")).to_be_disabled()
    kestrel.get_by_role("button", name="Forget this group on this device").click()
    expect(
        kestrel.get_by_role("heading", name="This device no longer remembers the group")
    ).to_be_visible()
    nothing_left(kestrel, relay.url)
    guard.assert_clean()
    for c in contexts:
        c.close()
