"""Relays for the client tests: the real relay in this process, or one as a process.

``local_relay`` is what integrators get from ``confide_client.testing.relay``: the relay's
real app on a fresh SQLite file in the test's event loop, one per test. ``shared_relay`` is
a ``confide serve`` process shared by the tests that only need one running (not killed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from confide_client.testing import LocalRelay, relay
from system.relay_process import RelayProcess

POLICY = "Shared test relay policy: what you share stays private, except ..."


@pytest.fixture
async def local_relay(tmp_path: Path) -> AsyncIterator[LocalRelay]:
    async with relay(tmp_path / "local-relay") as local:
        yield local


@pytest.fixture(scope="session")
def shared_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    # One relay for the whole session, so its per-address limits (10 invite redemptions and
    # 120 unauthenticated requests a minute) would count every test's joins and sign-ins
    # together, all from 127.0.0.1: the limits have tests of their own.
    process = RelayProcess(
        tmp_path_factory.mktemp("shared-relay"),
        host="localhost",
        env={
            "CONFIDE_INVITE_REDEMPTIONS_PER_MINUTE": "1000",
            "CONFIDE_ANONYMOUS_REQUESTS_PER_MINUTE": "10000",
        },
    )
    process.create_org("Shared test organisation")
    process.publish_policy(POLICY)
    with process:
        yield process
