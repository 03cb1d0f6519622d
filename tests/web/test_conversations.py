"""Issue 17, Conversations: a worker's list for a working day (time of last activity, newest
first, a search by alias that stays on the device, archiving), a phone where opening a
conversation shows it, line breaks kept in both apps, and a disappearing timer announced to
both sides with each message saying when it goes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import PHONE, create_invite, join_client, open_conversation, open_worker_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _send(page: Any, text: str) -> None:
    page.locator("#compose-text").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


ORDER = """() => [...document.querySelectorAll('#conversation-list li:not([hidden]) button')]
  .map((b) => b.dataset.alias)"""


def _expect_order(worker: Any, aliases: list[str]) -> None:
    """The list shows these conversations in this order (waiting for the redraw)."""
    try:
        worker.wait_for_function(
            f"(want) => JSON.stringify(({ORDER})()) === JSON.stringify(want)",
            arg=aliases,
            timeout=15_000,
        )
    except Exception as err:
        raise AssertionError(f"list is {worker.evaluate(ORDER)}, expected {aliases}") from err


def test_the_list_sorts_searches_and_archives(relay, browser, screenshots: Path) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    clients = {}
    for alias in ("Ana", "José"):
        clients[alias] = join_client(browser, guard, create_invite(worker, alias))
        open_conversation(worker, alias)
        expect(worker.locator("#consent-state")).to_contain_text("Consent given")

    # The newest activity comes first, with its time.
    clients["Ana"].locator("#compose-text").fill("Are you free later?")
    clients["Ana"].locator("#compose-text").press("Enter")
    expect(worker.locator('button[data-alias="Ana"]')).to_contain_text("1 new")
    _expect_order(worker, ["Ana", "José"])
    clients["José"].locator("#compose-text").fill("Thanks for today")
    clients["José"].locator("#compose-text").press("Enter")
    expect(worker.get_by_text("Thanks for today")).to_be_visible()  # José's is open
    _expect_order(worker, ["José", "Ana"])
    when = worker.locator('button[data-alias="José"] time')
    expect(when).to_have_text(re.compile("now|this minute|minute ago"))
    assert when.get_attribute("datetime")

    # The search runs on the device: no request while typing, accents and case ignored.
    requests: list[str] = []
    worker.on("request", lambda r: requests.append(r.url))
    search = worker.get_by_label("Search by name (on this device only)")
    search.fill("jose")
    _expect_order(worker, ["José"])
    search.fill("xyz")
    expect(worker.locator("#search-none")).to_be_visible()
    search.fill("")
    _expect_order(worker, ["José", "Ana"])
    assert requests == [], requests

    # Archiving moves a conversation out of the list; it can be found and moved back.
    open_conversation(worker, "José")
    worker.get_by_role("button", name="Archive").click()
    _expect_order(worker, ["Ana"])
    archived = worker.locator("#archived-conversations")
    expect(archived.locator("summary")).to_have_text("Archived (1)")
    search.fill("JOS")
    expect(archived.locator('button[data-alias="José"]')).to_be_visible()
    archived.locator('button[data-alias="José"]').click()
    worker.get_by_role("button", name="Move back to the list").click()
    search.fill("")
    _expect_order(worker, ["José", "Ana"])
    expect(worker.locator("#archived-conversations")).to_have_count(0)
    # And a client who writes to an archived conversation brings it back.
    open_conversation(worker, "Ana")
    worker.get_by_role("button", name="Archive").click()
    _expect_order(worker, ["José"])
    clients["Ana"].locator("#compose-text").fill("One more thing")
    clients["Ana"].locator("#compose-text").press("Enter")
    expect(worker.locator('#conversation-list button[data-alias="Ana"]')).to_be_visible()
    _expect_order(worker, ["Ana", "José"])
    worker.screenshot(path=str(screenshots / "60-worker-list-desktop.png"), full_page=True)

    guard.assert_clean()
    for page in clients.values():
        page.context.close()
    context.close()


def test_on_a_phone_opening_a_conversation_shows_it(relay, browser, screenshots: Path) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    worker.set_viewport_size(PHONE)
    client = join_client(browser, guard, create_invite(worker, "Noor"))
    client.locator("#compose-text").fill("Thanks for today")
    client.locator("#compose-text").press("Enter")
    # The invite's view fills the phone and leads back to the list (before issue 17 the list
    # was always there, above whatever view was open).
    back = worker.get_by_role("button", name="← All conversations")
    if back.count():
        back.click()
    expect(worker.get_by_role("heading", name="Conversations")).to_be_in_viewport()
    worker.locator('button[data-alias="Noor"]').click()
    # The conversation fills the screen: not the list with the conversation somewhere below.
    expect(worker.get_by_role("heading", name="Noor")).to_be_in_viewport()
    expect(worker.get_by_role("heading", name="Conversations")).not_to_be_visible()
    expect(worker.get_by_text("Thanks for today")).to_be_in_viewport()
    worker.screenshot(path=str(screenshots / "61-worker-conversation-phone.png"))
    worker.get_by_role("button", name="← All conversations").click()
    expect(worker.locator('button[data-alias="Noor"]')).to_be_in_viewport()
    worker.screenshot(path=str(screenshots / "62-worker-list-phone.png"))
    guard.assert_clean()
    client.context.close()
    context.close()


def test_line_breaks_are_kept_both_ways(relay, browser) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    client = join_client(browser, guard, create_invite(worker, "Sam"))
    open_conversation(worker, "Sam")
    expect(worker.locator("#consent-state")).to_contain_text("Consent given")

    # Line breaks survive the trip, both ways (Shift+Enter in the composer).
    _send(worker, "First, breathe.\nThen call me.")
    text = client.locator(".message .text", has_text="First, breathe.")
    expect(text).to_be_visible()
    assert text.inner_text() == "First, breathe.\nThen call me."
    assert worker.locator(".message.mine .text").inner_text() == "First, breathe.\nThen call me."
    compose = client.locator("#compose-text")
    compose.type("Okay")
    compose.press("Shift+Enter")
    compose.type("I will")
    compose.press("Enter")
    got = worker.locator(".message .text", has_text="Okay")
    expect(got).to_be_visible()
    assert got.inner_text() == "Okay\nI will"
    guard.assert_clean()
    client.context.close()
    context.close()


def test_a_timer_change_is_announced_and_messages_say_when_they_go(
    relay, browser, screenshots: Path
) -> None:
    context, worker, guard = open_worker_app(browser, relay)
    client = join_client(browser, guard, create_invite(worker, "Sam"))
    open_conversation(worker, "Sam")
    expect(worker.locator("#consent-state")).to_contain_text("Consent given")

    worker.get_by_label("Disappearing messages").select_option("86400")
    notice = "Messages now disappear after 1 day."
    expect(worker.locator(".message.system", has_text=notice)).to_have_count(1)
    expect(client.locator(".message.system", has_text=notice)).to_have_count(1)
    expect(client.get_by_label("Disappearing messages")).to_have_value("86400")
    _send(worker, "This one goes tomorrow.")
    fading = client.locator(".message", has_text="This one goes tomorrow.")
    expect(fading.locator(".meta time")).to_have_text(re.compile(r"disappears (tomorrow|in 1 day)"))
    client.get_by_label("Disappearing messages").select_option("0")
    off = "Messages no longer disappear."
    expect(worker.locator(".message.system", has_text=off)).to_have_count(1)
    expect(client.locator(".message.system", has_text=off)).to_have_count(1)
    client.screenshot(path=str(screenshots / "63-client-timer-changes.png"), full_page=True)

    guard.assert_clean()
    client.context.close()
    context.close()
