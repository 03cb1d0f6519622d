"""Fixtures for the call tests: a real coturn on loopback, real relays that hand out its
credentials (one letting ICE choose, one forcing relay-only), and Debian's chromium with a
fake camera and microphone and loopback ICE candidates allowed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import pytest
from call_support import need_executable, web_fixtures, web_support
from deploy.coturn_process import Coturn, run_coturn
from system.relay_process import RelayProcess

SECRET = "a-turn-secret-for-the-call-tests"
REALM = "relay.test"

# The web tests' flags, and what calls need besides.
CHROMIUM_ARGS = [
    *web_fixtures.CHROMIUM_ARGS,
    # A camera and microphone that exist without hardware, granted without a prompt.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    # Everything in these tests runs on loopback: chromium must offer 127.0.0.1 as an ICE
    # candidate and show real addresses rather than mDNS names nobody here can resolve.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


# Production denies relaying to loopback peers (deploy/coturn/turnserver.conf); here both
# browsers' relay addresses are 127.0.0.1, so the test's coturn alone allows that address.
ALLOW_LOOPBACK = ["--allow-loopback-peers", "--allowed-peer-ip=127.0.0.1"]


def _coturn(workdir: Path) -> AbstractContextManager[Coturn]:
    turnserver = need_executable("turnserver")
    workdir.mkdir(parents=True, exist_ok=True)
    return run_coturn(turnserver, workdir, realm=REALM, secret=SECRET, extra=ALLOW_LOOPBACK)


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    """The shipped coturn configuration, plus what a loopback-only test needs."""
    with _coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


def _relay(workdir: Path, web_dist: Path, coturn: Coturn, relay_only: bool) -> RelayProcess:
    process = RelayProcess(
        workdir,
        env={
            "CONFIDE_WEB_DIST": str(web_dist),
            "CONFIDE_LOG_LEVEL": "warning",
            "CONFIDE_TURN_SECRET": coturn.secret,
            "CONFIDE_TURN_URLS": f'["turn:127.0.0.1:{coturn.port}?transport=udp"]',
            "CONFIDE_TURN_RELAY_ONLY": "true" if relay_only else "false",
        },
    )
    process.env["CONFIDE_PUBLIC_URL"] = process.http_url
    process.create_org("Riverside Peer Recovery")
    process.publish_policy(web_support.POLICY)
    return process


web_dist = web_fixtures.web_dist
screenshots = web_fixtures.screenshots


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory, web_dist: Path, coturn: Coturn):  # type: ignore[no-untyped-def]
    """A relay whose browsers may connect directly and fall back to coturn."""
    with _relay(tmp_path_factory.mktemp("relay"), web_dist, coturn, relay_only=False) as p:
        yield p


@pytest.fixture(scope="module")
def relay_only(tmp_path_factory: pytest.TempPathFactory, web_dist: Path, coturn: Coturn):  # type: ignore[no-untyped-def]
    """A relay with CONFIDE_TURN_RELAY_ONLY: media must go through coturn."""
    with _relay(tmp_path_factory.mktemp("relay-only"), web_dist, coturn, relay_only=True) as p:
        yield p


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # The web tests' launcher, with the fake camera and microphone flags calls need.
    with web_fixtures.launched_chromium(CHROMIUM_ARGS) as launched:
        yield launched


@pytest.fixture
def relay_with_own_turn(
    tmp_path: Path, web_dist: Path
) -> Iterator[tuple[RelayProcess, Callable[[], None]]]:
    """A relay-only relay with a coturn of its own, and a function that stops that coturn:
    the network path of every call through it drops at once."""
    with ExitStack() as turn:
        server = turn.enter_context(_coturn(tmp_path / "coturn"))
        with _relay(tmp_path / "relay", web_dist, server, relay_only=True) as process:
            yield process, turn.close
