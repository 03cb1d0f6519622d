"""The organisation console in a real browser: an admin enrols a supervisor, revokes a device
whose WebSocket is open (it closes), disables a worker, publishes a policy and reads the
diff, changes the allowed timers (a client joining afterwards is offered no timer outside
them), and reads and verifies the audit trail; the first change asks for the passphrase
again (step-up). Then each side reads what the relay keeps about it, and the admin (a worker
too) reads the consent records the relay keeps for its device."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
from accessibility import assert_accessible
from playwright.sync_api import expect
from web_support import DESKTOP, PASSPHRASE, OriginGuard, create_invite, enrol_worker

pytestmark = pytest.mark.browser


def _confirm(page: Any) -> None:
    """Step-up: the console asks for the passphrase again."""
    dialog = page.get_by_role("dialog", name="Confirm it is you")
    expect(dialog).to_be_visible()
    assert_accessible(page, "step-up confirmation")
    dialog.get_by_label("Passphrase").fill(PASSPHRASE)
    dialog.get_by_role("button", name="Confirm").click()


def _tab(page: Any, name: str) -> None:
    page.locator("#admin nav").get_by_role("button", name=name).click()
    expect(page.get_by_role("heading", name=name, exact=True).last).to_be_visible()


def _row_with_role(rows: Any, role: str) -> Any:
    found = [rows.nth(i) for i in range(rows.count())]
    found = [row for row in found if row.locator("select").input_value() == role]
    assert len(found) == 1, role
    return found[0]


def _wait_closed(page: Any, socket: Any) -> None:
    """A bounded wait for the socket to close (a ceiling, never a measured duration)."""
    for _ in range(100):
        if socket.is_closed():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the revoked device's WebSocket is still open")


def test_admin_console(relay, browser, screenshots: Path) -> None:
    admin_context = browser.new_context(viewport=DESKTOP)
    admin = admin_context.new_page()
    guard = OriginGuard(relay.url, admin)
    admin.goto(relay.url + "/")
    enrol_worker(admin, relay.process.enrol_worker("admin"))

    # A worker whose app is connected: its socket is what the revocation must close.
    worker_context = browser.new_context(viewport=DESKTOP)
    worker = worker_context.new_page()
    sockets: list[Any] = []
    worker.on("websocket", lambda socket: sockets.append(socket))
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    assert sockets and not sockets[0].is_closed()

    admin.get_by_role("button", name="Organisation").click()
    expect(admin.get_by_role("heading", name="Organisation console")).to_be_visible()
    expect(admin.get_by_role("heading", name="Workers", exact=True)).to_be_visible()

    # Enrol a supervisor: the first change asks for the passphrase; the code comes with a QR.
    admin.get_by_label("Role", exact=True).select_option("supervisor")
    admin.get_by_role("button", name="Enrol a worker").click()
    _confirm(admin)
    expect(admin.locator("#enrolment-code")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{43}$"))
    expect(admin.get_by_role("img", name="Enrolment code as a QR code")).to_be_visible()
    assert_accessible(admin, "admin console with an enrolment code")
    rows = admin.locator("tbody tr[data-worker]")
    expect(rows).to_have_count(3)

    # Revoke the connected worker's device; its open socket closes.
    worker_row = _row_with_role(rows, "worker")
    worker_row.get_by_role("button", name="Devices").click()
    devices = admin.locator("tbody tr[data-device]")
    expect(devices).to_have_count(1)
    devices.first.get_by_role("button", name="Revoke").click()  # confirmed minutes ago
    expect(devices.first).to_contain_text("Revoked")
    _wait_closed(worker, sockets[0])

    # Disable the supervisor (not yet on any device).
    supervisor = _row_with_role(rows, "supervisor")
    supervisor.get_by_role("button", name="Disable").click()
    expect(supervisor).to_contain_text("Disabled")
    admin.screenshot(path=str(screenshots / "admin-workers.png"), full_page=True)

    # Publish a policy and read the difference from the first version.
    _tab(admin, "Policies")
    admin.get_by_label("New policy version").fill("We keep what you say private.\nNew: video.")
    admin.get_by_role("button", name="Publish", exact=True).click()
    expect(admin.locator("tbody tr")).to_have_count(2)
    admin.get_by_label("From version").select_option("1")
    admin.get_by_label("to version").select_option("2")
    admin.get_by_role("button", name="Show the difference").click()
    expect(admin.locator("#policy-diff")).to_contain_text("+New: video.")

    # Narrow the allowed disappearing timers.
    _tab(admin, "Settings")
    timer = admin.locator("#setting-disappearing_max_seconds")
    timer.fill("86400")
    timer.evaluate("el => { el.dataset.before = 'save'; }")
    timer.locator("xpath=..").get_by_role("button", name="Save").click()
    # The section is drawn again once the relay has answered: a fresh input, new value.
    saved = admin.locator("#setting-disappearing_max_seconds:not([data-before])")
    expect(saved).to_have_value("86400")
    organisation = admin.request.get(relay.url + "/v1/organisation").json()
    assert organisation["settings"]["disappearing_max_seconds"] == 86400

    # The audit trail shows every change, filters by action, and verifies.
    _tab(admin, "Audit trail")
    trail = admin.locator("#admin tbody")
    for action in ("admin.step-up", "worker.enrol", "device.revoke", "worker.disable"):
        expect(trail).to_contain_text(action)
    expect(trail).to_contain_text("policy.publish")
    expect(trail).to_contain_text("settings.change")
    admin.get_by_label("Action").fill("worker.")
    admin.get_by_role("button", name="Filter").click()
    expect(trail).not_to_contain_text("policy.publish")
    expect(trail).to_contain_text("worker.disable")
    # By date: nothing happened from tomorrow on (UTC), everything up to today.
    tomorrow = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).date()
    admin.get_by_label("From").fill(tomorrow.isoformat())
    admin.get_by_role("button", name="Filter").click()
    expect(trail.locator("tr")).to_have_count(0)
    admin.get_by_label("From").fill("")
    admin.get_by_label("To").fill((tomorrow - datetime.timedelta(days=1)).isoformat())
    admin.get_by_role("button", name="Filter").click()
    expect(trail).to_contain_text("worker.disable")
    admin.get_by_role("button", name="Verify the chain").click()
    expect(admin.locator("#audit-status")).to_contain_text("intact")
    admin.screenshot(path=str(screenshots / "admin-audit.png"), full_page=True)

    # A client joining now is offered only timers within the allowed ones (1 day at most).
    admin.get_by_role("button", name="Back to conversations").click()
    link = create_invite(admin, "Sam")
    client_context = browser.new_context(viewport=DESKTOP)
    client = client_context.new_page()
    client.goto(link)
    client.get_by_role("button", name="I agree").click()
    expect(client.get_by_role("heading", name="Your conversation")).to_be_visible()
    timers = client.get_by_label("Disappearing messages")
    expect(timers.locator('option[value="86400"]')).to_have_count(1)
    expect(timers.locator('option[value="604800"]')).to_have_count(0)

    # Each side reads what the relay keeps about its device, in plain words.
    client.get_by_role("button", name="Your consent").click()
    client.get_by_role("button", name="What the relay keeps about this device").click()
    kept = client.locator("#records-list")
    for table in ("devices", "mailboxes", "sessions", "consent_receipts"):
        expect(kept.locator(f'li[data-table="{table}"]')).to_have_count(1)
    expect(kept.locator('li[data-table="workers"]')).to_have_count(0)
    admin.get_by_role("button", name="What the relay keeps").click()
    expect(admin.locator("#records-list")).to_contain_text("role admin")
    expect(admin.locator('#records-list li[data-table="audit_events"]')).to_contain_text(
        "admin.step-up"
    )
    admin.get_by_role("dialog").get_by_role("button", name="Close").click()

    # The worker's consent records, read through every page of GET /v1/consent and each
    # receipt's signature checked in the app.
    admin.get_by_role("button", name="Consent records").click()
    expect(admin.locator("#consent-records-count")).to_have_text("1 record, oldest first.")
    receipt = admin.locator('#consent-records li[data-kind="receipt"]')
    expect(receipt).to_contain_text("agreed to policy version 2")
    admin.get_by_role("dialog").get_by_role("button", name="Close").click()

    # The policies page counts the conversation that now holds consent to version 2.
    admin.get_by_role("button", name="Organisation").click()
    _tab(admin, "Policies")
    counts = admin.locator("#admin tbody tr")
    expect(counts.nth(0).locator("td").nth(2)).to_have_text("0")
    expect(counts.nth(1).locator("td").nth(2)).to_have_text("1")
    guard.assert_clean()
    client_context.close()
    worker_context.close()
    admin_context.close()


GROUP_TERMS_V1 = "Riverside groups: everyone in the group reads what you write there."
GROUP_TERMS_V2 = GROUP_TERMS_V1 + "\nNew: a worker may summarise the group's themes."


def test_admin_publishes_group_terms_from_the_console(relay, browser) -> None:
    """The console's Policies tab publishes group terms (before, only the CLI could): the
    change asks for the passphrase, the relay serves the new version, the form starts the
    next one from the text in force, and the audit trail records it against the admin."""
    context = browser.new_context(viewport=DESKTOP)
    admin = context.new_page()
    guard = OriginGuard(relay.url, admin)
    admin.goto(relay.url + "/")
    enrol_worker(admin, relay.process.enrol_worker("admin"))
    admin.get_by_role("button", name="Organisation").click()
    _tab(admin, "Policies")
    expect(admin.locator("#group-terms-current")).to_contain_text("No group terms")
    assert_accessible(admin, "admin console, policies and group terms")
    terms = admin.get_by_label("New version of the group terms")
    terms.fill(GROUP_TERMS_V1)
    admin.get_by_role("button", name="Publish the group terms").click()
    _confirm(admin)
    expect(admin.locator("#group-terms-current")).to_contain_text("In force: version")
    published = admin.request.get(relay.url + "/v1/organisation").json()["group_terms"]
    assert published["text"] == GROUP_TERMS_V1
    # The next version starts from the text in force; no second passphrase within step-up.
    expect(terms).to_have_value(GROUP_TERMS_V1)
    terms.fill(GROUP_TERMS_V2)
    admin.get_by_role("button", name="Publish the group terms").click()
    version = published["version"] + 1
    expect(admin.locator("#group-terms-current")).to_contain_text(f"version {version}")
    shown = admin.request.get(f"{relay.url}/v1/group-terms/{version}").json()
    assert shown["text"] == GROUP_TERMS_V2

    _tab(admin, "Audit trail")
    admin.get_by_label("Action").fill("group-terms.")
    admin.get_by_role("button", name="Filter").click()
    rows = admin.locator("#admin tbody tr")
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i)).to_contain_text("group-terms.publish")
        expect(rows.nth(i).locator("td").nth(3)).not_to_have_text("cli")
    guard.assert_clean()
    context.close()
