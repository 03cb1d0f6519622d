"""The confide-client CLI against a real relay: enrol, invite, join, send, listen, safety number."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from confide_client import ConfideClient
from confide_client.cli import main
from confide_crypto.consent import ConsentReceipt
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


def _fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 1
    return capsys.readouterr().err


def test_cli_lists_cancels_and_rejoins_invites_and_confirms_a_new_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_relay: RelayProcess,
) -> None:
    monkeypatch.setenv("CONFIDE_CLIENT_PASSPHRASE", "cli test passphrase")
    relay = shared_relay
    worker = ["--state", str(tmp_path / "w.state"), "--relay", relay.http_url, "--key-cost", "min"]
    old = ["--state", str(tmp_path / "old.state"), "--key-cost", "min"]
    new = ["--state", str(tmp_path / "new.state"), "--key-cost", "min"]
    _run(capsys, *worker, "enrol", relay.enrol_worker())
    assert _run(capsys, *worker, "invites") == ""
    kept = _run(capsys, *worker, "invite").strip()
    dropped = _run(capsys, *worker, "invite").strip()
    listed = [line.split("  ") for line in _run(capsys, *worker, "invites").splitlines()]
    assert [(row[1], row[3], row[4]) for row in listed] == [
        ("pending", "new", kept),
        ("pending", "new", dropped),
    ]
    assert [row[0] for row in listed] == [kept.split("#")[1], dropped.split("#")[1]]

    # Cancelled by its token (which may begin with "-"): the link no longer redeems.
    assert _run(capsys, *worker, "cancel-invite", listed[1][0]) == ""
    assert [line.split("  ")[4] for line in _run(capsys, *worker, "invites").splitlines()] == [kept]
    assert "no pending invite" in _fails(capsys, *worker, "cancel-invite", dropped)
    spare = ["--state", str(tmp_path / "spare.state"), "--key-cost", "min"]
    assert "404" in _fails(capsys, *spare, "join", dropped, "--accept")

    joined = _run(capsys, *old, "join", kept, "--accept")
    old_worker = joined.split("contact ")[1].split()[0]
    events = [
        json.loads(line) for line in _run(capsys, *worker, "listen", "--count", "2").splitlines()
    ]
    kim = events[0]["contact"]
    assert "no key change" in _fails(capsys, *worker, "safety-number", kim, "--pending")

    # A rejoin invite for Kim's new device: listed as such, and the same conversation.
    rejoin = _run(capsys, *worker, "rejoin", kim).strip()
    assert rejoin.startswith(f"{relay.http_url}/join#")
    (row,) = [line.split("  ") for line in _run(capsys, *worker, "invites").splitlines()]
    assert (row[1], row[3], row[4]) == ("pending", f"rejoin {kim}", rejoin)
    assert "no contact 0123456789ab" in _fails(capsys, *worker, "rejoin", "0123456789ab")
    joined = _run(capsys, *new, "join", rejoin, "--accept")
    new_worker = joined.split("contact ")[1].split()[0]
    _run(capsys, *new, "send", new_worker, "new phone")
    changed = json.loads(_run(capsys, *worker, "listen", "--count", "1"))
    assert changed == {"type": "key-changed", "contact": kim}
    assert "[key changed" in _run(capsys, *worker, "contacts")
    assert _run(capsys, *worker, "invites") == ""
    assert "confirm" in _fails(capsys, *worker, "send", kim, "to whom?")

    pending = _run(capsys, *worker, "safety", kim, "--pending").strip()
    assert pending == _run(capsys, *new, "safety-number", new_worker).strip()
    assert pending != _run(capsys, *worker, "safety-number", kim).strip()
    confirmed = _run(capsys, *worker, "confirm-key", kim)
    assert confirmed == f"confirmed; safety number: {pending}\n"
    released = [
        json.loads(line) for line in _run(capsys, *worker, "listen", "--count", "2").splitlines()
    ]
    assert released[0] == {"type": "consent", "contact": kim, "state": "granted"}
    assert (released[1]["contact"], released[1]["text"]) == (kim, "new phone")
    assert "[key changed" not in _run(capsys, *worker, "contacts")
    assert "no key change" in _fails(capsys, *worker, "confirm-key", kim)
    assert _run(capsys, *worker, "send", kim, "welcome back") == ""
    reply = json.loads(_run(capsys, *new, "listen", "--count", "1"))
    assert (reply["contact"], reply["text"]) == (new_worker, "welcome back")
    assert old_worker


def _group_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relay: RelayProcess, *names: str
) -> list[list[str]]:
    """Group terms at the relay, and the CLI's arguments for one state file per name."""
    monkeypatch.setenv("CONFIDE_CLIENT_PASSPHRASE", "cli test passphrase")
    relay.publish_group_terms("CLI group terms: every member reads what you write.")
    common = ["--relay", relay.http_url, "--key-cost", "min"]
    return [["--state", str(tmp_path / f"{name}.state"), *common] for name in names]


def test_cli_group_create_invite_join_send_remove_leave(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_relay: RelayProcess,
) -> None:
    relay = shared_relay
    worker, a, b = _group_devices(tmp_path, monkeypatch, relay, "worker", "a", "b")
    _run(capsys, *worker, "enrol", relay.enrol_worker())
    group = _run(capsys, *worker, "group", "create", "CLI circle", "--as", "Ash").strip()
    for device, name in ((a, "Robin"), (b, "Quill")):
        link = _run(capsys, *worker, "group", "invite", group).strip()
        assert link.startswith(f"{relay.http_url}/join#g1.")
        assert group in _run(capsys, *device, "group", "join", link, "--accept", "--name", name)
    # The worker's device takes both acceptances and signs each newcomer in.
    events = [json.loads(e) for e in _run(capsys, *worker, "listen", "--count", "3").splitlines()]
    assert [(e["type"], e["name"]) for e in events] == [
        ("group-member-joined", "Ash"),
        ("group-member-joined", "Robin"),
        ("group-member-joined", "Quill"),
    ]
    roster = _run(capsys, *worker, "group", "members", group)
    assert "Robin" in roster and "Quill" in roster and "(you)" in roster
    # Robin sees Ash, itself, then Quill; Quill sees all three at once.
    seen_a = [json.loads(e) for e in _run(capsys, *a, "listen", "--count", "3").splitlines()]
    assert [e["name"] for e in seen_a] == ["Ash", "Robin", "Quill"]
    _run(capsys, *b, "listen", "--count", "3")
    assert _run(capsys, *b, "group", "send", group, "-- hello from Quill") == ""
    (tmp_path / "sheet.txt").write_bytes(b"a group attachment from the CLI")
    _run(capsys, *b, "group", "send-file", group, str(tmp_path / "sheet.txt"))
    got = [json.loads(e) for e in _run(capsys, *a, "listen", "--count", "2").splitlines()]
    assert got[0]["type"] == "group-message" and got[0]["text"] == "-- hello from Quill"
    assert got[0]["name"] == "Quill" and got[1]["attachment"]["name"] == "sheet.txt"
    quill = next(line.split()[0] for line in roster.splitlines() if line.endswith("Quill"))
    _run(capsys, *worker, "group", "remove", group, quill)
    removed = json.loads(_run(capsys, *a, "listen", "--count", "1"))
    assert removed == {
        "type": "group-member-removed",
        "group": group,
        "member": quill,
        "name": "Quill",
        "reason": "removed",
    }
    _run(capsys, *a, "group", "leave", group)
    assert "left" in _run(capsys, *a, "group", "list")


def test_cli_join_reads_the_policy_in_the_language_asked_for(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`join --language es` shows the version's Spanish text and signs a receipt naming it;
    a language the organisation has not published falls back to the original, and says so."""
    monkeypatch.setenv("CONFIDE_CLIENT_PASSPHRASE", "cli test passphrase")
    relay = RelayProcess(tmp_path / "relay")
    relay.create_org()
    relay.publish_policy("What you share stays private, except when the law requires.")
    spanish = tmp_path / "es.txt"
    spanish.write_text("Lo que compartes es privado, salvo cuando la ley lo exige.", "utf-8")
    relay.cli("publish-policy", "--file", str(spanish), "--language", "es", "--translation-of", "1")
    with relay:
        worker = ["--state", str(tmp_path / "w.state"), "--relay", relay.http_url]
        worker += ["--key-cost", "min"]
        _run(capsys, *worker, "enrol", relay.enrol_worker())
        answers = iter(["y", "y"])
        monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))
        for name, language in (("es", "es"), ("fr", "fr")):
            link = _run(capsys, *worker, "invite").strip()
            state = str(tmp_path / f"{name}.state")
            capsys.readouterr()
            assert (
                main(["--state", state, "--key-cost", "min", "join", link, "--language", language])
                == 0
            )
            shown = capsys.readouterr()
            if language == "es":
                assert "Lo que compartes es privado" in shown.out
                assert "(es)" in shown.out
            else:
                assert "What you share stays private" in shown.out
                assert "not published in fr" in shown.err
        records = asyncio.run(_consent_records(tmp_path / "w.state"))
        languages = [ConsentReceipt.decode(r.statement.data).policy_language for r in records]
        assert sorted(languages) == ["en", "es"]


async def _consent_records(state: Path) -> list[object]:
    worker = ConfideClient.open(state, "cli test passphrase")
    try:
        await worker.login()
        return list(await worker.consent_records())
    finally:
        await worker.close()


def test_cli_group_add_worker(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_relay: RelayProcess,
) -> None:
    relay = shared_relay
    ash, birch = _group_devices(tmp_path, monkeypatch, relay, "ash", "birch")
    _run(capsys, *ash, "enrol", relay.enrol_worker())
    birch_device = _run(capsys, *birch, "enrol", relay.enrol_worker()).split()[-1]
    group = _run(capsys, *ash, "group", "create", "CLI circle", "--as", "Ash").strip()
    _run(capsys, *ash, "listen", "--count", "1")
    assert _run(capsys, *ash, "group", "add-worker", group, birch_device) == ""
    # Birch's device answers the invite while it listens, and Ash's signs it in while it
    # listens: the two run at once, each until it has been shown its events.
    capsys.readouterr()
    listening = threading.Thread(target=main, args=([*birch, "listen", "--count", "2"],))
    listening.start()
    assert main([*ash, "listen", "--count", "1"]) == 0
    listening.join(60)
    assert not listening.is_alive()
    events = [json.loads(e) for e in capsys.readouterr().out.splitlines()]
    assert sorted((e["type"], e["name"]) for e in events) == [
        ("group-member-joined", "Ash"),
        ("group-member-joined", "Group worker"),
        ("group-member-joined", "Group worker"),
    ]
    # Both devices list both workers, with their roles.
    for device, me in ((ash, "Ash"), (birch, "Group worker")):
        roster = _run(capsys, *device, "group", "members", group).splitlines()
        shown = sorted(line.split(maxsplit=1)[1] for line in roster)
        assert shown == sorted(
            f"worker  {name}{'  (you)' if name == me else ''}" for name in ("Ash", "Group worker")
        )
