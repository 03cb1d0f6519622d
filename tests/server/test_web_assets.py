"""The web app's files as the relay serves them: the compressed copy the client accepts,
cache headers by name, HEAD, revalidation, and nothing outside the build's own files."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from confide_server.app import create_app
from confide_server.web_assets import IMMUTABLE, REVALIDATE, accepted, negotiate

from .conftest import SettingsFactory, in_memory

SCRIPT = b"export const greeting = 'hello';\n" * 40
# Brotli is not in Python's standard library; the relay never decodes a copy, so any bytes
# stand for one here (clients/web/test/build.test.mjs checks the build's real copies).
BROTLI = b"pretend brotli copy"


def _write(path: Path, body: bytes, *, copies: bool = True) -> None:
    path.write_bytes(body)
    if copies:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(body))
        path.with_name(path.name + ".br").write_bytes(BROTLI)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build's layout: two pages, hashed assets with copies, the fixed-name neutral page."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    _write(root / "index.html", b"<title>worker</title>")
    _write(root / "join.html", b'<title>join</title><script src="/assets/join-ABCD2345.js">')
    _write(root / "assets" / "join-ABCD2345.js", SCRIPT)
    _write(root / "assets" / "icon-QRST6723.svg", b"<svg/>", copies=False)
    _write(root / "assets" / "neutral.html", b"<title>Weather</title>")
    _write(root / "sw.js", b"self.addEventListener('push', () => {});")
    _write(root / "manifest.webmanifest", b'{"name": "Confide"}')
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


@pytest.fixture
async def client(
    sqlite_url: str, make_settings: SettingsFactory, dist: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with in_memory(create_app(make_settings(sqlite_url, web_dist=dist))) as http:
        yield http


SCRIPT_PATH = "/assets/join-ABCD2345.js"


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("br, gzip, deflate", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.8, br;q=0.5", "gzip"),
        ("*", "br"),
        ("*;q=0.1, br;q=0", "gzip"),
        ("identity", "identity"),
        ("deflate", "identity"),
        ("br;q=nonsense, gzip;q=2", "identity"),
        ("", "identity"),
    ],
)
async def test_the_copy_follows_accept_encoding(
    client: httpx.AsyncClient, accept: str, coding: str
) -> None:
    headers = {"accept-encoding": accept}
    answer = await client.get(SCRIPT_PATH, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["vary"] == "Accept-Encoding"
    assert answer.headers["content-type"].startswith("text/javascript")
    raw = answer.read() if coding == "identity" else await _raw_body(client, headers)
    expected = {"identity": SCRIPT, "gzip": gzip.compress(SCRIPT), "br": BROTLI}[coding]
    if coding == "identity":
        assert "content-encoding" not in answer.headers
    else:
        assert answer.headers["content-encoding"] == coding
    assert int(answer.headers["content-length"]) == len(expected)
    if coding == "gzip":
        assert gzip.decompress(raw) == SCRIPT
    else:
        assert raw == expected


async def _raw_body(client: httpx.AsyncClient, headers: dict[str, str]) -> bytes:
    """The body as sent, before httpx undoes its content coding."""
    async with client.stream("GET", SCRIPT_PATH, headers=headers) as answer:
        return b"".join([part async for part in answer.aiter_raw()])


def test_accept_encoding_parsing() -> None:
    assert accepted("gzip;q=0.5, BR ; q=1") == {"gzip": 0.5, "br": 1.0}
    assert accepted(" , ;q=1, gzip;q=-1") == {}
    assert negotiate("br", {}) == "identity"


async def test_hashed_names_are_immutable_and_pages_revalidate(
    client: httpx.AsyncClient,
) -> None:
    script = await client.get(SCRIPT_PATH, headers={"accept-encoding": "br"})
    assert script.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    icon = await client.get("/assets/icon-QRST6723.svg", headers={"accept-encoding": "br"})
    assert icon.headers["cache-control"] == IMMUTABLE
    # No copies: nothing to choose between, so the answer does not vary.
    assert "vary" not in icon.headers and "content-encoding" not in icon.headers
    assert icon.headers["content-type"] == "image/svg+xml"
    for path in ("/", "/join", "/assets/neutral.html"):
        page = await client.get(path, headers={"accept-encoding": "gzip"})
        assert page.status_code == 200
        assert page.headers["cache-control"] == REVALIDATE == "no-cache"
        assert page.headers["content-encoding"] == "gzip"
        assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "join" in (await client.get("/join")).text


async def test_the_installed_apps_files_keep_their_addresses_and_revalidate(
    client: httpx.AsyncClient,
) -> None:
    """A browser finds a service worker and a manifest again only at the same address, so
    they are served at the top level under fixed names, and never cached as immutable."""
    worker = await client.get("/sw.js", headers={"accept-encoding": "gzip"})
    assert worker.status_code == 200 and worker.headers["cache-control"] == REVALIDATE
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "addEventListener('push'" in worker.text
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.headers["cache-control"] == REVALIDATE
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json() == {"name": "Confide"}
    assert (await client.get("/index.html")).status_code == 404  # no other top-level file


async def test_assets_keep_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/join", SCRIPT_PATH):
        answer = await client.get(path)
        assert "script-src 'self' 'wasm-unsafe-eval'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"


async def test_head_sends_the_headers_of_get_without_a_body(client: httpx.AsyncClient) -> None:
    for path in (SCRIPT_PATH, "/join"):
        headers = {"accept-encoding": "gzip"}
        got = await client.get(path, headers=headers)
        head = await client.head(path, headers=headers)
        assert head.status_code == 200
        assert head.content == b""
        for name in ("content-length", "content-encoding", "etag", "cache-control", "vary"):
            assert head.headers[name] == got.headers[name]


async def test_a_known_etag_gets_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/join", headers={"accept-encoding": "br"})
    again = await client.get(
        "/join", headers={"accept-encoding": "br", "if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == "no-cache"
    # Each copy has its own tag: a gzip client's tag does not match the brotli copy.
    other = await client.get("/join", headers={"accept-encoding": "gzip"})
    assert other.headers["etag"] != first.headers["etag"]
    changed = await client.get(
        "/join", headers={"accept-encoding": "gzip", "if-none-match": first.headers["etag"]}
    )
    assert changed.status_code == 200


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/assets/join-ZZZZ2345.js",
        b"/assets/join-ABCD2345.js.br",
        b"/assets/join-ABCD2345.js.gz",
        b"/assets/",
        b"/assets",
        b"/index.html",
        b"/join.html",
        b"/assets/../index.html",
        b"/assets/%2e%2e/index.html",
        b"/assets/..%2findex.html",
        b"/assets/..%2f..%2fsecret.txt",
        b"/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        b"/assets/assets%2fjoin-ABCD2345.js",
        b"/../secret.txt",
        b"/assets/join-ABCD2345.js%00",
    ],
)
async def test_nothing_but_the_builds_files(client: httpx.AsyncClient, raw_path: bytes) -> None:
    request = client.build_request("GET", "/")
    request.url = request.url.copy_with(raw_path=raw_path)
    answer = await client.send(request)
    assert answer.status_code == 404, raw_path
    assert answer.headers["content-type"] == "application/problem+json"
    assert "outside the build" not in answer.text
