"""A minimal STUN/TURN client over UDP (RFC 8489 messages, RFC 8656 Allocate), for tests.

Enough to ask a real coturn for a binding, an allocation with long-term credentials, and a
permission, and to read the error code it answers with. Credentials follow coturn's TURN
REST API scheme, which the relay also implements: username "<expiry>:<label>", password
base64(HMAC-SHA1(shared secret, username)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass

MAGIC_COOKIE = 0x2112A442
BINDING = 0x0001
ALLOCATE = 0x0003
CREATE_PERMISSION = 0x0008
SUCCESS = 0x0100
ERROR = 0x0110

USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
REALM = 0x0014
NONCE = 0x0015
XOR_PEER_ADDRESS = 0x0012
REQUESTED_TRANSPORT = 0x0019
XOR_MAPPED_ADDRESS = 0x0020
UDP_PROTOCOL = 17


def rest_credentials(secret: str, expires_at: int, label: str = "device") -> tuple[str, str]:
    """coturn's use-auth-secret credentials: the expiry travels inside the username."""
    username = f"{expires_at}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


@dataclass
class Response:
    method: int
    is_error: bool
    attributes: dict[int, bytes]

    @property
    def error_code(self) -> int | None:
        value = self.attributes.get(ERROR_CODE)
        if value is None:
            return None
        return value[2] * 100 + value[3]


def _attribute(kind: int, value: bytes) -> bytes:
    padding = b"\x00" * (-len(value) % 4)
    return struct.pack("!HH", kind, len(value)) + value + padding


def _xor_address(address: str, port: int) -> bytes:
    packed = ipaddress.IPv4Address(address).packed
    xport = port ^ (MAGIC_COOKIE >> 16)
    xaddr = bytes(a ^ b for a, b in zip(packed, struct.pack("!I", MAGIC_COOKIE), strict=True))
    return struct.pack("!BBH", 0, 0x01, xport) + xaddr


class StunClient:
    """One UDP socket talking to one STUN/TURN server; each call waits for its answer."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.server = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.key: bytes | None = None
        self.auth: list[tuple[int, bytes]] = []

    def close(self) -> None:
        self.sock.close()

    def request(self, method: int, attributes: list[tuple[int, bytes]]) -> Response:
        transaction = os.urandom(12)
        body = b"".join(_attribute(k, v) for k, v in [*self.auth, *attributes])
        if self.key is not None:
            # MESSAGE-INTEGRITY covers the header with a length that already counts itself.
            header = struct.pack("!HHI", method, len(body) + 24, MAGIC_COOKIE) + transaction
            mac = hmac.new(self.key, header + body, hashlib.sha1).digest()
            body += _attribute(MESSAGE_INTEGRITY, mac)
        message = struct.pack("!HHI", method, len(body), MAGIC_COOKIE) + transaction + body
        self.sock.sendto(message, self.server)
        for _ in range(16):
            data, _ = self.sock.recvfrom(65536)
            if data[8:20] == transaction:
                return self._parse(data)
        raise TimeoutError("no answer with our transaction id")

    def authenticate(self, username: str, password: str, realm: bytes, nonce: bytes) -> None:
        """Uses long-term credentials (RFC 8489 section 9.2) from here on."""
        # The long-term credential key is defined as MD5(username:realm:password).
        self.key = hashlib.md5(f"{username}:{realm.decode()}:{password}".encode()).digest()
        self.auth = [(USERNAME, username.encode()), (REALM, realm), (NONCE, nonce)]

    def allocate(self) -> Response:
        transport = struct.pack("!B3x", UDP_PROTOCOL)
        return self.request(ALLOCATE, [(REQUESTED_TRANSPORT, transport)])

    def create_permission(self, peer: str) -> Response:
        return self.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, _xor_address(peer, 9))])

    @staticmethod
    def _parse(data: bytes) -> Response:
        kind, length, _cookie = struct.unpack("!HHI", data[:8])
        attributes: dict[int, bytes] = {}
        offset = 20
        while offset < 20 + length:
            attr, size = struct.unpack("!HH", data[offset : offset + 4])
            attributes.setdefault(attr, data[offset + 4 : offset + 4 + size])
            offset += 4 + size + (-size % 4)
        return Response(
            method=kind & ~0x0110, is_error=bool(kind & ERROR == ERROR), attributes=attributes
        )


def allocate_with(
    port: int, username: str, password: str, host: str = "127.0.0.1"
) -> tuple[StunClient, Response, bytes]:
    """Allocates from a fresh socket (coturn keys allocations by the client's 5-tuple).

    The first Allocate is answered 401 with the realm and a nonce; the second carries the
    credentials. Returns the client (close it), the answer, and the realm the server named.
    """
    client = StunClient(host, port)
    challenge = client.allocate()
    if challenge.error_code != 401:
        client.close()
        raise AssertionError(f"expected a 401 challenge, got {challenge}")
    realm, nonce = challenge.attributes[REALM], challenge.attributes[NONCE]
    client.authenticate(username, password, realm, nonce)
    return client, client.allocate(), realm
