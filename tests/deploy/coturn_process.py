"""A real coturn started with deploy/coturn/turnserver.conf on free loopback ports, for tests.

Only what compose passes on the command line (realm, secret) and what a test host needs
(listening address, ports, a pid file) is added to the shipped configuration, so the tests
exercise the file operators deploy.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.conftest import DEPLOY
from deploy.stun import BINDING, StunClient

CONFIG = DEPLOY / "coturn" / "turnserver.conf"


def free_udp_and_tcp_port() -> int:
    """A loopback port free for both UDP and TCP, since coturn listens on both."""
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


@dataclass(frozen=True)
class Coturn:
    port: int
    output: Path
    realm: str
    secret: str


@contextmanager
def run_coturn(
    turnserver: str, workdir: Path, *, realm: str, secret: str, extra: Sequence[str] = ()
) -> Iterator[Coturn]:
    """Starts coturn, waits (bounded) until it answers a STUN binding, and stops it after.

    ``extra`` adds command-line options for one test's needs (the call tests allow the
    loopback peer their browsers relay to); the shipped file stays as operators deploy it.
    """
    port = free_udp_and_tcp_port()
    output = workdir / "turnserver.out"
    command = [turnserver, "-c", str(CONFIG), f"--realm={realm}"]
    command += [f"--static-auth-secret={secret}", "--listening-ip=127.0.0.1"]
    command += [f"--listening-port={port}", "--min-port=62000", "--max-port=62100"]
    command += [f"--pidfile={workdir / 'turnserver.pid'}", *extra]
    with output.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        _wait_for_binding(port, process)
        yield Coturn(port=port, output=output, realm=realm, secret=secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_binding(port: int, process: subprocess.Popen[bytes]) -> None:
    client = StunClient("127.0.0.1", port, timeout=0.5)
    try:
        for _ in range(40):
            try:
                client.request(BINDING, [])
                return
            except (TimeoutError, ConnectionRefusedError):
                if process.poll() is not None:
                    raise RuntimeError("turnserver exited") from None
                time.sleep(0.25)
        raise RuntimeError("turnserver never answered a binding request")
    finally:
        client.close()
