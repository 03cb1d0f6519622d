"""Calls in a real browser: two headless chromium contexts with fake cameras hold calls
through a real `confide serve` and a real coturn, peer to peer and forced through TURN, and
a relay that alters the signalling gets no call at all (docs/calls.md)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from call_support import accessibility, web_support
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = web_support.DESKTOP
PHONE = web_support.PHONE

# Test-only instrumentation, injected by Playwright (outside the page's CSP): it keeps every
# RTCPeerConnection the page makes, so the test can read getStats() as the browser sees it.
RECORD_PEER_CONNECTIONS = """(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
})();"""

# What the last peer connection's statistics say: decoded frames, received bytes, and the
# types of the selected candidate pair (host, prflx, srflx, relay).
CALL_STATS = """async () => {
  const pc = (window.__pcs || []).at(-1);
  if (!pc) return null;
  const all = new Map();
  (await pc.getStats()).forEach((s) => all.set(s.id, s));
  const out = { state: pc.connectionState, framesDecoded: 0, videoBytes: 0, audioBytes: 0 };
  for (const s of all.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.framesDecoded += s.framesDecoded || 0;
      out.videoBytes += s.bytesReceived || 0;
    }
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioBytes += s.bytesReceived || 0;
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      const pair = all.get(s.selectedCandidatePairId);
      out.local = all.get(pair.localCandidateId)?.candidateType;
      out.remote = all.get(pair.remoteCandidateId)?.candidateType;
    }
  }
  return out;
}"""

CODE = re.compile(r"\d{3} \d{3}")
# Candidate types of a path that goes straight between the two browsers (RFC 8445 §5.1.1).
DIRECT = {"host", "prflx", "srflx"}


def eventually(read: Callable[[], Any], holds: Callable[[Any], bool], page: Any) -> Any:
    """Reads until the condition holds, within a generous bound; returns the last reading."""
    value = read()
    for _ in range(120):
        if holds(value):
            return value
        page.wait_for_timeout(250)
        value = read()
    raise AssertionError(f"condition never held; last reading: {value}")


def stats(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(CALL_STATS) or {})


def media_flows(page: Any, counter: str, started: str = "framesDecoded") -> dict[str, Any]:
    """Waits for ``started`` to leave zero (decoded video frames, by default), then for
    ``counter`` to grow: media is arriving, not just arrived once. Returns the first stats."""
    first = eventually(lambda: stats(page), lambda s: s.get(started, 0) > 0, page)
    eventually(lambda: stats(page), lambda s: s[counter] > first[counter], page)
    return first


@dataclass
class Pair:
    worker: Any
    client: Any
    guard: Any
    contexts: list[Any]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def consented_pair(relay: Any, browser: Any, alias: str, client_route: Any = None) -> Pair:
    """A worker and a client with consent given, as in tests/web/test_flow.py."""
    contexts = []
    pages = []
    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport, permissions=["camera", "microphone"])
        context.add_init_script(RECORD_PEER_CONNECTIONS)
        contexts.append(context)
        pages.append(context.new_page())
    worker, client = pages
    guard = web_support.OriginGuard(relay.http_url, worker)
    guard.watch(client)
    if client_route is not None:
        client.route_web_socket(re.compile(r".*/v1/ws$"), client_route)
    worker.goto(relay.http_url + "/")
    web_support.enrol_worker(worker, relay.enrol_worker())
    link = web_support.create_invite(worker, alias)
    worker.get_by_role("button", name="Open the conversation").click()
    client.goto(link)
    expect(client.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    client.get_by_role("button", name="I agree").click()
    expect(client.get_by_role("heading", name="Your conversation")).to_be_visible()
    expect(worker.locator("#consent-state")).to_contain_text("Consent given")
    return Pair(worker, client, guard, contexts)


def call_state(page: Any, state: str, **kwargs: Any) -> None:
    expect(page.locator("#call")).to_have_attribute("data-state", state, **kwargs)


def test_video_call_peer_to_peer(relay, browser, screenshots: Path) -> None:
    pair = consented_pair(relay, browser, "Sam")
    worker, client = pair.worker, pair.client
    # Calls wait for consent like messages do; now both sides may start one.
    expect(worker.locator("#start-video-call")).to_be_enabled()
    expect(client.locator("#start-video-call")).to_be_enabled()

    worker.locator("#start-video-call").click()

    # The worker's checklist before a call (a private room, headphones, no names).

    worker.locator("#checklist-go").click()
    call_state(worker, "ringing")
    expect(worker.locator("#call-status")).to_have_text("Calling Sam…")
    call_state(client, "incoming")
    expect(client.locator("#call-status")).to_have_text("Your peer worker is calling you.")
    client.screenshot(path=str(screenshots / "call-01-client-ringing.png"), full_page=True)
    assert client.evaluate(web_support.UNLABELLED) == []
    accessibility.assert_accessible(worker, "call, ringing")
    accessibility.assert_accessible(client, "call, incoming")
    client.get_by_role("button", name="Accept").click()

    call_state(worker, "connected")
    call_state(client, "connected")
    worker_code = worker.locator("#call-code strong").inner_text()
    assert CODE.fullmatch(worker_code)
    assert client.locator("#call-code strong").inner_text() == worker_code

    # Media flows both ways: video frames decoded and audio bytes still arriving on each side.
    for page in (worker, client):
        first = eventually(lambda p=page: stats(p), lambda s: s.get("framesDecoded", 0) > 0, page)
        eventually(
            lambda p=page: stats(p), lambda s, f=first: s["audioBytes"] > f["audioBytes"], page
        )
        # Peer to peer: no end of the selected pair is a TURN relay. The remote end may be
        # "prflx" rather than "host" when the peer's connectivity check arrives before its
        # trickled candidate does; that is still the browsers' own, direct path.
        assert first["local"] in DIRECT and first["remote"] in DIRECT, first
    assert worker.evaluate(web_support.UNLABELLED) == []
    accessibility.assert_accessible(worker, "call, connected")
    accessibility.assert_accessible(client, "call, connected")
    worker.screenshot(path=str(screenshots / "call-02-worker-connected.png"), full_page=True)
    client.screenshot(path=str(screenshots / "call-03-client-connected.png"), full_page=True)

    # Muting and the camera are shown to the other side; the button keeps the focus while
    # the conversation below redraws.
    client.locator("#call-mute").click()
    expect(client.locator("#call-mute")).to_have_attribute("aria-pressed", "true")
    expect(client.locator("#call-mute")).to_be_focused()
    expect(worker.locator("#call-peer-state")).to_contain_text("Sam muted their microphone.")
    client.locator("#call-camera").click()
    expect(worker.locator("#call-peer-state")).to_contain_text("Sam's camera is off.")
    expect(client.locator("#call-local")).to_be_hidden()
    client.locator("#call-mute").click()
    expect(worker.locator("#call-peer-state")).not_to_contain_text("muted")

    # Hanging up ends the call on both screens and in both conversations.
    worker.locator("#call-hangup").click()
    call_state(worker, "ended")
    expect(worker.locator("#call-status")).to_have_text("The call ended: you hung up.")
    call_state(client, "ended")
    expect(client.locator("#call-status")).to_have_text("The call ended: your peer worker hung up.")
    assert client.evaluate("window.__pcs[0].connectionState") == "closed"
    expect(worker.locator(".message.system", has_text="Video call")).to_have_count(1)
    client.screenshot(path=str(screenshots / "call-04-client-ended.png"), full_page=True)
    accessibility.assert_accessible(client, "call, ended")
    worker.locator("#call-close").click()
    expect(worker.locator("#call")).to_have_count(0)
    pair.guard.assert_clean()
    pair.close()


def test_waiting_room_and_relay_only_call(relay_only, browser, screenshots: Path) -> None:
    pair = consented_pair(relay_only, browser, "Jo")
    worker, client = pair.worker, pair.client

    # The client asks; the call waits until the worker admits it. Until then neither
    # browser has made a peer connection, so nothing about either network has been shared.
    client.locator("#start-video-call").click()
    call_state(client, "ringing")
    expect(client.locator("#call-status")).to_have_text(
        "Waiting for your peer worker to let you in…"
    )
    call_state(worker, "incoming")
    expect(worker.locator("#call-status")).to_contain_text("Jo is in the waiting room.")
    assert worker.evaluate("window.__pcs.length") == 0
    assert client.evaluate("window.__pcs.length") == 0
    worker.screenshot(path=str(screenshots / "call-05-worker-waiting-room.png"), full_page=True)
    client.screenshot(path=str(screenshots / "call-06-client-waiting-room.png"), full_page=True)
    worker.get_by_role("button", name="Admit").click()
    # The worker's checklist before a call (a private room, headphones, no names).
    worker.locator("#checklist-go").click()

    call_state(worker, "connected")
    call_state(client, "connected")
    assert (
        worker.locator("#call-code strong").inner_text()
        == client.locator("#call-code strong").inner_text()
    )
    for page in (worker, client):
        first = eventually(lambda p=page: stats(p), lambda s: s.get("framesDecoded", 0) > 0, page)
        eventually(
            lambda p=page: stats(p), lambda s, f=first: s["videoBytes"] > f["videoBytes"], page
        )
        # Relay-only ICE: media goes through coturn, so neither side sees the other's address.
        assert first["local"] == "relay" and first["remote"] == "relay", first

    # The client's tab closes: the worker's call ends and says so.
    client.close(run_before_unload=True)
    call_state(worker, "ended")
    expect(worker.locator("#call-status")).to_have_text(
        re.compile("Jo closed the page|the connection was lost")
    )
    worker.screenshot(path=str(screenshots / "call-07-worker-tab-closed.png"), full_page=True)
    pair.guard.assert_clean()
    pair.close()


def test_voice_call_ends_when_the_network_drops(relay_with_own_turn, browser) -> None:
    relay, drop_network = relay_with_own_turn
    pair = consented_pair(relay, browser, "Lee")
    worker, client = pair.worker, pair.client
    client.locator("#start-voice-call").click()
    worker.get_by_role("button", name="Admit").click()
    # The worker's checklist before a call (a private room, headphones, no names).
    worker.locator("#checklist-go").click()
    call_state(worker, "connected")
    call_state(client, "connected")
    expect(client.locator("#call-remote")).to_be_hidden()
    for page in (worker, client):
        first = eventually(lambda p=page: stats(p), lambda s: s.get("audioBytes", 0) > 0, page)
        eventually(
            lambda p=page: stats(p), lambda s, f=first: s["audioBytes"] > f["audioBytes"], page
        )
        assert first["local"] == "relay", first

    # Every packet of this call goes through coturn; stopping it is the network going away.
    drop_network()
    for page in (worker, client):
        call_state(page, "ended", timeout=90_000)
        expect(page.locator("#call-status")).to_have_text(
            "The call ended: the connection was lost."
        )
    expect(client.locator(".message.system", has_text="Voice call")).to_have_count(1)
    pair.close()


class Tamper:
    """Stands in for a relay that alters what it delivers: while on, every envelope frame
    sent to the page has one byte of its ciphertext changed."""

    def __init__(self) -> None:
        self.on = False
        self.altered = 0

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)
        server.on_message(lambda message: ws.send(self._alter(message)))

    def _alter(self, message: str | bytes) -> str | bytes:
        if not self.on or not isinstance(message, str):
            return message
        frame = json.loads(message)
        if frame.get("type") != "envelope":
            return message
        body = bytearray(base64.urlsafe_b64decode(frame["body"] + "=" * (-len(frame["body"]) % 4)))
        body[len(body) // 2] ^= 0x01
        frame["body"] = base64.urlsafe_b64encode(bytes(body)).rstrip(b"=").decode()
        self.altered += 1
        return json.dumps(frame)


def test_altered_signalling_breaks_call_setup(relay, browser, screenshots: Path) -> None:
    tamper = Tamper()
    pair = consented_pair(relay, browser, "Alex", client_route=tamper.route)
    worker, client = pair.worker, pair.client

    worker.locator("#start-voice-call").click()

    # The worker's checklist before a call (a private room, headphones, no names).

    worker.locator("#checklist-go").click()
    call_state(client, "incoming")
    # From here on the "relay" alters everything it hands the client: the worker's offer and
    # ICE candidates. The end-to-end layer refuses them, so no description is ever applied.
    tamper.on = True
    client.get_by_role("button", name="Accept").click()
    call_state(worker, "ended", timeout=60_000)
    call_state(client, "ended", timeout=60_000)
    assert tamper.altered > 0
    expect(worker.locator("#call-status")).to_have_text("The call could not connect.")
    expect(client.locator("#call-status")).to_have_text("The call could not connect.")
    assert client.evaluate("window.__pcs[0].remoteDescription") is None
    client.screenshot(path=str(screenshots / "call-08-client-tampered.png"), full_page=True)

    # The conversation itself survives: once the relay stops meddling, messages flow again.
    tamper.on = False
    worker.locator("#call-close").click()
    worker.locator("#compose-text").fill("Shall we try again later?")
    worker.locator("#compose-text").press("Enter")
    expect(client.get_by_text("Shall we try again later?")).to_be_visible()
    pair.close()
