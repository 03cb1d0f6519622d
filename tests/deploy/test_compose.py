"""deploy/compose.yaml is a valid Compose file whose services keep the relay's promises.

There is no Docker engine here, so the file is checked against the Compose specification's
JSON schema, which ships inside check-jsonschema (no network needed), and its contents are
checked for what the operations guide promises.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.conftest import DEPLOY, settings_env_names

COMPOSE = DEPLOY / "compose.yaml"


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert exe is not None, "check-jsonschema is a dev dependency"
    return subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_compose_file_matches_the_compose_spec() -> None:
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  relay:\n    image: x\n    ports: {a: 1}\n    bogus: true\n")
    assert check_jsonschema(broken).returncode != 0


def test_the_stack_has_its_five_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"relay", "postgres", "redis", "caddy", "coturn"}


def test_only_caddy_and_coturn_face_the_network(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("relay", "postgres", "redis"):
        assert "ports" not in services[name], f"{name} must not publish ports"
        assert services[name]["networks"] == ["internal"]
    assert compose["networks"]["internal"]["internal"] is True
    assert {p.split(":")[0] for p in services["caddy"]["ports"]} == {"80", "443"}
    assert services["coturn"]["network_mode"] == "host"


def test_relay_runs_in_production_mode_on_postgres_and_redis(compose: dict[str, Any]) -> None:
    relay = compose["services"]["relay"]
    env = relay["environment"]
    assert env["CONFIDE_ENV"] == "production"
    assert env["CONFIDE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["CONFIDE_DATABASE_URL"]
    assert env["CONFIDE_REDIS_URL"].startswith("redis://redis:6379/")
    assert json.loads(env["CONFIDE_TURN_URLS"].replace("${CONFIDE_DOMAIN}", "x"))
    assert relay["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert relay["depends_on"]["redis"]["condition"] == "service_healthy"
    assert relay["build"]["dockerfile"] == "deploy/Dockerfile"
    assert relay["read_only"] is True
    assert relay["cap_drop"] == ["ALL"]
    assert "/readyz" in " ".join(relay["healthcheck"]["test"])


def test_every_confide_variable_given_to_the_relay_is_a_setting(
    compose: dict[str, Any],
) -> None:
    names = {n for n in compose["services"]["relay"]["environment"] if n.startswith("CONFIDE_")}
    unknown = names - settings_env_names()
    assert not unknown, f"not settings of the relay: {sorted(unknown)}"


def test_redis_keeps_nothing_on_disk(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"
    assert "volumes" not in compose["services"]["redis"]


def test_secrets_are_required_and_documented_in_env_example() -> None:
    text = COMPOSE.read_text()
    referenced = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    required = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", text))
    example = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert {"POSTGRES_PASSWORD", "CONFIDE_TURN_SECRET", "CONFIDE_DOMAIN"} <= required
    assert referenced <= example, f"undocumented: {sorted(referenced - example)}"


def test_files_the_compose_file_mounts_exist(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), source


def test_the_relay_accepts_the_compose_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from confide_server.settings import Settings

    sample = {"CONFIDE_DOMAIN": "relay.example.org", "POSTGRES_PASSWORD": "pw"}
    sample["CONFIDE_TURN_SECRET"] = "a-long-enough-turn-secret"

    def interpolate(value: str) -> str:
        return re.sub(r"\$\{([A-Z_]+)[^}]*\}", lambda m: sample[m.group(1)], value)

    for name, value in compose["services"]["relay"]["environment"].items():
        if name.startswith("CONFIDE_"):
            monkeypatch.setenv(name, interpolate(str(value)))
    settings = Settings()
    assert settings.env == "production"
    assert settings.public_url == "https://relay.example.org"
    assert settings.turn_urls[0] == "turn:relay.example.org:3478?transport=udp"
    assert settings.forwarded_allow_ips == "*"
