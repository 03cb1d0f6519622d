"""The bundled web app's files, served as clients/web/build.mjs left them.

The build names every asset a page loads after its content (``join-GARPHOS4.js``: eight
base32 characters, esbuild's ``[hash]``) and writes a brotli (``.br``) and a gzip (``.gz``)
copy beside each text file. So the relay only chooses: the copy the browser's
Accept-Encoding prefers (brotli, then gzip, then the file as it is), with ``Vary:
Accept-Encoding`` so that caches keep the copies apart; ``Cache-Control: public,
max-age=31536000, immutable`` for a content-hashed name, which can never change, and
``no-cache`` for the pages and the few files whose address is fixed, so a new build is seen
on the next load.

The files are read once, when the app is built, into a table keyed by name: a request can
name only a file that table holds, so no path is ever joined from what a client sent.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# esbuild's [hash] and build.mjs's contentHash: a dash, eight base32 characters, the extension.
HASHED_NAME = re.compile(r"-[A-Z2-7]{8}\.[A-Za-z0-9.]+$")
# Content codings the build writes, by the suffix of their copy, best first.
CODINGS = {"br": ".br", "gzip": ".gz"}
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
}


@dataclass(frozen=True)
class Variant:
    body: bytes
    etag: str


@dataclass(frozen=True)
class Asset:
    """One file of the build and its compressed copies, keyed by content coding."""

    media_type: str
    cache_control: str
    variants: dict[str, Variant]

    def response(self, request: Request) -> Response:
        coding = negotiate(request.headers.get("accept-encoding"), self.variants)
        variant = self.variants[coding]
        headers = {
            "cache-control": self.cache_control,
            "etag": variant.etag,
            "content-length": str(len(variant.body)),
        }
        if len(self.variants) > 1:
            headers["vary"] = "Accept-Encoding"
        if coding != "identity":
            headers["content-encoding"] = coding
        if variant.etag in _etags(request.headers.get("if-none-match")):
            del headers["content-length"]
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else variant.body
        return Response(body, headers=headers, media_type=self.media_type)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _weight(text: str) -> float | None:
    """The q-value of one Accept-Encoding element, or None when it is not a valid one."""
    try:
        q = float(text)
    except ValueError:
        return None
    return q if 0.0 <= q <= 1.0 else None


def accepted(header: str | None) -> dict[str, float]:
    """Accept-Encoding as coding -> q (RFC 9110 §12.5.3); elements that do not parse are
    ignored, as a header nobody can read should cost the client compression, not the page."""
    weights: dict[str, float] = {}
    for element in (header or "").split(","):
        coding, *params = (part.strip() for part in element.split(";"))
        q: float | None = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = _weight(value.strip())
        if coding and q is not None:
            weights[coding.lower()] = q
    return weights


def negotiate(header: str | None, available: dict[str, Variant]) -> str:
    """The coding to send: the most preferred one we have a copy in, else the file itself.

    Without Accept-Encoding a client gets the file as it is. Ties go to brotli, the smaller.
    A client that refuses identity and every coding we have still gets identity, since a 406
    would only leave the page blank.
    """
    weights = accepted(header)
    best, best_q = "identity", 0.0
    for coding in CODINGS:
        q = weights.get(coding, weights.get("*", 0.0))
        if coding in available and q > best_q:
            best, best_q = coding, q
    return best


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def media_type(name: str) -> str:
    suffix = Path(name).suffix
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def load_asset(path: Path, *, hashed: bool) -> Asset:
    body = path.read_bytes()
    variants = {"identity": Variant(body, _etag(body))}
    for coding, suffix in CODINGS.items():
        copy = path.with_name(path.name + suffix)
        if copy.is_file():
            body = copy.read_bytes()
            variants[coding] = Variant(body, _etag(body))
    return Asset(media_type(path.name), IMMUTABLE if hashed else REVALIDATE, variants)


def load_folder(folder: Path) -> dict[str, Asset]:
    """Every file in ``folder`` (not its subfolders) with its copies, keyed by its name."""
    table: dict[str, Asset] = {}
    if not folder.is_dir():
        return table
    suffixes = tuple(CODINGS.values())
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.endswith(suffixes):
            table[path.name] = load_asset(path, hashed=bool(HASHED_NAME.search(path.name)))
    return table
