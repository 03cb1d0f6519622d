"""Steps in the web app's groups that several browser tests take (tests/web/test_groups.py,
tests/calls/test_group_call_browser.py), importable by name like web_support."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from web_support import DESKTOP, PHONE, OriginGuard, enrol_worker

GROUP_TERMS = (
    "Riverside peer support groups.\n\n"
    "Everyone in the group reads what you write to the group, under the name you choose. "
    "Our workers keep what is said confidential, within the limits of our policy; other "
    "members are asked to, but we cannot promise that they will.\n\n"
    "You may leave the group at any time."
)

DEFAULT_NAME = re.compile(r"^Member \d{3}$")


def publish_group_terms(process: Any, workdir: Path, text: str = GROUP_TERMS) -> None:
    """The organisation's group terms, published with the relay's CLI."""
    path = workdir / "group-terms.txt"
    path.write_text(text, encoding="utf-8")
    process.cli("publish-group-terms", "--file", str(path))


def create_group(page: Any, name: str, my_name: str = "Facilitator") -> None:
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Group name (only members see it)").fill(name)
    page.get_by_label("Your name in this group").fill(my_name)
    page.get_by_role("button", name="Create the group").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def worker_with_group(relay: Any, browser: Any, group: str, clients: int = 2) -> tuple[Any, ...]:
    """A worker (desktop) enrolled with `group` created, and `clients` phone pages, each in
    a context of its own, all watched by one OriginGuard: (guard, contexts, worker, *clients)."""
    contexts = [browser.new_context(viewport=v) for v in (DESKTOP, *[PHONE] * clients)]
    pages = [c.new_page() for c in contexts]
    guard = OriginGuard(relay.url, pages[0])
    for page in pages[1:]:
        guard.watch(page)
    pages[0].goto(relay.url + "/")
    enrol_worker(pages[0], relay.enrolment_code())
    create_group(pages[0], group)
    return (guard, contexts, *pages)


def group_invite(page: Any) -> str:
    """A fresh single-use group invite link, from the group's screen (and back to it)."""
    page.get_by_role("button", name="Create a group invite link").click()
    link = page.locator("#group-invite-link")
    expect(link).to_contain_text("/join#g1.")
    text = str(link.inner_text()).strip()
    page.get_by_role("button", name="Back to the group").click()
    return text


def join_group(page: Any, link: str, group: str, name: str | None = None) -> str:
    """A client opens a group link, reads the terms, keeps or sets a display name and
    agrees; returns the display name. The worker's device must be online to add them."""
    page.goto(link)
    expect(page.get_by_role("heading", name="Before you join the group")).to_be_visible(
        timeout=60_000
    )
    expect(page.locator("#group-terms-text")).to_contain_text("Everyone in the group reads")
    field = page.get_by_label("The name others in the group will see")
    proposed = str(field.input_value())
    assert DEFAULT_NAME.match(proposed), proposed
    if name is not None:
        field.fill(name)
    page.get_by_role("button", name="I agree and join").click()
    expect(page.get_by_role("heading", name=group)).to_be_visible(timeout=60_000)
    return name or proposed


def members(page: Any) -> list[str]:
    return [
        str(n)
        for n in page.locator("#group-members li").evaluate_all(
            "items => items.map((li) => li.dataset.memberName)"
        )
    ]


def send(page: Any, text: str) -> None:
    page.locator("#compose-text").fill(text)
    page.locator("#compose-text").press("Enter")


def shows(page: Any, sender: str, text: str) -> None:
    expect(page.locator(f'.message[aria-label="{sender}: {text}"]')).to_be_visible()
