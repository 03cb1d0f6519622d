"""One relay process per SQLite database (store/filelock.py): a second one is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from confide_server.store import filelock
from confide_server.store.batch_sqlite import SQLiteBatches
from confide_server.store.migrate import upgrade

from .test_serve import _free_port, _wait_healthy

HOLD = (
    "import sys\n"
    "from confide_server.store import filelock\n"
    "filelock.acquire(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_database_held_by_another_process_is_refused(tmp_path: Path) -> None:
    database = str(tmp_path / "relay.db")
    upgrade(f"sqlite+aiosqlite:///{database}")
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD, database],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        backend = SQLiteBatches(database, 3600)
        with pytest.raises(filelock.DatabaseInUse, match="another relay process"):
            backend.open()
        with pytest.raises(filelock.DatabaseInUse):
            backend.transaction([], [], 0, lambda _lookup: None)  # type: ignore[arg-type,return-value]
    finally:
        other.communicate(timeout=30)  # closes its stdin (it lets go then) and stdout
    # Gone (as after kill -9: the kernel lets go of a dead process's locks): free again.
    backend = SQLiteBatches(database, 3600)
    backend.open()
    backend.close_now()


def test_holders_within_one_process_share_the_lock(tmp_path: Path) -> None:
    database = str(tmp_path / "relay.db")
    filelock.acquire(database)
    filelock.acquire(database)
    filelock.release(database)
    probe = subprocess.run(
        [sys.executable, "-c", HOLD, database], input="", capture_output=True, text=True
    )
    assert probe.returncode != 0 and "DatabaseInUse" in probe.stderr  # still held once
    filelock.release(database)
    probe = subprocess.run(
        [sys.executable, "-c", HOLD, database], input="", capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr


@pytest.mark.slow
def test_a_second_confide_serve_on_the_same_file_exits_with_an_error(tmp_path: Path) -> None:
    env = dict(os.environ, CONFIDE_DATA_DIR=str(tmp_path))
    for name in ("CONFIDE_DATABASE_URL", "CONFIDE_REDIS_URL"):
        env.pop(name, None)
    log = tmp_path / "first.log"
    port = _free_port()
    with log.open("wb") as out:
        first = subprocess.Popen(
            [sys.executable, "-m", "confide_server", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}")
        second = subprocess.run(
            [sys.executable, "-m", "confide_server", "serve", "--port", str(_free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1, second.stderr
        assert "another relay process is serving the SQLite database" in second.stderr
        # The first one goes on serving.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0, log.read_text()
