"""The WebSocket opening handshake (RFC 6455 §4.2), sans-io: a request in, a response out.

uvicorn parses the HTTP request, sees ``Upgrade: websocket`` and hands the connection to
the relay's protocol (ws/protocol.py) with the request written out again as bytes; this
module reads those bytes and answers. A request that is not a valid opening handshake gets
an ``application/problem+json`` response (400, or 426 for another protocol version), like
every other bad request the relay answers; no extension (per-message deflate) is agreed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

import orjson
from websockets.utils import accept_key

from confide_server.errors import InvalidInput, RelayError

# The longest opening handshake accepted (431 beyond). The relay's front door (http_guard.py)
# bounds every request head before uvicorn parses it (CONFIDE_MAX_REQUEST_HEAD_BYTES); this
# bound is the WebSocket protocol's own, for when it is served without the guard.
MAX_HEAD = 16 * 1024


class HandshakeError(Exception):
    def __init__(self, status: int, detail: str, headers: tuple[tuple[str, str], ...] = ()):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[bytes, bytes]]
    key: str
    subprotocols: list[str]

    @property
    def path(self) -> str:
        return unquote(self.raw_path.decode("ascii", errors="replace"))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _tokens(value: bytes | None) -> set[str]:
    if value is None:
        return set()
    return {part.strip().lower() for part in value.decode("latin-1").split(",")}


def _header_lines(head: bytes) -> list[tuple[bytes, bytes]]:
    headers = []
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise HandshakeError(400, "malformed header line")
        headers.append((name.lower(), value.strip()))
    return headers


def asks_websocket(head: bytes) -> bool:
    """Whether uvicorn upgrades this request to a WebSocket (``Connection: upgrade`` and
    ``Upgrade: websocket``, as its HTTP protocol decides), so that it is the relay's to
    answer as an opening handshake, not a plain request."""
    try:
        headers = _header_lines(head)
    except HandshakeError:
        return True  # malformed, but the parser took it as an upgrade: refused as one
    upgrade = _header(headers, b"upgrade")
    return (
        upgrade is not None
        and upgrade.lower() == b"websocket"
        and "upgrade" in _tokens(_header(headers, b"connection"))
    )


def parse_request(head: bytes) -> Request:
    """The opening handshake in ``head`` (the request line and headers, without the blank
    line); ``HandshakeError`` if it is not one the relay accepts."""
    lines = head.split(b"\r\n")
    try:
        method, target, version = lines[0].split(b" ")
    except ValueError:
        raise HandshakeError(400, "malformed request line") from None
    headers = _header_lines(head)
    if method != b"GET" or version != b"HTTP/1.1":
        raise HandshakeError(400, "a WebSocket handshake is a GET over HTTP/1.1")
    if "websocket" not in _tokens(_header(headers, b"upgrade")):
        raise HandshakeError(400, "missing Upgrade: websocket")
    if "upgrade" not in _tokens(_header(headers, b"connection")):
        raise HandshakeError(400, "missing Connection: Upgrade")
    if _header(headers, b"sec-websocket-version") != b"13":
        raise HandshakeError(
            426, "only WebSocket version 13 is supported", (("Sec-WebSocket-Version", "13"),)
        )
    key = _header(headers, b"sec-websocket-key") or b""
    try:
        valid_key = len(base64.b64decode(key, validate=True)) == 16
    except binascii.Error:
        valid_key = False
    if not valid_key:
        raise HandshakeError(400, "Sec-WebSocket-Key must be 16 bytes in base64")
    raw_path, _, query = target.partition(b"?")
    protocols = _header(headers, b"sec-websocket-protocol")
    subprotocols = [] if protocols is None else sorted(_tokens(protocols) - {""})
    return Request("GET", raw_path, query, headers, key.decode(), subprotocols)


def accept_response(
    request: Request, subprotocol: str | None, headers: list[tuple[bytes, bytes]]
) -> bytes:
    """The 101 response that opens the WebSocket, with the application's extra headers."""
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: " + accept_key(request.key).encode(),
    ]
    if subprotocol:
        lines.append(b"Sec-WebSocket-Protocol: " + subprotocol.encode())
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    426: "Upgrade Required",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


def problem_response(
    status: int, error: RelayError, headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    """An HTTP response carrying ``error`` as problem+json, for a refused handshake."""
    body = error.problem() | {"status": status}
    payload = orjson.dumps(body)
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def refusal(exc: HandshakeError) -> bytes:
    return problem_response(exc.status, InvalidInput(exc.detail), exc.headers)
