"""New group terms reach a group's members (issue 18, docs/protocol.md G6 `group-consent`,
G9), in a real browser against a real relay.

Seen: after `confide publish-group-terms` a web client already in a group was never shown
the new terms nor asked again, it had no way to send a fresh group receipt, and the worker
could not tell which members had agreed to the terms in force. Here the worker's device
notices the new version and signs a roster naming it; one client reads the new text and
agrees (its receipt reaches the worker, who keeps it), the other declines and so leaves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from accessibility import assert_accessible
from group_support import (
    GROUP_TERMS,
    group_invite,
    join_group,
    members,
    publish_group_terms,
    send,
    shows,
    worker_with_group,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUP = "Thursday afternoon check-in"
ADDED = "New: a worker may share a summary of the group's themes with the programme lead."


def consent_waiting(page: Any) -> list[str]:
    return [
        str(n)
        for n in page.locator("#group-consent-waiting li").evaluate_all(
            "items => items.map((li) => li.dataset.memberName)"
        )
    ]


def test_new_group_terms_are_agreed_again_or_declined_by_leaving(
    relay, browser, tmp_path: Path
) -> None:
    publish_group_terms(relay.process, tmp_path)
    guard, contexts, worker, ana, ben = worker_with_group(relay, browser, GROUP)
    worker.get_by_role("button", name="New group").click()
    assert_accessible(worker, "worker new group")
    worker.locator("nav").get_by_role("button", name=GROUP).click()
    worker.get_by_role("button", name="Create a group invite link").click()
    expect(worker.locator("#group-invite-link")).to_contain_text("/join#g1.")
    assert_accessible(worker, "worker group invite link")
    worker.get_by_role("button", name="Back to the group").click()
    link_a, link_b = group_invite(worker), group_invite(worker)
    join_group(ana, link_a, GROUP, name="Otter")
    join_group(ben, link_b, GROUP, name="Heron")
    for page in (worker, ana, ben):
        expect(page.locator("#group-members li")).to_have_count(3)
    expect(worker.locator("#group-consent-all")).to_be_visible()
    assert_accessible(worker, "worker group view")
    assert_accessible(ana, "client group view")

    publish_group_terms(relay.process, tmp_path, GROUP_TERMS + "\n\n" + ADDED)
    # Opening the group is one of the moments the worker's device checks the terms.
    worker.locator("nav").get_by_role("button", name=GROUP).click()
    expect(worker.locator("#group-consent-waiting li")).to_have_count(2)
    assert consent_waiting(worker) == ["Otter", "Heron"]

    # Both clients are told; until they answer they read the group but cannot write to it
    # or call.
    for page in (ana, ben):
        expect(page.locator("#group-new-terms")).to_be_visible()
        expect(page.locator("#compose-text")).to_be_disabled()
        expect(page.locator("#start-group-video-call")).to_be_disabled()
    send(worker, "Please read the new terms.")
    shows(ana, "Facilitator", "Please read the new terms.")

    # Otter reads the new text (checked against the hash the worker signed) and agrees.
    ana.get_by_role("button", name="Read the new terms").click()
    expect(ana.get_by_role("heading", name=f"New terms for {GROUP}")).to_be_visible()
    expect(ana.locator("#group-terms-text")).to_contain_text(ADDED)
    assert_accessible(ana, "client new group terms")
    ana.get_by_role("button", name="I agree to the new terms").click()
    expect(ana.locator("#group-new-terms")).to_have_count(0)
    expect(ana.locator("#compose-text")).to_be_enabled()
    expect(ana.locator("#start-group-video-call")).to_be_enabled()
    # The worker's device verified and kept Otter's fresh receipt.
    expect(worker.locator("#group-consent-waiting li")).to_have_count(1)
    assert consent_waiting(worker) == ["Heron"]
    assert_accessible(worker, "worker group view, consent waiting")
    send(ana, "Agreed, thanks.")
    shows(worker, "Otter", "Agreed, thanks.")
    shows(ben, "Otter", "Agreed, thanks.")

    # Heron declines, which is leaving the group: everyone is told and the worker signs it.
    ben.get_by_role("button", name="Read the new terms").click()
    ben.get_by_role("button", name="I do not agree: leave the group").click()
    expect(ben.get_by_role("heading", name="You left the group")).to_be_visible()
    expect(worker.get_by_text("Heron left the group.")).to_be_visible()
    expect(worker.locator("#group-members li")).to_have_count(2)
    expect(ana.locator("#group-members li")).to_have_count(2)
    assert members(ana) == ["Facilitator", "Otter"]
    expect(worker.locator("#group-consent-all")).to_be_visible()
    guard.assert_clean()
    for context in contexts:
        context.close()
