"""deploy/Caddyfile is accepted by a real Caddy and writes no access log."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import need_executable

from deploy.conftest import DEPLOY

CADDYFILE = DEPLOY / "Caddyfile"


def run_caddy(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    caddy = need_executable("caddy")
    # Caddy keeps certificates and state under $HOME / XDG paths: point them at a scratch
    # directory so validating never touches the machine's own Caddy.
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "CONFIDE_DOMAIN": "relay.example.org",
    }
    return subprocess.run(
        [caddy, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@pytest.fixture
def adapted(tmp_path: Path) -> dict[str, Any]:
    result = run_caddy(["adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"], tmp_path)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_caddy_validates_the_caddyfile(tmp_path: Path) -> None:
    result = run_caddy(["validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_the_caddyfile_is_formatted(tmp_path: Path) -> None:
    result = run_caddy(["fmt", str(CADDYFILE)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == CADDYFILE.read_text()


def test_no_access_log_and_no_admin_endpoint(adapted: dict[str, Any]) -> None:
    assert adapted["admin"]["disabled"] is True
    for server in adapted["apps"]["http"]["servers"].values():
        assert "logs" not in server, "an access log would record client IP addresses"


def test_error_logs_drop_addresses_headers_and_paths(adapted: dict[str, Any]) -> None:
    # Caddy logs failed requests even without an access log; its one log keeps the error
    # but deletes every field that could carry an address, a token or a mailbox id.
    (log,) = adapted["logging"]["logs"].values()
    assert log["encoder"]["format"] == "filter"
    fields = log["encoder"]["fields"]
    for field in ("remote_ip", "remote_port", "client_ip", "headers", "uri"):
        assert fields[f"request>{field}"] == {"filter": "delete"}, field


def test_proxies_to_the_relay_with_hsts(adapted: dict[str, Any]) -> None:
    text = json.dumps(adapted)
    assert '"dial": "relay:8000"' in text
    assert '"host": ["relay.example.org"]' in text
    assert "Strict-Transport-Security" in text
