"""deploy/systemd/confide.service passes systemd's own checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import need_executable

from deploy.conftest import DEPLOY

UNIT = DEPLOY / "systemd" / "confide.service"
INSTALLED_CONFIDE = "/opt/confide/.venv/bin/confide"


def unit_with_real_executable(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's `confide`.

    `systemd-analyze verify` rejects a unit whose executable is missing, and /opt/confide is
    where an installation puts it, not where this checkout is.
    """
    confide = shutil.which("confide", path=str(Path(sys.executable).parent))
    assert confide is not None
    text = UNIT.read_text()
    assert INSTALLED_CONFIDE in text
    unit = tmp_path / "confide.service"
    unit.write_text(text.replace(INSTALLED_CONFIDE, confide))
    return unit


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = need_executable("systemd-analyze")
    result = subprocess.run(
        [analyze, "verify", str(unit_with_real_executable(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


def test_the_unit_is_sandboxed(tmp_path: Path) -> None:
    # systemd rates a unit's exposure from 0 (locked down) to 10; the relay needs only the
    # network and its state directory, so it should stay near the bottom of that scale
    # (--threshold counts tenths: 20 means an exposure of 2.0 at most).
    analyze = need_executable("systemd-analyze")
    result = subprocess.run(
        [
            analyze,
            "security",
            "--offline=true",
            "--threshold=20",
            str(unit_with_real_executable(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Overall exposure level" in result.stdout


def test_the_unit_runs_serve_unprivileged() -> None:
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED_CONFIDE} serve" in text
    assert "DynamicUser=yes" in text
    assert "StateDirectory=confide" in text
    assert "NoNewPrivileges=yes" in text
