"""Fixtures for the browser tests: a real `confide serve` on a free port with a fresh SQLite
database, and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web_support import DIST, SCREENSHOTS, WEB, need, need_executable

POLICY = (
    "Riverside Peer Recovery keeps what you share private.\n\n"
    "Limits of confidentiality: we must act if you tell us you plan to seriously harm "
    "yourself or someone else, if a child or vulnerable adult is being abused, or if a court "
    "orders us to share records.\n\nYou may withdraw consent at any time."
)

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
    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "confide_server", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip()

    def enrolment_code(self) -> str:
        return self.cli("enrol-worker")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    # Polls until the relay answers; the deadline only bounds a relay that never starts.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the relay exited during start-up")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the relay did not become healthy")


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built web app; built here when `make test` has not done it already."""
    if not (DIST / "index.html").is_file():
        npm = need_executable("npm")
        need((WEB / "node_modules").is_dir(), "clients/web/node_modules is missing (npm ci)")
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True, timeout=300)
    return DIST


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[Relay]:
    data = tmp_path_factory.mktemp("relay")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CONFIDE_DATA_DIR": str(data),
        "CONFIDE_PUBLIC_URL": url,
        "CONFIDE_WEB_DIST": str(web_dist),
        "CONFIDE_LOG_LEVEL": "warning",
    }
    env.pop("CONFIDE_DATABASE_URL", None)
    env.pop("CONFIDE_REDIS_URL", None)
    handle = Relay(url, env)
    (data / "policy.txt").write_text(POLICY, encoding="utf-8")
    handle.cli("create-org", "--name", "Riverside Peer Recovery", "--max-retention-days", "30")
    handle.cli("publish-policy", "--file", str(data / "policy.txt"))
    log = (data / "relay.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "confide_server", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(url, process)
        yield handle
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = need_executable("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
