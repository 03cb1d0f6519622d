"""Shared paths and helpers for the deployment-file tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"


def settings_env_names() -> set[str]:
    """Every CONFIDE_ variable the relay reads, from its real Settings class."""
    from confide_server.settings import Settings

    prefix = str(Settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


@pytest.fixture
def deploy_dir() -> Path:
    return DEPLOY
