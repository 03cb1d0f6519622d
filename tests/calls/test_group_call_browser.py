"""A three-participant group video call in real browsers through a real coturn (issue 18,
docs/calls.md "Group calls"): a worker and two clients of one group, each in its own
chromium context with a fake camera. The worker starts the call, each client waits in the
waiting room until the worker admits them (no peer connection before), the three form a
full mesh, decode each other's video, read the same call code, and see the mesh shrink
when one leaves. The relay does not force TURN (CONFIDE_TURN_RELAY_ONLY is off), yet every
link goes through coturn: members must not learn each other's addresses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from call_support import WEB_TESTS, _load, accessibility, web_support
from playwright.sync_api import expect
from test_calls_browser import RECORD_PEER_CONNECTIONS, eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

group_support = _load("group_support", WEB_TESTS / "group_support.py")

GROUP = "Thursday check-in"
CODE = re.compile(r"\d{3} \d{3}")

# Every open peer connection's view: decoded video frames, received bytes and the selected
# candidate pair's types, one entry per connection.
MESH_STATS = """async () => {
  const out = [];
  for (const pc of (window.__pcs || []).filter((p) => p.connectionState !== 'closed')) {
    const all = new Map();
    (await pc.getStats()).forEach((s) => all.set(s.id, s));
    const one = { state: pc.connectionState, framesDecoded: 0, videoBytes: 0 };
    for (const s of all.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        one.framesDecoded += s.framesDecoded || 0;
        one.videoBytes += s.bytesReceived || 0;
      }
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = all.get(s.selectedCandidatePairId);
        one.local = all.get(pair.localCandidateId)?.candidateType;
        one.remote = all.get(pair.remoteCandidateId)?.candidateType;
      }
    }
    out.push(one);
  }
  return out;
}"""


def mesh(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(MESH_STATS) or [])


def video_flows_on_every_link(page: Any, links: int) -> list[dict[str, Any]]:
    first = eventually(
        lambda: mesh(page),
        lambda s: len(s) == links and all(x["framesDecoded"] > 0 for x in s),
        page,
    )
    eventually(
        lambda: mesh(page),
        lambda s: (
            len(s) == links
            and sum(x["videoBytes"] for x in s) > sum(x["videoBytes"] for x in first)
        ),
        page,
    )
    return first


def call_state(page: Any, state: str, **kwargs: Any) -> None:
    expect(page.locator("#call")).to_have_attribute("data-state", state, **kwargs)


def test_three_participant_video_call_through_coturn(
    relay, browser, screenshots: Path, tmp_path: Path
) -> None:
    group_support.publish_group_terms(relay, tmp_path)
    contexts = []
    pages = []
    for viewport in (web_support.DESKTOP, web_support.PHONE, web_support.PHONE):
        context = browser.new_context(viewport=viewport, permissions=["camera", "microphone"])
        context.add_init_script(RECORD_PEER_CONNECTIONS)
        contexts.append(context)
        pages.append(context.new_page())
    worker, ana, ben = pages
    guard = web_support.OriginGuard(relay.http_url, worker)
    guard.watch(ana)
    guard.watch(ben)
    worker.goto(relay.http_url + "/")
    web_support.enrol_worker(worker, relay.enrol_worker())
    group_support.create_group(worker, GROUP)
    links = [group_support.group_invite(worker), group_support.group_invite(worker)]
    group_support.join_group(ana, links[0], GROUP, name="Wren")
    group_support.join_group(ben, links[1], GROUP, name="Finch")
    for page in pages:
        expect(page.locator("#group-members li")).to_have_count(3)

    # The worker starts the call; the clients see it and may ask to join.
    worker.locator("#start-group-video-call").click()
    # The worker's checklist before a call (a private room, headphones, no names), as before
    # a one-to-one call.
    expect(worker.locator("#call-checklist")).to_be_visible()
    worker.locator("#checklist-go").click()
    call_state(worker, "in-call")
    expect(worker.locator("#call-status")).to_have_text(
        "You are in the call. Waiting for others to join…"
    )
    for page in (ana, ben):
        call_state(page, "available")
        expect(page.locator("#call-join")).to_have_text("Ask to join the call")

    # Wren waits in the waiting room; nothing about anyone's network is shared before the
    # worker admits her.
    ana.locator("#call-join").click()
    call_state(ana, "waiting")
    expect(ana.locator("#call-status")).to_have_text(
        "You are in the waiting room. A peer worker will let you in."
    )
    expect(worker.locator("#call-waiting-room")).to_contain_text("Wren is in the waiting room.")
    assert ana.evaluate("window.__pcs.length") == 0
    ana.screenshot(path=str(screenshots / "group-call-01-client-waiting.png"), full_page=True)
    worker.screenshot(
        path=str(screenshots / "group-call-02-worker-waiting-room.png"), full_page=True
    )
    assert worker.evaluate(web_support.UNLABELLED) == []
    accessibility.assert_accessible(ana, "group call waiting room (client)")
    accessibility.assert_accessible(worker, "group call waiting room (worker)")
    worker.get_by_role("button", name="Admit Wren").click()
    call_state(ana, "in-call")
    expect(worker.locator("#call")).to_have_attribute("data-participants", "2")

    # Finch asks too; once admitted the mesh is complete: everyone has two links.
    ben.locator("#call-join").click()
    call_state(ben, "waiting")
    assert ben.evaluate("window.__pcs.length") == 0
    worker.get_by_role("button", name="Admit Finch").click()
    for page in pages:
        expect(page.locator("#call")).to_have_attribute("data-participants", "3")
        expect(page.locator('#call .tile[data-state="connected"]')).to_have_count(2, timeout=60_000)
        expect(page.locator("#call-status")).to_have_text(
            "You and 2 other people. The call is end-to-end encrypted."
        )

    # Video arrives on every link of every page, through coturn only, although the relay
    # would let a one-to-one call go direct.
    for page in pages:
        for link in video_flows_on_every_link(page, 2):
            assert link["local"] == "relay" and link["remote"] == "relay", link

    # One code for the whole call, the same on the three screens; and per pair, the code
    # two people read to each other is the same on both their screens.
    codes = [page.locator("#call-group-code").inner_text() for page in pages]
    assert CODE.fullmatch(codes[0]) and codes == [codes[0]] * 3, codes
    pair = {}
    for page in pages:
        for item in page.locator("#call-pair-codes li").all():
            pair[(page, item.get_attribute("data-name"))] = item.locator("strong").text_content()
    assert pair[(worker, "Wren")] == pair[(ana, "Facilitator")]
    assert pair[(ana, "Finch")] == pair[(ben, "Wren")]
    assert pair[(worker, "Finch")] == pair[(ben, "Facilitator")]
    for page in pages:
        assert page.evaluate(web_support.UNLABELLED) == []
    accessibility.assert_accessible(worker, "group call of three (worker)")
    accessibility.assert_accessible(ben, "group call of three (client)")
    worker.screenshot(path=str(screenshots / "group-call-03-worker-three.png"), full_page=True)
    ben.screenshot(path=str(screenshots / "group-call-04-client-three.png"), full_page=True)

    # Muting is shown to the others by name.
    ana.locator("#call-mute").click()
    expect(worker.locator("#call")).to_contain_text("Wren muted their microphone.")
    expect(ben.locator("#call")).to_contain_text("Wren muted their microphone.")

    # Finch leaves: the others keep their call with one link each, and a new code.
    ben.locator("#call-hangup").click()
    call_state(ben, "ended")
    expect(ben.locator("#call-status")).to_have_text("You left the call.")
    for page in (worker, ana):
        expect(page.locator("#call")).to_have_attribute("data-participants", "2")
    assert (
        worker.locator("#call-group-code").inner_text()
        == ana.locator("#call-group-code").inner_text()
    )
    assert worker.locator("#call-group-code").inner_text() != codes[0]
    expect(ben.locator(".message.system", has_text="Group video call")).to_have_count(1)
    guard.assert_clean()
    for context in contexts:
        context.close()
