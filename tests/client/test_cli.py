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


def test_cli_consultation_drafts_sends_and_replies(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_relay: RelayProcess,
) -> None:
    monkeypatch.setenv("CONFIDE_CLIENT_PASSPHRASE", "cli test passphrase")
    relay = shared_relay

    def device(name: str) -> list[str]:
        state = str(tmp_path / f"{name}.state")
        return ["--state", state, "--relay", relay.http_url, "--key-cost", "min"]

    worker, supervisor, client = device("worker"), device("supervisor"), device("client")
    _run(capsys, *worker, "enrol", relay.enrol_worker())
    enrolled = _run(capsys, *supervisor, "enrol", relay.enrol_worker("supervisor"))
    supervisor_device = enrolled.split("device ")[1].strip()
    assert supervisor_device in _run(capsys, *worker, "supervisors")
    link = _run(capsys, *worker, "invite").strip()
    worker_contact = _run(capsys, *client, "join", link, "--accept").split("contact ")[1].split()[0]
    client_contact = json.loads(_run(capsys, *worker, "listen", "--count", "2").splitlines()[0])[
        "contact"
    ]
    _run(capsys, *client, "send", worker_contact, "It's Dana. Call me on 555-201-7788 at Rosa's")
    _run(capsys, *worker, "listen", "--count", "1")
    _run(capsys, *worker, "alias", client_contact, "Dana K")
    _run(capsys, *worker, "names", client_contact, "Danielle")

    question = ["--text", "Danielle wants to move off the app. Advice?"]
    excerpt = ["--excerpt-from", client_contact, "--last", "1"]
    preview = _run(capsys, *worker, "consult", supervisor_device, *question, *excerpt)
    assert "Not sent" in preview
    assert "Dana" not in preview.split("--- Redactions")[0]
    assert "[client] wants to move off the app" in preview
    assert "Them: It's [client]. Call me on [phone] at Rosa's" in preview
    sent = _run(
        capsys,
        *worker,
        "consult",
        supervisor_device,
        *question,
        *excerpt,
        "--hide",
        "Rosa",
        "--yes",
    )
    case = sent.split("sent; case ")[1].strip()
    assert "at [redacted]'s" in sent
    asked = json.loads(_run(capsys, *supervisor, "listen", "--count", "1"))
    assert asked["type"] == "consultation" and asked["case"] == case
    assert asked["text"].startswith("[client] wants to move off the app")
    assert "Rosa" not in asked["text"] and "Dana" not in asked["text"]
    assert set(asked) == {"type", "case", "from_worker", "text"}
    assert _run(capsys, *supervisor, "reply-consult", case, "Ask what worries them.") == ""
    replied = json.loads(_run(capsys, *worker, "listen", "--count", "1"))
    assert replied == {
        "type": "consultation-reply",
        "case": case,
        "contact": client_contact,
        "text": "Ask what worries them.",
    }
    assert f"{case}  open" in _run(capsys, *supervisor, "consultations")
