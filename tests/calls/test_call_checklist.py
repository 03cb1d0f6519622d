"""The worker's checklist before a call (issue 17): one screen, before every call the worker
starts or admits, naming a private room, headphones and no names on the call. "Not now"
sends nothing; the organisation's own wording, per language, replaces the app's."""

from __future__ import annotations

from pathlib import Path

import pytest
from call_support import accessibility
from playwright.sync_api import expect
from test_calls_browser import call_state, consented_pair

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_worker_goes_through_the_checklist_before_a_call(
    relay, browser, screenshots: Path, tmp_path: Path
) -> None:
    pair = consented_pair(relay, browser, "Sam")
    worker, client = pair.worker, pair.client

    # The app's own wording first.
    worker.locator("#start-voice-call").click()
    checklist = worker.locator("#call-checklist")
    expect(checklist).to_be_visible()
    expect(checklist.get_by_role("heading", name="Before the call")).to_be_visible()
    for words in ("private room", "Headphones", "No names"):
        expect(checklist).to_contain_text(words)
    expect(worker.locator("#checklist-go")).to_be_focused()
    accessibility.assert_accessible(worker, "call checklist")
    worker.screenshot(path=str(screenshots / "call-00-worker-checklist.png"), full_page=True)
    worker.get_by_role("button", name="Not now").click()
    expect(checklist).to_have_count(0)
    # Nothing rang: no call screen on either side.
    expect(worker.locator("#call")).to_have_count(0)
    expect(client.locator("#call")).to_have_count(0)
    # Escape is "not now" too.
    worker.locator("#start-voice-call").click()
    expect(checklist).to_be_visible()
    worker.keyboard.press("Escape")
    expect(checklist).to_have_count(0)
    expect(worker.locator("#call")).to_have_count(0)

    # The organisation's wording, in the language the worker chose.
    text = tmp_path / "checklist.txt"
    text.write_text("Puerta cerrada.\nAuriculares puestos.\n", encoding="utf-8")
    relay.cli("texts", "set", "call_checklist", "es", "--file", str(text))
    worker.reload()
    worker.get_by_label("Passphrase").fill("a long worker passphrase")
    worker.get_by_role("button", name="Unlock").click()
    worker.locator('nav button[data-alias="Sam"]').click()
    worker.locator("#worker-language").select_option("es")
    worker.locator("#start-voice-call").click()
    expect(checklist.locator("li")).to_have_text(["Puerta cerrada.", "Auriculares puestos."])
    accessibility.assert_accessible(worker, "call checklist in Spanish")
    worker.get_by_role("button", name="Empezar la llamada de voz").click()
    call_state(worker, "ringing")
    call_state(client, "incoming")
    worker.locator("#call-hangup").click()
    call_state(worker, "ended")
    pair.guard.assert_clean()
