"""Helpers for the web tests, importable by name because tests/ is not a package.

need() and need_executable() are the shared ones from tests/conftest.py, loaded by path so
that this folder's own conftest.py cannot shadow them.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from confide_client.client import ConfideClient
from confide_client.messages import Message
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "clients" / "web"
DIST = WEB / "dist"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

POLICY = (
    "Riverside Peer Recovery keeps what you share private.\n\n"
    "Limits of confidentiality: we must act if you tell us you plan to seriously harm "
    "yourself or someone else, if a child or vulnerable adult is being abused, or if a court "
    "orders us to share records.\n\nYou may withdraw consent at any time."
)

PASSPHRASE = "a long worker passphrase"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

# Form controls a screen reader could not name: no label, no aria-label, no text.
UNLABELLED = """() => [...document.querySelectorAll('input, textarea, select, button')]
  .filter((el) => !el.hidden && el.type !== 'hidden' && el.getAttribute('tabindex') !== '-1')
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.textContent.trim())
  .map((el) => el.outerHTML)"""


def _root_conftest() -> object:
    spec = importlib.util.spec_from_file_location(
        "confide_tests_root", ROOT / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_shared = _root_conftest()
need = _shared.need  # type: ignore[attr-defined]
need_executable = _shared.need_executable  # type: ignore[attr-defined]


# Chromium's own PDF viewer, which shows a previewed PDF inside its frame: its files come
# from inside the browser, not from any network.
BUILT_IN_PDF_VIEWER = (
    "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/",
    "chrome://resources/",
)


class OriginGuard:
    """Records every request a page makes and every CSP violation it reports.

    The relay is the only origin a Confide page may contact: no CDN, font, analytics or
    any other third party. data: and blob: URLs stay inside the browser and are allowed.
    """

    def __init__(self, relay_url: str, page: Any) -> None:
        self.relay = relay_url.rstrip("/")
        self.foreign: list[str] = []
        self.problems: list[str] = []
        self.scripts: dict[str, int] = {}
        page.on("request", self._request)
        page.on("websocket", self._websocket)
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def watch(self, page: Any) -> None:
        page.on("request", self._request)
        page.on("websocket", self._websocket)
        page.on("console", self._console)

    def _request(self, request: Any) -> None:
        url: str = request.url
        if url.startswith(("data:", "blob:", *BUILT_IN_PDF_VIEWER)):
            return
        if not (url == self.relay or url.startswith(self.relay + "/")):
            scheme_host = url.split("/", 3)[:3]
            if "/".join(scheme_host).replace("ws://", "http://") != self.relay:
                self.foreign.append(url)

    def _websocket(self, socket: Any) -> None:
        relay_ws = self.relay.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        if not socket.url.startswith(relay_ws + "/"):
            self.foreign.append(socket.url)

    def _response(self, response: Any) -> None:
        if response.url.endswith(".js"):
            self.scripts[response.url] = int(response.headers.get("content-length", "0") or 0)

    def _console(self, message: Any) -> None:
        text: str = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused" in text):
            self.problems.append(text)

    def script_bytes(self) -> int:
        return sum(self.scripts.values())

    def assert_clean(self) -> None:
        assert not self.foreign, f"requests to other origins: {self.foreign}"
        assert not self.problems, f"CSP violations or page errors: {self.problems}"


# Steps in the worker app that several browser tests take.


def enrol_worker(page: Any, code: str) -> None:
    page.get_by_label("Enrolment code").fill(code)
    page.get_by_label("Choose a passphrase").fill(PASSPHRASE)
    page.get_by_label("Type the passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Set up this device").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Connected")).to_be_visible()


def open_worker_app(browser: Any, relay: Any) -> tuple[Any, Any, OriginGuard]:
    """A freshly enrolled worker app on a desktop-sized page: (context, page, guard)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    page.goto(relay.url + "/")
    enrol_worker(page, relay.enrolment_code())
    return context, page, guard


def create_invite(page: Any, alias: str) -> str:
    page.get_by_role("button", name="Invite someone").click()
    page.get_by_label("A name for them").fill(alias)
    page.get_by_role("button", name="Create invite link").click()
    link = page.locator("#invite-link")
    expect(link).to_contain_text("/join#")
    return str(link.inner_text()).strip()


def join_client(browser: Any, guard: OriginGuard, link: str) -> Any:
    """A client opens the link on a phone-sized page and agrees; returns the page."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    guard.watch(page)
    page.goto(link)
    expect(page.get_by_role("heading", name="Before you start")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="I agree").click()
    expect(page.get_by_role("heading", name="Your conversation")).to_be_visible()
    return page


# The lock screen's words, by language (the catalogue's worker.lock, worker.lockedTitle, ...).
LOCK_WORDS = {
    "en": ("Lock", "Confide is locked", "Passphrase", "Unlock", "Conversations"),
    "es": (
        "Bloquear",
        "Confide está bloqueado",
        "Frase de contraseña",
        "Desbloquear",
        "Conversaciones",
    ),
}


def lock_and_unlock(page: Any, check: Any, lang: str = "en") -> None:
    """Locks the worker app, calls check() on the lock screen, and unlocks it again."""
    lock, locked, passphrase, unlock, home = LOCK_WORDS[lang]
    page.get_by_role("button", name=lock).click()
    expect(page.get_by_role("heading", name=locked)).to_be_visible()
    check()
    page.get_by_label(passphrase).fill(PASSPHRASE)
    page.get_by_role("button", name=unlock).click()
    expect(page.get_by_role("heading", name=home)).to_be_visible(timeout=60_000)


def open_conversation(page: Any, alias: str) -> None:
    page.locator(f'nav button[data-alias="{alias}"]').click()
    expect(page.get_by_role("heading", name=alias)).to_be_visible()


# The Python SDK beside the browser. It is asynchronous and Playwright's sync API may not run
# inside an event loop, so an SDK device runs on an event loop of its own in a thread.

T = TypeVar("T")
STEP_TIMEOUT = 60


class LoopThread:
    """An asyncio loop on its own thread; `run` waits for one coroutine's result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(STEP_TIMEOUT)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(STEP_TIMEOUT)
        self.loop.close()


async def next_message(client: ConfideClient) -> Message:
    while True:
        event = await client.next_event()
        if isinstance(event, Message):
            return event
