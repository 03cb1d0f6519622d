"""Security headers on every response, the bundled web app (its files: web_assets), and
self-hosted API docs.

The Content-Security-Policy is the cross-team contract's: only our own origin, with
'wasm-unsafe-eval' because libsodium runs as WebAssembly. /docs is our own page loading the
Swagger UI files installed with the relay, with its start-up script as a file too, so it
works with no internet and under the same policy (no inline script).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confide_server import web_assets

# frame-src blob: lets a decrypted PDF show inside the app (clients/web/src/shared/files.js);
# nothing else may be framed, and no page may frame ours.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; frame-src blob:; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; style-src 'self'"
)

SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
]

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Confide relay API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/docs-init.js"></script></body></html>
"""

DOCS_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
};
"""


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self._app(scope, receive, with_headers)


def _swagger_ui_static() -> Path:
    """The Swagger UI 5 files shipped inside the swagger-ui-py distribution.

    Only its static folder is used, so the package is located without importing it (its
    module pulls in template engines the relay has no use for). Swagger UI 5 is needed
    because FastAPI describes the API as OpenAPI 3.1, which older bundles refuse to render.
    """
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed; /docs needs its Swagger UI files")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def install_docs(app: FastAPI) -> None:
    static = _swagger_ui_static()
    app.mount("/docs-assets", StaticFiles(directory=static), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    @app.get("/docs-init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(DOCS_INIT, media_type="text/javascript")


INSTALLED_APP_FILES = ("sw.js", "manifest.webmanifest")


def _serve_fixed(app: FastAPI, name: str, found: web_assets.Asset) -> None:
    @app.api_route(f"/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    async def fixed(request: Request) -> Response:
        return found.response(request)


def install_web_app(app: FastAPI, dist: Path | None) -> None:
    """The worker app at /, the client's join page at /join, their assets under /assets/.

    Only files the build left in dist are served, as web_assets describes; any other name
    is a problem+json 404 like every unknown path.
    """
    if dist is None or not (dist / "index.html").is_file():

        @app.get("/", include_in_schema=False)
        async def root() -> JSONResponse:
            return JSONResponse({"service": "confide relay", "docs": "/docs"})

        return
    index = web_assets.load_asset(dist / "index.html", hashed=False)
    join_file = dist / "join.html"
    join = web_assets.load_asset(join_file, hashed=False) if join_file.is_file() else index
    files = web_assets.load_folder(dist / "assets")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def worker_app(request: Request) -> Response:
        return index.response(request)

    @app.api_route("/join", methods=["GET", "HEAD"], include_in_schema=False)
    async def join_page(request: Request) -> Response:
        return join.response(request)

    # The installed worker app's service worker and manifest (clients/web/build-sw.mjs), at
    # the fixed top-level addresses a browser looks for them at again, revalidated each time.
    for name in INSTALLED_APP_FILES:
        if (dist / name).is_file():
            _serve_fixed(app, name, web_assets.load_asset(dist / name, hashed=False))

    @app.api_route("/assets/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    async def asset(name: str, request: Request) -> Response:
        found = files.get(name)
        if found is None:
            raise HTTPException(404, "no such file in the web app")
        return found.response(request)
