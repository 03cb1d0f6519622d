"""The confide-client CLI against a real relay: enrol, invite, join, send, listen, safety number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confide_client.cli import main
from system.relay_process import RelayProcess

pytestmark = pytest.mark.slow


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_cli_walks_the_whole_flow(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_relay: RelayProcess,
) -> None:
    monkeypatch.setenv("CONFIDE_CLIENT_PASSPHRASE", "cli test passphrase")
    relay = shared_relay
    worker = [
        "--state",
        str(tmp_path / "worker.state"),
        "--relay",
        relay.http_url,
        "--key-cost",
        "min",
    ]
    client = ["--state", str(tmp_path / "client.state"), "--key-cost", "min"]
    assert "enrolled" in _run(capsys, *worker, "enrol", relay.enrol_worker())
    link = _run(capsys, *worker, "invite").strip()
    assert link.startswith(f"{relay.http_url}/join#")
    joined = _run(capsys, *client, "join", link, "--accept")
    worker_contact = joined.split("contact ")[1].split()[0]
    listened = _run(capsys, *worker, "listen", "--count", "2").splitlines()
    events = [json.loads(line) for line in listened]
    assert [e["type"] for e in events] == ["contact-joined", "consent"]
    client_contact = events[0]["contact"]
    assert _run(capsys, *client, "send", worker_contact, "hello from the CLI") == ""
    (tmp_path / "note.txt").write_bytes(b"an attachment from the CLI")
    assert _run(capsys, *client, "send-file", worker_contact, str(tmp_path / "note.txt")) == ""
    saved = tmp_path / "saved"
    saved.mkdir()
    received = _run(capsys, *worker, "listen", "--count", "2", "--save-to", str(saved))
    lines = [json.loads(line) for line in received.splitlines()]
    assert lines[0]["text"] == "hello from the CLI"
    assert lines[1]["attachment"]["name"] == "note.txt"
    assert (saved / "note.txt").read_bytes() == b"an attachment from the CLI"
    _run(capsys, *worker, "alias", client_contact, "Sam")
    assert "Sam" in _run(capsys, *worker, "contacts")
    number = _run(capsys, *worker, "safety-number", client_contact).strip()
    assert number == _run(capsys, *client, "safety-number", worker_contact).strip()
    assert number in joined
    assert _run(capsys, *client, "revoke", worker_contact) == ""
    revoked = json.loads(_run(capsys, *worker, "listen", "--count", "1"))
    assert revoked == {"type": "consent", "contact": client_contact, "state": "revoked"}


def test_values_that_begin_with_a_dash_are_not_taken_for_flags() -> None:
    from confide_client.cli import _shield_positionals

    assert _shield_positionals(["--state", "s", "enrol", "-abc"]) == [
        "--state",
        "s",
        "enrol",
        "--",
        "-abc",
    ]
    assert _shield_positionals(["send", "--help"]) == ["send", "--help"]
    assert _shield_positionals(["listen", "--count", "2"]) == ["listen", "--count", "2"]


def test_send_gives_up_waiting_but_keeps_the_message_queued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A command-line send must end. Here the relay is reachable but refuses the message
    # (the worker's mailbox is full); after --wait the command fails, the message stays in
    # the device's outbox, and it goes out on a later run once the worker has read its mail.
    monkeypatch.setenv("CONFIDE_CLIENT_PASSPHRASE", "cli test passphrase")
    relay = RelayProcess(tmp_path / "relay", host="localhost", env={"CONFIDE_MAX_QUEUE_DEPTH": "3"})
    relay.create_org("Full mailbox test organisation")
    relay.publish_policy("Full mailbox test policy")
    worker = ["--state", str(tmp_path / "w.state"), "--relay", relay.http_url, "--key-cost", "min"]
    client = ["--state", str(tmp_path / "c.state"), "--key-cost", "min"]
    with relay:
        _run(capsys, *worker, "enrol", relay.enrol_worker())
        link = _run(capsys, *worker, "invite").strip()
        joined = _run(capsys, *client, "join", link, "--accept")
        worker_contact = joined.split("contact ")[1].split()[0]
        _run(capsys, *worker, "listen", "--count", "2")
        for text in ("one", "two", "three"):
            _run(capsys, *client, "send", worker_contact, text)
        capsys.readouterr()
        assert main([*client, "--wait", "2", "send", worker_contact, "four"]) == 1
        assert "stay queued" in capsys.readouterr().err
        received = _run(capsys, *worker, "listen", "--count", "3").splitlines()
        assert _run(capsys, *client, "send", worker_contact, "five") == ""
        received += _run(capsys, *worker, "listen", "--count", "2").splitlines()
    texts = [json.loads(line)["text"] for line in received]
    assert texts == ["one", "two", "three", "four", "five"]
