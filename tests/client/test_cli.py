"""The confide-client CLI against a real relay: enrol, invite, join, send, listen, safety number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confide_client.cli import main

from .relay import RelayProcess

pytestmark = pytest.mark.slow


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_cli_walks_the_whole_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIDE_CLIENT_PASSPHRASE", "cli test passphrase")
    relay = RelayProcess(tmp_path / "relay", tmp_path / "relay.log")
    relay.admin("create-org", "--name", "CLI test")
    (tmp_path / "policy.txt").write_text("Policy for the CLI test.")
    relay.admin("publish-policy", "--file", str(tmp_path / "policy.txt"))
    relay.start()
    try:
        worker = [
            "--state",
            str(tmp_path / "worker.state"),
            "--relay",
            relay.url,
            "--key-cost",
            "min",
        ]
        client = ["--state", str(tmp_path / "client.state"), "--key-cost", "min"]
        assert "enrolled" in _run(capsys, *worker, "enrol", relay.admin("enrol-worker"))
        link = _run(capsys, *worker, "invite").strip()
        assert link.startswith(f"{relay.url}/join#")
        joined = _run(capsys, *client, "join", link, "--accept")
        worker_contact = joined.split("contact ")[1].split()[0]
        events = [
            json.loads(line)
            for line in _run(capsys, *worker, "listen", "--count", "2").splitlines()
        ]
        assert [e["type"] for e in events] == ["contact-joined", "consent"]
        client_contact = events[0]["contact"]
        assert _run(capsys, *client, "send", worker_contact, "hello from the CLI") == ""
        received = _run(capsys, *worker, "listen", "--count", "1").splitlines()
        assert json.loads(received[-1])["text"] == "hello from the CLI"
        _run(capsys, *worker, "alias", client_contact, "Sam")
        assert "Sam" in _run(capsys, *worker, "contacts")
        number = _run(capsys, *worker, "safety-number", client_contact).strip()
        assert number == _run(capsys, *client, "safety-number", worker_contact).strip()
        assert number in joined
    finally:
        relay.stop()
