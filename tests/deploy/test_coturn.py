"""deploy/coturn/turnserver.conf, run in a real coturn: REST credentials, quotas, denied peers.

coturn is started on loopback ports of its own with the shipped configuration (only the
listening address, ports, realm and secret are given on the command line, as compose does),
and is spoken to with a small STUN/TURN client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_executable

from deploy.coturn_process import CONFIG, run_coturn
from deploy.stun import (
    BINDING,
    XOR_MAPPED_ADDRESS,
    Response,
    StunClient,
    allocate_with,
    rest_credentials,
)

REALM_NAME = "relay.test"
SECRET = "a-test-turn-secret-of-some-length"


def config_lines() -> list[str]:
    return [
        line.strip()
        for line in CONFIG.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """coturn on a free loopback port; yields the port and the file its output goes to."""
    with run_coturn(
        need_executable("turnserver"), tmp_path, realm=REALM_NAME, secret=SECRET
    ) as server:
        yield server.port, server.output


def test_the_configuration_has_the_promised_directives() -> None:
    lines = config_lines()
    for directive in ("use-auth-secret", "no-cli", "no-multicast-peers", "no-tcp-relay"):
        assert directive in lines, directive
    keys = {line.split("=", 1)[0] for line in lines}
    assert {"user-quota", "total-quota", "max-bps", "stale-nonce"} <= keys
    denied = [line.split("=", 1)[1] for line in lines if line.startswith("denied-peer-ip=")]
    for private in ("10.0.0.0", "127.0.0.0", "172.16.0.0", "192.168.0.0", "169.254.0.0"):
        assert any(r.startswith(private + "-") for r in denied), private
    # The secret and the realm are deployment secrets, never written into the shared file.
    assert not any(k in keys for k in ("static-auth-secret", "realm", "allow-loopback-peers"))


def test_binding_answers_with_the_clients_address(coturn: tuple[int, Path]) -> None:
    client = StunClient("127.0.0.1", coturn[0])
    try:
        answer = client.request(BINDING, [])
    finally:
        client.close()
    assert not answer.is_error
    assert XOR_MAPPED_ADDRESS in answer.attributes


def allocate(port: int, credentials: tuple[str, str]) -> tuple[StunClient, Response]:
    client, answer, realm = allocate_with(port, *credentials)
    assert realm == REALM_NAME.encode()
    return client, answer


@pytest.mark.parametrize(
    ("secret", "lifetime"), [("wrong-secret", 600), (SECRET, -60)], ids=["wrong", "expired"]
)
def test_allocation_refuses_a_bad_rest_credential(
    coturn: tuple[int, Path], secret: str, lifetime: int
) -> None:
    client, answer = allocate(coturn[0], rest_credentials(secret, int(time.time()) + lifetime))
    client.close()
    assert answer.error_code == 401


def test_allocation_with_a_valid_credential_relays_only_to_public_peers(
    coturn: tuple[int, Path],
) -> None:
    credentials = rest_credentials(SECRET, int(time.time()) + 600)
    client, answer = allocate(coturn[0], credentials)
    try:
        assert not answer.is_error, answer.error_code
        # Relaying into this host or private networks is refused; the public internet is not.
        for private_peer in ("127.0.0.1", "10.1.2.3", "192.168.1.1", "169.254.169.254"):
            assert client.create_permission(private_peer).error_code == 403, private_peer
        assert not client.create_permission("93.184.216.34").is_error
    finally:
        client.close()


def test_coturn_writes_no_client_address(coturn: tuple[int, Path]) -> None:
    port, output = coturn
    client, answer = allocate(port, rest_credentials(SECRET, int(time.time()) + 600))
    client.close()
    assert not answer.is_error
    assert b"127.0.0.1" not in output.read_bytes(), output.read_text(errors="replace")
