"""The admin's command line without a browser (issue 15): workers, devices and policies act
through the same services as the console and write the same audit events, as actor ``cli``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from confide_server.app import create_app
from confide_server.cli import main

from .conftest import SettingsFactory, in_memory
from .helpers import FakeClock, enrol


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0, args
    return capsys.readouterr().out


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = orjson.loads(_run(capsys, *args, "--json"))
    return rows


def test_workers_devices_and_policies_from_the_command_line(
    db_url: str,
    make_settings: SettingsFactory,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONFIDE_DATABASE_URL", db_url)
    monkeypatch.delenv("CONFIDE_REDIS_URL", raising=False)
    settings = make_settings(db_url)
    _run(capsys, "create-org", "--name", "Org")
    for n, text in enumerate(("Line one.\nLine two.\n", "Line one.\nLine 2.\n")):
        (tmp_path / f"p{n}.txt").write_text(text, encoding="utf-8")
        _run(capsys, "publish-policy", "--file", str(tmp_path / f"p{n}.txt"))

    async def a_worker_with_a_device() -> str:
        app = create_app(settings, clock=clock)
        async with in_memory(app) as client:
            device = await enrol(client, app.state.relay)
        return device.device_id

    device_id = asyncio.run(a_worker_with_a_device())
    workers = _json(capsys, "workers", "list")
    assert [(w["role"], w["devices"], w["disabled"]) for w in workers] == [("worker", 1, False)]
    worker_id = str(workers[0]["worker_id"])

    _run(capsys, "workers", "role", "--", worker_id, "supervisor")
    assert _json(capsys, "workers", "list")[0]["role"] == "supervisor"
    # "=" keeps an id that begins with "-" from being read as an option.
    devices = _json(capsys, "devices", "list", f"--worker={worker_id}")
    assert [(d["device_id"], d["revoked"]) for d in devices] == [(device_id, False)]
    _run(capsys, "devices", "revoke", "--", device_id)
    assert _json(capsys, "devices", "list")[0]["revoked"] is True
    _run(capsys, "workers", "disable", "--", worker_id)
    assert _json(capsys, "workers", "list")[0]["disabled"] is True
    _run(capsys, "workers", "enable", "--", worker_id)
    assert _json(capsys, "workers", "list")[0]["disabled"] is False
    assert "active" in _run(capsys, "workers", "list")  # the table for people

    listed = _run(capsys, "policy", "list").splitlines()
    assert len(listed) == 3 and listed[1].split()[0] == "1" and listed[2].split()[0] == "2"
    assert _run(capsys, "policy", "show", "2") == "Line one.\nLine 2.\n"
    diff = _run(capsys, "policy", "diff", "1", "2")
    assert "-Line two." in diff and "+Line 2." in diff
    assert main(["policy", "show", "9"]) == 1

    events = [orjson.loads(line) for line in _run(capsys, "audit", "export").splitlines()]
    by_cli = [(e["action"], e["subject"]) for e in events if e["actor"] == "cli"]
    assert by_cli[-4:] == [
        ("worker.role", worker_id),
        ("device.revoke", device_id),
        ("worker.disable", worker_id),
        ("worker.enable", worker_id),
    ]
    assert main(["audit", "verify"]) == 0


def test_a_policy_in_several_languages_and_the_texts_from_the_command_line(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONFIDE_DATABASE_URL", db_url)
    monkeypatch.delenv("CONFIDE_REDIS_URL", raising=False)
    _run(capsys, "create-org", "--name", "Org")
    english, spanish = tmp_path / "en.txt", tmp_path / "es.txt"
    english.write_text("What we keep private.\n", encoding="utf-8")
    spanish.write_text("Lo que mantenemos en privado.\n", encoding="utf-8")
    _run(capsys, "publish-policy", "--file", str(english))
    _run(
        capsys,
        "publish-policy",
        "--language",
        "es",
        "--file",
        str(spanish),
        "--translation-of",
        "1",
    )
    # The same language twice for one version is refused: a receipt may name the first.
    assert (
        main(
            ["publish-policy", "--language", "es", "--file", str(english), "--translation-of", "1"]
        )
        == 1
    )
    assert main(["publish-policy", "--language", "no such", "--file", str(spanish)]) == 1
    listed = _run(capsys, "policy", "list").splitlines()
    assert listed[1].split()[0] == "1" and listed[1].split()[-1] == "en,es"
    assert (
        _run(capsys, "policy", "show", "1", "--language", "es") == "Lo que mantenemos en privado.\n"
    )
    assert _run(capsys, "policy", "show", "1") == "What we keep private.\n"
    assert main(["policy", "show", "1", "--language", "fr"]) == 1

    guide = tmp_path / "guide.txt"
    guide.write_text("Busca un lugar tranquilo.\n", encoding="utf-8")
    _run(capsys, "texts", "set", "privacy_guide", "es", "--file", str(guide))
    assert orjson.loads(_run(capsys, "texts", "show", "--json")) == {
        "privacy_guide": {"es": "Busca un lugar tranquilo.\n"}
    }
    assert "== privacy_guide (es)" in _run(capsys, "texts", "show")
    _run(capsys, "texts", "reset", "privacy_guide", "es")
    assert orjson.loads(_run(capsys, "texts", "show", "--json")) == {}
    assert main(["texts", "reset", "privacy_guide", "es"]) == 1
