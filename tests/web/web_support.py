"""Helpers for the web tests, importable by name because tests/ is not a package.

need() and need_executable() are the shared ones from tests/conftest.py, loaded by path so
that this folder's own conftest.py cannot shadow them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "clients" / "web"
DIST = WEB / "dist"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


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
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def watch(self, page: Any) -> None:
        page.on("request", self._request)
        page.on("console", self._console)

    def _request(self, request: Any) -> None:
        url: str = request.url
        if url.startswith(("data:", "blob:")):
            return
        if not (url == self.relay or url.startswith(self.relay + "/")):
            scheme_host = url.split("/", 3)[:3]
            if "/".join(scheme_host).replace("ws://", "http://") != self.relay:
                self.foreign.append(url)

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
