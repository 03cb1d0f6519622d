"""deploy/coturn/turnserver.conf, run in a real coturn: REST credentials, quotas, denied peers.

coturn is started on loopback ports of its own with the shipped configuration (only the
listening address, ports, realm and secret are given on the command line, as compose does),
and is spoken to with a small STUN/TURN client.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_executable

from deploy.conftest import DEPLOY
from deploy.stun import (
    BINDING,
    NONCE,
    REALM,
    XOR_MAPPED_ADDRESS,
    Response,
    StunClient,
    rest_credentials,
)

CONFIG = DEPLOY / "coturn" / "turnserver.conf"
SECRET = "a-test-turn-secret-of-some-length"
REALM_NAME = "relay.test"


def free_udp_and_tcp_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def config_lines() -> list[str]:
    return [
        line.strip()
        for line in CONFIG.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """coturn on a free loopback port; yields the port and the file its output goes to."""
    turnserver = need_executable("turnserver")
    port = free_udp_and_tcp_port()
    output = tmp_path / "turnserver.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                turnserver,
                "-c",
                str(CONFIG),
                f"--realm={REALM_NAME}",
                f"--static-auth-secret={SECRET}",
                "--listening-ip=127.0.0.1",
                f"--listening-port={port}",
                "--min-port=62000",
                "--max-port=62100",
                f"--pidfile={tmp_path / 'turnserver.pid'}",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        client = StunClient("127.0.0.1", port, timeout=0.5)
        try:
            for _ in range(40):
                try:
                    client.request(BINDING, [])
                    break
                except (TimeoutError, ConnectionRefusedError):
                    assert process.poll() is None, "turnserver exited"
                    time.sleep(0.25)
            else:
                pytest.fail("turnserver never answered a binding request")
        finally:
            client.close()
        yield port, output
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


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


def allocate_with(port: int, credentials: tuple[str, str]) -> tuple[StunClient, Response]:
    """Allocates from a fresh socket: coturn keys an allocation by the client's 5-tuple."""
    client = StunClient("127.0.0.1", port)
    challenge = client.allocate()
    assert challenge.is_error and challenge.error_code == 401
    realm, nonce = challenge.attributes[REALM], challenge.attributes[NONCE]
    assert realm == REALM_NAME.encode()
    client.authenticate(*credentials, realm, nonce)
    return client, client.allocate()


@pytest.mark.parametrize(
    ("secret", "lifetime"), [("wrong-secret", 600), (SECRET, -60)], ids=["wrong", "expired"]
)
def test_allocation_refuses_a_bad_rest_credential(
    coturn: tuple[int, Path], secret: str, lifetime: int
) -> None:
    client, answer = allocate_with(coturn[0], rest_credentials(secret, int(time.time()) + lifetime))
    client.close()
    assert answer.error_code == 401


def test_allocation_with_a_valid_credential_relays_only_to_public_peers(
    coturn: tuple[int, Path],
) -> None:
    credentials = rest_credentials(SECRET, int(time.time()) + 600)
    client, answer = allocate_with(coturn[0], credentials)
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
    client, answer = allocate_with(port, rest_credentials(SECRET, int(time.time()) + 600))
    client.close()
    assert not answer.is_error
    assert b"127.0.0.1" not in output.read_bytes(), output.read_text(errors="replace")
