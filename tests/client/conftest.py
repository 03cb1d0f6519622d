"""A relay process shared by the client tests that only need one running (not killed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .relay import RelayProcess

POLICY = "Shared test relay policy: what you share stays private, except ..."


@pytest.fixture(scope="session")
def shared_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    root = tmp_path_factory.mktemp("shared-relay")
    relay = RelayProcess(root / "data", root / "relay.log")
    relay.admin("create-org", "--name", "Shared test organisation")
    (root / "policy.txt").write_text(POLICY)
    relay.admin("publish-policy", "--file", str(root / "policy.txt"))
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()
