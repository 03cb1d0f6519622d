"""A relay process shared by the client tests that only need one running (not killed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from system.relay_process import RelayProcess

POLICY = "Shared test relay policy: what you share stays private, except ..."


@pytest.fixture(scope="session")
def shared_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    relay = RelayProcess(tmp_path_factory.mktemp("shared-relay"), host="localhost")
    relay.create_org("Shared test organisation")
    relay.publish_policy(POLICY)
    with relay:
        yield relay
