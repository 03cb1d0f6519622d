"""Consultation in real browsers: a worker asks a supervisor about a client, de-identified.

The worker picks messages from a conversation with a client whose alias and noted names
appear in them, reviews the draft (undoes and redoes a redaction, hides one more term) and
sends; the supervisor replies from the consultations inbox; the reply shows under the right
conversation. Then everything the supervisor's browser stored (its vault, opened with its
passphrase, and local and session storage) and received (WebSocket frames, HTTP bodies)
is searched for the client's alias, names, conversation key, device id and identity key;
and the relay's database holds only staff mailboxes as the consultation's destinations.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from accessibility import assert_accessible
from confide_client.client import ConfideClient
from confide_client.messages import Consultation
from confide_client.transport.http import HttpTransport
from confide_crypto.keystore import open_store
from playwright.sync_api import expect
from web_support import (
    DESKTOP,
    PASSPHRASE,
    UNLABELLED,
    LoopThread,
    OriginGuard,
    create_invite,
    enrol_worker,
    join_client,
    open_conversation,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ALIAS, NOTED = "Maria Lopez", "Marisol"
FROM_CLIENT = [
    "Hi, it's Maria. My new number is 555-201-7788, text me there",
    "Marisol is what my family calls me. I'm scared about court",
]
REPLY = "Keep it in Confide and explain why, kindly."

READ_VAULT = """async () => {
  const db = await new Promise((ok, bad) => {
    const r = indexedDB.open("confide-worker", 1);
    r.onsuccess = () => ok(r.result);
    r.onerror = bad;
  });
  const value = await new Promise((ok, bad) => {
    const r = db.transaction("kv").objectStore("kv").get("vault");
    r.onsuccess = () => ok(r.result);
    r.onerror = bad;
  });
  db.close();
  return Array.from(value);
}"""
STORAGE = "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"


class Received:
    """Everything a page receives over its WebSocket and in HTTP response bodies."""

    def __init__(self, page: Any) -> None:
        self.frames: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []
        page.on("websocket", self._socket)
        page.on("response", self._response)

    def _socket(self, socket: Any) -> None:
        socket.on(
            "framereceived", lambda p: self.frames.append(p if isinstance(p, str) else p.hex())
        )
        socket.on("framesent", self._sent)

    def _received(self, payload: str | bytes) -> None:
        self.frames.append(payload if isinstance(payload, str) else payload.hex())

    def _sent(self, payload: str | bytes) -> None:
        frame = json.loads(payload)
        if frame.get("type") == "send":
            self.sent.append(frame)

    def _response(self, response: Any) -> None:
        # A redirect or a WebSocket upgrade has no body to read.
        with contextlib.suppress(Exception):
            self.bodies.append(response.body())

    def text(self) -> str:
        return "\n".join(self.frames) + "\n".join(b.decode("latin-1") for b in self.bodies)


def _vault(page: Any) -> dict[str, Any]:
    sealed = bytes(page.evaluate(READ_VAULT))
    return json.loads(open_store(sealed, PASSPHRASE).contents)


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _worker_with_client(relay: Any, browser: Any, worker: Any, guard: OriginGuard) -> Any:
    """A web worker and a client who consented and wrote FROM_CLIENT; returns the client."""
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    client = join_client(browser, guard, create_invite(worker, ALIAS))
    open_conversation(worker, ALIAS)
    expect(worker.locator("#consent-state")).to_contain_text("Consent given", timeout=30_000)
    for text in FROM_CLIENT:
        client.locator("#compose-text").fill(text)
        client.locator("#compose-text").press("Enter")
        expect(worker.get_by_text(text)).to_be_visible()
    return client


def _prepare(worker: Any, supervisor_device: str) -> None:
    """Ask: choose the supervisor and the messages, note a name, prepare the draft."""
    worker.get_by_role("button", name="Ask a supervisor").click()
    expect(
        worker.locator(f'#consult-supervisor option[value="{supervisor_device}"]')
    ).to_have_count(1)
    worker.locator("#consult-supervisor").select_option(value=supervisor_device)
    worker.get_by_label("Your question").fill("Maria wants me to text another phone. Is that OK?")
    for text in FROM_CLIENT:
        worker.get_by_label(f"Them: {text}").check()
    worker.get_by_label("Other names they go by").fill(NOTED)
    worker.get_by_role("button", name="Prepare draft").click()


def test_consultation_keeps_the_client_from_the_supervisor(
    relay: Any, browser: Any, screenshots: Path
) -> None:
    supervisor = browser.new_context(viewport=DESKTOP).new_page()
    seen = Received(supervisor)
    guard = OriginGuard(relay.url, supervisor)
    supervisor.goto(relay.url + "/")
    enrol_worker(supervisor, relay.process.enrol_worker("supervisor"))
    supervisor.get_by_role("button", name="Consultations").click()
    expect(supervisor.get_by_text("No consultations.")).to_be_visible()

    supervisor_device = _vault(supervisor)["deviceId"]
    worker = browser.new_context(viewport=DESKTOP).new_page()
    worker_sent = Received(worker)
    guard.watch(worker)
    _worker_with_client(relay, browser, worker, guard)
    _prepare(worker, supervisor_device)
    draft = worker.locator("#consult-draft")
    expect(draft).to_contain_text("[client] wants me to text another phone")
    assert worker.evaluate(UNLABELLED) == []
    for secret in ["Maria", NOTED, "555-201-7788"]:
        expect(draft).not_to_contain_text(secret)
    phone = draft.locator('button.redaction[data-kind="phone"]')
    phone.click()
    expect(draft).to_contain_text("555-201-7788")
    draft.locator('button.redaction[data-kind="phone"]').click()
    expect(draft).not_to_contain_text("555-201-7788")
    worker.get_by_label("Also hide").fill("court")
    worker.get_by_role("button", name="Hide", exact=True).click()
    expect(draft).to_contain_text("scared about [redacted]")
    # In Spanish the tokens and their descriptions are Spanish too (what is sent is what is
    # shown); the review keeps every choice across the switch.
    worker.locator("#worker-language").select_option("es")
    expect(draft).to_contain_text("[cliente] wants me to text another phone")
    expect(draft).to_contain_text("scared about [oculto]")
    expect(draft.locator('button.redaction[data-kind="phone"]')).to_have_text("[teléfono]")
    expect(draft.locator('button.redaction[data-kind="phone"]')).to_have_attribute(
        "title", "Dato oculto (número de teléfono): pulsa para mostrarlo tal como se escribió"
    )
    assert "[client]" not in draft.inner_text()
    worker.locator("#worker-language").select_option("en")
    expect(draft).to_contain_text("[client] wants me to text another phone")
    assert_accessible(worker, "consultation draft")
    sent_text = draft.inner_text()
    worker.screenshot(path=str(screenshots / "60-consult-review.png"), full_page=True)
    worker.get_by_role("button", name="Send to supervisor").click()
    expect(worker.get_by_role("heading", name=ALIAS)).to_be_visible()

    # The supervisor's inbox shows the case, de-identified; the supervisor replies.
    thread = supervisor.locator("article.thread")
    expect(thread).to_have_count(1)
    expect(thread).to_contain_text("[client] wants me to text another phone")
    case = thread.get_attribute("data-case")
    assert case
    assert supervisor.evaluate(UNLABELLED) == []
    assert_accessible(supervisor, "supervisor's consultations inbox")
    supervisor.screenshot(path=str(screenshots / "61-consult-inbox.png"), full_page=True)
    supervisor.get_by_label("Reply").fill(REPLY)
    supervisor.get_by_role("button", name="Reply", exact=True).click()
    expect(thread.locator(".message.mine")).to_contain_text(REPLY)
    assert_accessible(supervisor, "consultation thread with a reply")

    # The worker sees the reply under the conversation it is about.
    mine = worker.locator(f'article.thread[data-case="{case}"]')
    expect(mine).to_contain_text(REPLY, timeout=30_000)
    expect(mine).to_contain_text("[client] wants me to text another phone")
    assert_accessible(worker, "conversation with a consultation")

    # Nothing the supervisor's browser keeps or received names the client.
    worker_state = _vault(worker)
    conv_key, conv = next(iter(worker_state["conversations"].items()))
    assert conv["alias"] == ALIAS
    peer = conv["peer"]
    secrets = [ALIAS, "Maria", "Lopez", NOTED, conv_key, peer["identityKey"]]
    secrets += [peer[k] for k in ("deviceId", "mailboxId", "capability") if peer.get(k)]
    secrets += ["555-201-7788", "scared about court"]
    supervisor_state = _vault(supervisor)
    assert case in json.dumps(supervisor_state)
    assert supervisor_state["conversations"] == {}
    kept = json.dumps(supervisor_state) + supervisor.evaluate(STORAGE)
    received = seen.text()
    for secret in secrets:
        assert secret not in kept, secret
        assert secret not in received, secret
    assert sent_text.split("\n")[0] in json.dumps(supervisor_state)

    guard.assert_clean()

    # The relay: the consultation went only to staff mailboxes, and its files hold no text.
    files = [p for p in relay.process.data_dir.rglob("*") if p.is_file()]
    database = next(p for p in files if p.suffix in (".db", ".sqlite", ".sqlite3"))
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        staff_mailboxes = {
            _b64u(row[0])
            for row in db.execute(
                "SELECT mailboxes.id FROM mailboxes JOIN devices"
                " ON devices.id = mailboxes.device_id WHERE devices.kind = 'worker'"
            )
        }
        dump = "\n".join(db.iterdump())
    supervisor_mailbox = supervisor_state["mailboxId"]
    worker_mailbox = worker_state["mailboxId"]
    assert {supervisor_mailbox, worker_mailbox} <= staff_mailboxes
    to_supervisor = [f for f in worker_sent.sent if f["mailbox_id"] == supervisor_mailbox]
    assert to_supervisor, "the worker's consultation went to the supervisor's mailbox"
    assert {f["mailbox_id"] for f in seen.sent} <= staff_mailboxes
    blob = dump + "".join(p.read_bytes().decode("latin-1") for p in files)
    for secret in [case, REPLY, ALIAS, NOTED, "wants me to text another phone"]:
        assert secret not in blob, secret


def test_a_web_worker_consults_an_sdk_supervisor(
    relay: Any, browser: Any, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    supervisor = ConfideClient.create(
        tmp_path / "supervisor.state", "sdk passphrase", HttpTransport(relay.url), key_cost="min"
    )

    async def enrol() -> None:
        await supervisor.enrol(relay.process.enrol_worker("supervisor"))
        await supervisor.start()

    sdk_loop.run(enrol())
    worker = browser.new_context(viewport=DESKTOP).new_page()
    guard = OriginGuard(relay.url, worker)
    _worker_with_client(relay, browser, worker, guard)
    _prepare(worker, supervisor.device_id or "")
    expect(worker.locator("#consult-draft")).to_contain_text(
        "[client] wants me to text another phone"
    )
    worker.get_by_role("button", name="Send to supervisor").click()

    async def answer() -> Consultation:
        event = await supervisor.next_event()
        assert isinstance(event, Consultation)
        await supervisor.supervision.reply(event.case, REPLY)
        await supervisor.flush()
        return event

    asked = sdk_loop.run(answer())
    assert asked.text.startswith("[client] wants me to text another phone")
    assert "Maria" not in asked.text and NOTED not in asked.text
    expect(worker.locator(f'article.thread[data-case="{asked.case}"]')).to_contain_text(REPLY)
    guard.assert_clean()
    sdk_loop.run(supervisor.close())
