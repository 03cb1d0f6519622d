"""The relay's front door: bounds on every request head, and on connections per address.

uvicorn's HTTP parser (httptools) accumulates a request head for as long as it grows, with
a cost that grows faster than its length: one 64 MiB header held the event loop for seconds,
and a head sent a byte at a time kept its connection open for ever (uvicorn sets no bound on
either, and its keep-alive timer stops at the first byte). ``HttpGuard`` is the protocol
``confide serve`` hands to uvicorn's documented ``http=`` option. It sits in front of
uvicorn's own HTTP protocol for the life of the connection, and:

- reads every byte first with a second httptools parser that has no header callbacks (so it
  only scans, in linear time) to know where each request's head starts and ends;
- refuses a head longer than ``max_request_head_bytes`` with 431 before uvicorn sees the
  byte that made it too long, and one that has not ended ``request_head_timeout_seconds``
  after its first byte (or after the connection opened) with 408;
- refuses a connection beyond ``connections_per_address`` from one address with 429
  (counted in memory while their connections are open, under a salted hash, never stored
  or logged; a trusted proxy's address, ``forwarded_allow_ips``, is not counted, since every
  client behind it shares it and the proxy applies its own limits);
- answers a request httptools cannot parse with a problem+json 400 (uvicorn's is text/plain).

After a WebSocket upgrade uvicorn hands the transport to the WebSocket protocol; the guard
puts itself back in front of it (``transport.set_protocol``), so that it still sees the
connection end and releases its address's count, and passes every byte on untouched.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
from collections.abc import Callable
from typing import Any, Literal, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from confide_server.errors import (
    HeadTooLarge,
    InvalidInput,
    RateLimited,
    RelayError,
    RequestTimeout,
)
from confide_server.settings import Settings
from confide_server.ws import handshake

# HEAD: a request head is awaited or arriving; BODY: its body; IDLE: between requests;
# UPGRADED: a WebSocket; IGNORED: after an upgrade to anything else (h2c, say), where uvicorn
# reads no more requests; REFUSED: answered and closing.
HEAD, BODY, IDLE, UPGRADED, IGNORED, REFUSED = range(6)


class AddressCounts:
    """Open connections per client address, in memory only, keyed (as ratelimit.py keys
    its tables) by a hash with a per-process random salt: not even a memory dump lists the
    addresses in the clear, and an address's entry goes when its last connection does."""

    def __init__(self, limit: int, trusted: Callable[[str], bool]) -> None:
        self.limit = limit
        self._trusted = trusted
        self._open: dict[bytes, int] = {}
        self._salt = os.urandom(16)

    def admit(self, address: str | None) -> bytes | Literal[False] | None:
        """The key to ``release`` when the connection ends (None: not counted), or False:
        the address has its limit of open connections already."""
        if address is None or self._trusted(address):
            return None
        key = hashlib.blake2b(address.encode(), key=self._salt, digest_size=16).digest()
        count = self._open.get(key, 0)
        if count >= self.limit:
            return False
        self._open[key] = count + 1
        return key

    def release(self, key: bytes | None) -> None:
        if key is None or key not in self._open:
            return
        count = self._open[key] - 1
        if count:
            self._open[key] = count
        else:
            del self._open[key]

    def __len__(self) -> int:
        return len(self._open)


def trusted_proxies(value: str) -> Callable[[str], bool]:
    """A test for uvicorn's ``forwarded_allow_ips`` syntax: ``*``, addresses and networks."""
    entries = [part.strip() for part in value.split(",") if part.strip()]
    if "*" in entries:
        return lambda _address: True
    networks = []
    names = set()
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry)  # a unix socket path, or a name: compared as it is

    def trusted(address: str) -> bool:
        if address in names:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    return trusted


class HttpGuard(asyncio.Protocol):
    """One connection: the guard in front of uvicorn's HTTP (then WebSocket) protocol."""

    # Set on the subclass ``guarded_http`` makes for one server.
    max_head: int = 16 * 1024
    head_timeout: float = 10.0
    counts: AddressCounts

    def __init__(
        self, config: Any, server_state: Any, app_state: dict[str, Any], **extra: Any
    ) -> None:
        self._loop = asyncio.get_running_loop()
        # ``extra``: whatever else uvicorn passes its HTTP protocols (the loop, today).
        self._inner: asyncio.Protocol = HttpToolsProtocol(
            config=config, server_state=server_state, app_state=app_state, **extra
        )
        self._parser = httptools.HttpRequestParser(self)
        # The same leniency uvicorn's parser has, so both read a byte stream alike.
        self._parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self._transport: asyncio.Transport | None = None
        self._counted: bytes | None = None  # the salted hash of the address, if counted
        self._admitted = False
        self._state = HEAD
        self._head_bytes = 0
        self._head: list[bytes] = []
        self._began_here = False
        self._upgrade = False
        self._timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol, in front of the inner protocol.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        key = self.counts.admit(str(peer[0]) if isinstance(peer, tuple) and peer else None)
        if key is False:
            self._refuse(RateLimited("too many connections from one address"), 429)
            return
        self._counted, self._admitted = key, True
        self._inner.connection_made(transport)
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        state = self._state
        if state == UPGRADED:
            self._inner.data_received(data)
            return
        if state == REFUSED:
            return
        if state == IGNORED:
            self._ignore(data)
            return
        self._began_here = False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._upgrade = True
        except httptools.HttpParserError:
            self._refuse(InvalidInput("the request is not valid HTTP/1.1"), 400)
            return
        counted = self._state == HEAD or self._upgrade or state == HEAD
        if counted and not self._count_head(data, state == HEAD):
            return
        if self._upgrade:
            self._hand_over(data)
            return
        self._inner.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self._admitted:
            self._admitted = False
            self.counts.release(self._counted)
            self._inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    # httptools callbacks of the guard's own parser (head boundaries only).

    def on_message_begin(self) -> None:
        self._state = HEAD
        self._began_here = True
        self._arm_timer()

    def on_headers_complete(self) -> None:
        self._state = BODY
        self._cancel_timer()

    def on_message_complete(self) -> None:
        # The head's count stays until the chunk is counted (``_count_head``); the next
        # head starts its own at ``on_message_begin``.
        self._state = IDLE

    # The bounds.

    def _count_head(self, data: bytes, was_in_head: bool) -> bool:
        """Count this chunk's bytes of the current head; False (and 431) past the bound."""
        continued = was_in_head and not self._began_here
        if self._state == HEAD:  # a head is unfinished at the end of this chunk
            if continued:
                self._head_bytes += len(data)
                self._head.append(data)
            else:
                # It began inside this chunk, after the end of the request before it; an
                # unfinished head holds no blank line, so it lies after the chunk's last one.
                blank = data.rfind(b"\r\n\r\n")
                start = blank + 4 if blank >= 0 else 0
                self._head_bytes = len(data) - start
                self._head = [data[start:]]
        else:
            # The head ended in this chunk: count it to its blank line (one that straddles
            # two chunks counts the chunk whole, which errs towards the bound).
            end = data.find(b"\r\n\r\n")
            part = end + 4 if end >= 0 else len(data)
            self._head_bytes = (self._head_bytes if continued else 0) + part
            self._head = [*self._head, data] if continued else [data]
        if self._head_bytes > self.max_head:
            self._refuse(HeadTooLarge(f"the request head is over {self.max_head} bytes"), 431)
            return False
        return True

    def _ignore(self, data: bytes) -> None:
        """Bytes after an upgrade uvicorn does not support: it ignores them, so may we, but a
        client that goes on sending is bounded like a head (a legitimate one sends nothing)."""
        self._head_bytes += len(data)
        self._arm_timer()
        if self._head_bytes > self.max_head:
            self._refuse(HeadTooLarge("bytes after an unsupported upgrade"), 431)

    def _arm_timer(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(self.head_timeout, self._timed_out)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self._state in (HEAD, IGNORED):
            self._refuse(RequestTimeout("the request head did not arrive in time"), 408)

    def _refuse(self, error: RelayError, status: int) -> None:
        """Answer ``error`` as problem+json, and close the connection."""
        self._close_with(handshake.problem_response(status, error))

    def _close_with(self, response: bytes) -> None:
        self._state = REFUSED
        self._cancel_timer()
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(response)
            transport.close()

    # The upgrade.

    def _hand_over(self, data: bytes) -> None:
        """Let uvicorn upgrade the connection, then stand in front of the new protocol."""
        assert self._transport is not None
        self._cancel_timer()
        head = b"".join(self._head)
        end = head.find(b"\r\n\r\n")
        head = head[:end] if end >= 0 else head
        self._head, self._head_bytes = [], 0
        if not handshake.asks_websocket(head):
            self._inner.data_received(data)  # uvicorn answers it as a plain request
            self._state = IGNORED
            return
        try:
            handshake.parse_request(head)
        except handshake.HandshakeError as exc:
            # Refused here, whichever WebSocket implementation serves: the same problem+json.
            self._close_with(handshake.refusal(exc))
            return
        self._inner.data_received(data)
        upgraded = self._transport.get_protocol()
        if upgraded is not self:
            self._inner = cast(asyncio.Protocol, upgraded)
            self._transport.set_protocol(self)
        self._state = UPGRADED


def guarded_http(settings: Settings) -> type[HttpGuard]:
    """The ``http=`` protocol class for one server, with its settings and address counts."""
    counts = AddressCounts(
        settings.connections_per_address, trusted_proxies(settings.forwarded_allow_ips)
    )
    return type(
        "HttpGuard",
        (HttpGuard,),
        {
            "max_head": settings.max_request_head_bytes,
            "head_timeout": settings.request_head_timeout_seconds,
            "counts": counts,
        },
    )
