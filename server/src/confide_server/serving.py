"""The uvicorn options every way of serving the relay shares.

``confide serve`` and the integrators' in-process test relay (confide_client.testing) must
run the relay the same way: the same HTTP parser behind the same front door (http_guard.py:
bounds on request heads and connections per address), the same WebSocket protocol class and
frame limit, and no access log or server header (the access log would hold addresses).
Each adds only what is its own: the loop, the listening socket, logging, shutdown grace.
"""

from __future__ import annotations

from typing import Any

from confide_server.http_guard import guarded_http
from confide_server.settings import Settings
from confide_server.ws.protocol import uvicorn_ws


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` or ``uvicorn.Config``."""
    return {
        "http": guarded_http(settings),
        "ws": uvicorn_ws(settings.ws_transport),
        "ws_per_message_deflate": False,
        "ws_max_size": settings.max_frame_bytes,
        "access_log": False,
        "server_header": False,
    }
