"""Fixtures for the browser tests: a real `confide serve` on a free port with a fresh SQLite
database, and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from system.relay_process import RelayProcess
from web_support import DIST, POLICY, SCREENSHOTS, WEB, LoopThread, need, need_executable

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Relay:
    """The running relay as the browser tests see it: its URL and its admin CLI."""

    process: RelayProcess

    @property
    def url(self) -> str:
        return self.process.http_url

    def enrolment_code(self) -> str:
        return self.process.enrol_worker()


def _newest_source() -> float:
    sources = [WEB / "build.mjs", WEB / "build-sw.mjs", WEB / "package-lock.json"]
    for folder in (WEB / "src", WEB / "static"):
        sources += [p for p in folder.rglob("*") if p.is_file()]
    return max(p.stat().st_mtime for p in sources)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built web app, rebuilt here when it is missing or older than its sources."""
    index = DIST / "index.html"
    if not index.is_file() or index.stat().st_mtime < _newest_source():
        npm = need_executable("npm")
        need((WEB / "node_modules").is_dir(), "clients/web/node_modules is missing (npm ci)")
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True, timeout=300)
    return DIST


@pytest.fixture(scope="module")
def relay(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, web_dist: Path
) -> Iterator[Relay]:
    """A real `confide serve` with SQLite in a fresh directory, serving the built web app.

    A test module may set more of the relay's environment in a ``RELAY_ENV`` dict.
    """
    extra: dict[str, str] = getattr(request.module, "RELAY_ENV", {})
    process = RelayProcess(
        tmp_path_factory.mktemp("relay"),
        env={"CONFIDE_WEB_DIST": str(web_dist), "CONFIDE_LOG_LEVEL": "warning", **extra},
    )
    process.env["CONFIDE_PUBLIC_URL"] = process.http_url
    process.create_org("Riverside Peer Recovery")
    process.publish_policy(POLICY)
    with process:
        yield Relay(process)


@contextmanager
def launched_chromium(args: list[str]) -> Iterator[object]:
    """Debian's chromium under Playwright (never a downloaded browser), closed afterwards."""
    chromium = need_executable("chromium")
    from playwright.sync_api import expect, sync_playwright

    # A generous ceiling for each wait (never a measured duration): two shared cores running
    # Argon2id and a relay can be slow, and a wait ends as soon as its condition holds.
    expect.set_options(timeout=30_000)

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, headless=True, args=args)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launched_chromium(CHROMIUM_ARGS) as launched:
        yield launched


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def sdk_loop() -> Iterator[LoopThread]:
    """An event loop on its own thread for a Python SDK device in a browser test."""
    runner = LoopThread()
    try:
        yield runner
    finally:
        runner.close()
