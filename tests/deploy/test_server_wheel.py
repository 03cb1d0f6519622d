"""The relay's wheel carries its migrations: installed outside the checkout, it can migrate.

Settings.migrations_dir once pointed only into the source tree, so a wheel installed anywhere
else had no migrations to run. This builds the wheel, installs it (with its locked
dependencies, from the package cache) into a fresh virtual environment in a temporary
directory, and runs ``confide migrate`` there against a new SQLite file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UV = REPO / ".tools" / "bin" / "uv"

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_installed_wheel_migrates_a_new_database(tmp_path: Path) -> None:
    if not UV.exists():
        pytest.skip("uv is bootstrapped by `make install`")
    dist = tmp_path / "dist"
    for package in ("confide-server", "confide-crypto"):
        _run(UV, "build", "--quiet", "--package", package, "--wheel", "--out-dir", dist, cwd=REPO)
    (wheel,) = dist.glob("confide_server-*.whl")
    (crypto_wheel,) = dist.glob("confide_crypto-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith("migrations/env.py") for n in names), names
    assert any("migrations/versions/0001_" in n for n in names), names

    venv = tmp_path / "venv"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        _run(
            UV,
            "export",
            "--quiet",
            "--frozen",
            "--no-dev",
            "--no-emit-workspace",
            "--no-hashes",
            "--package",
            "confide-server",
            cwd=REPO,
        )
    )
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    _run(
        UV,
        "pip",
        "install",
        "--quiet",
        "-r",
        requirements,
        wheel,
        crypto_wheel,
        cwd=tmp_path,
        env=env,
    )

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")} | {
        "CONFIDE_DATA_DIR": str(workdir / "data")
    }
    _run(venv / "bin" / "confide", "migrate", cwd=workdir, env=run_env)
    with sqlite3.connect(workdir / "data" / "confide.db") as db:
        (version,) = db.execute("select version_num from alembic_version").fetchone()
    latest = sorted(p.name for p in (REPO / "migrations" / "versions").glob("0*.py"))[-1]
    assert latest.startswith(version), (version, latest)
