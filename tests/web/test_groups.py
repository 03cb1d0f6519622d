"""Peer support groups in a real browser against a real relay (issue 18): a worker creates a
group and makes single-use group links; two clients read the organisation's group terms,
keep or choose a display name and agree; all three talk, with delivery state, a timer and
an attachment; the worker removes one client (who receives nothing afterwards), the other
leaves, and the worker closes the group. Members never see each other's keys or devices,
and the relay's database and logs hold no group name, display name or group id."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from accessibility import assert_accessible
from group_support import (
    group_invite,
    join_group,
    members,
    publish_group_terms,
    send,
    shows,
    worker_with_group,
)
from playwright.sync_api import expect
from web_support import PASSPHRASE, PHONE, UNLABELLED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUP = "Tuesday evening recovery circle"


def relay_dump(relay: Any) -> bytes:
    """Every row of the relay's SQLite database, and its logs, as one blob to search."""
    [database] = list(relay.process.data_dir.glob("*.db"))
    out = []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in db.execute(f'SELECT * FROM "{table}"'):
                out.append(repr(row).encode())
    out.append(relay.process.logs().encode())
    return b"\n".join(out)


def test_group_create_join_talk_remove_leave_close(
    relay, browser, screenshots: Path, tmp_path: Path
) -> None:
    publish_group_terms(relay.process, tmp_path)
    guard, contexts, worker, ana, ben = worker_with_group(relay, browser, GROUP)
    expect(worker.locator("nav").get_by_role("button", name=GROUP)).to_be_visible()
    link_a = group_invite(worker)
    link_b = group_invite(worker)
    assert link_a != link_b and "#g1." in link_a
    expect(worker.locator("#group-pending-invites li")).to_have_count(2)

    # The first client keeps the name the app proposes; the second chooses one.
    ana.goto(link_a)
    expect(ana.get_by_role("heading", name="Before you join the group")).to_be_visible(
        timeout=60_000
    )
    ana.screenshot(path=str(screenshots / "group-01-client-terms.png"), full_page=True)
    assert ana.evaluate(UNLABELLED) == []
    assert_accessible(ana, "client group terms")
    ana_name = join_group(ana, link_a, GROUP)
    join_group(ben, link_b, GROUP, name="Heron")
    for page in (worker, ana, ben):
        expect(page.locator("#group-members li")).to_have_count(3)
        assert members(page) == ["Facilitator", ana_name, "Heron"]
    expect(worker.locator("#group-pending-invites")).to_have_count(0)
    # A used link does not open again.
    spare = browser.new_context(viewport=PHONE).new_page()
    spare.goto(link_a)
    expect(spare.get_by_role("heading", name="This link cannot be used")).to_be_visible(
        timeout=60_000
    )
    spare.context.close()

    # Messages from every member reach every other; the sender sees them delivered.
    send(ana, "Hi everyone, first time here.")
    shows(worker, ana_name, "Hi everyone, first time here.")
    shows(ben, ana_name, "Hi everyone, first time here.")
    expect(ana.locator('.message.mine[data-state="delivered"]')).to_have_count(1)
    send(ben, "Welcome!")
    shows(ana, "Heron", "Welcome!")
    shows(worker, "Heron", "Welcome!")
    send(worker, "Glad you are both here.")
    shows(ana, "Facilitator", "Glad you are both here.")
    shows(ben, "Facilitator", "Glad you are both here.")
    # An attachment, uploaded once, opened by another member.
    worker.locator("#compose-file").set_input_files(
        files=[
            {"name": "agenda.txt", "mimeType": "text/plain", "buffer": b"check-in, share, close\n"}
        ]
    )
    save = ben.get_by_role("button", name="Save agenda.txt to this device")
    expect(save).to_be_visible()
    # A client is warned first that a saved file outlives quick exit.
    save.click()
    with ben.expect_download() as download:
        ben.get_by_role("button", name="Save it anyway").click()
    assert Path(download.value.path()).read_bytes() == b"check-in, share, close\n"
    # A disappearing timer set by one member applies to the others' messages too.
    ana.locator("#compose-timer").select_option(label="1 hour")
    expect(ben.locator("#compose-timer")).to_have_value("3600")
    # Members see names and roles only, and compare safety numbers on request.
    assert "identity" not in ana.locator("#group-members").inner_text().lower()
    ana.get_by_role("button", name="Compare safety number with Heron").click()
    ana_digits = ana.locator("#safety-digits").inner_text()
    ben.get_by_role("button", name=f"Compare safety number with {ana_name}").click()
    assert ben.locator("#safety-digits").inner_text() == ana_digits
    ana.get_by_role("button", name="Back to the conversation").click()
    ben.get_by_role("button", name="Back to the conversation").click()
    worker.screenshot(path=str(screenshots / "group-02-worker-group.png"), full_page=True)
    ana.screenshot(path=str(screenshots / "group-03-client-group.png"), full_page=True)
    assert worker.evaluate(UNLABELLED) == []
    assert ana.evaluate(UNLABELLED) == []

    # The worker's device goes offline (a reload locks it): the clients go on talking, and
    # the worker's sealed vault brings the group back with what was said meanwhile.
    worker.reload()
    expect(worker.get_by_role("heading", name="Confide is locked")).to_be_visible()
    send(ana, "Talking while the worker is away.")
    shows(ben, ana_name, "Talking while the worker is away.")
    worker.get_by_label("Passphrase").fill(PASSPHRASE)
    worker.get_by_role("button", name="Unlock").click()
    worker.locator("nav").get_by_role("button", name=GROUP).click()
    shows(worker, ana_name, "Talking while the worker is away.")
    shows(worker, "Heron", "Welcome!")

    # The worker removes Heron: everyone is told, and Heron receives nothing afterwards.
    worker.get_by_role("button", name="Remove Heron").click()
    expect(ben.locator("#group-gone")).to_have_text("You are no longer a member of this group.")
    expect(ana.get_by_text("Heron was removed from the group.")).to_be_visible()
    expect(ana.locator("#group-members li")).to_have_count(2)
    expect(ben.locator("#compose-text")).to_be_disabled()
    send(ana, "After Heron left.")
    shows(worker, ana_name, "After Heron left.")
    ben.wait_for_timeout(2000)
    expect(ben.get_by_text("After Heron left.")).to_have_count(0)
    ben.screenshot(path=str(screenshots / "group-04-client-removed.png"), full_page=True)
    assert_accessible(ben, "client group view, removed")
    # Quick exit works on a group page as on a one-to-one one.
    ben.locator("#quick-exit").click()
    expect(ben).to_have_title("Weather")

    # The other client leaves; the worker's device signs the change.
    ana.get_by_text("Leave the group", exact=True).first.click()
    ana.locator("#confirm-leave").check()
    ana.locator("#leave-group").click()
    expect(ana.get_by_role("heading", name="You left the group")).to_be_visible()
    assert_accessible(ana, "client left the group")
    expect(worker.get_by_text(f"{ana_name} left the group.")).to_be_visible()
    expect(worker.locator("#group-members li")).to_have_count(1)

    # Closing the group stops sending on the worker's side too.
    worker.get_by_text("Close the group", exact=True).click()
    worker.locator("#confirm-close-group").check()
    worker.locator("#close-group").click()
    expect(worker.locator("#group-gone")).to_have_text(
        "This group is closed: nothing more can be sent."
    )
    expect(worker.locator("#compose-text")).to_be_disabled()
    assert_accessible(worker, "worker group view, closed")

    # The relay learnt none of it: no group name, display name or group id in the clear.
    group_id = worker.locator("section[data-group]").get_attribute("data-group")
    assert group_id
    dump = relay_dump(relay)
    for secret in (GROUP, ana_name, "Heron", "Facilitator", group_id, "first time here"):
        assert secret.encode() not in dump, secret
    guard.assert_clean()
    for context in contexts:
        context.close()
