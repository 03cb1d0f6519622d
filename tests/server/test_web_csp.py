"""The Content-Security-Policy the relay sends with the web app's pages.

Issue 17: a decrypted attachment is previewed from memory, an image through a blob: URL and
a PDF in a frame showing a blob: URL. The policy allows exactly that and nothing more: every
other directive is what it was, and nothing may be framed but blob: URLs.
"""

from __future__ import annotations

from pathlib import Path

from confide_server.app import create_app
from fastapi import FastAPI

from .conftest import SettingsFactory, in_memory

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'wasm-unsafe-eval'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "frame-src": ["blob:"],
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
    "style-src": ["'self'"],
}


def _directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} appears twice"
        parsed[name] = sources
    return parsed


async def test_pages_may_preview_blobs_and_nothing_else_is_loosened(
    sqlite_url: str, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<title>worker</title>")
    (dist / "join.html").write_text("<title>join</title>")
    app: FastAPI = create_app(make_settings(sqlite_url, web_dist=dist))
    async with in_memory(app) as client:
        for path in ("/", "/join"):
            header = (await client.get(path)).headers["content-security-policy"]
            assert _directives(header) == EXPECTED, path
