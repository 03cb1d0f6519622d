"""The backup script works on a live relay's database, and a restored relay delivers.

A backup is taken while the relay runs with envelopes queued; more envelopes arrive and all
are delivered afterwards; then the relay is stopped, the backup restored and the relay
started again. The recipient gets exactly the envelopes that were queued when the backup was
taken, as docs/operations.md says a restore does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import need_executable

from system.relay_process import REPO_ROOT, RelayProcess
from system.wire import Device, Inbox, http_send

pytestmark = pytest.mark.slow

SCRIPT = REPO_ROOT / "deploy" / "backup" / "confide_backup.py"


def run_script(relay: RelayProcess, *args: str) -> str:
    """The backup script as an operator runs it, with the relay's own settings."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=relay.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


async def test_backup_of_a_live_relay_restores_its_queue(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    if "CONFIDE_DATABASE_URL" in database_env:
        need_executable("pg_dump")
        need_executable("pg_restore")
    relay = RelayProcess(tmp_path / "relay", env=database_env)
    code = relay.create_org_and_enrolment_code(policy=None)
    queued = [f"queued before the backup {i}".encode() for i in range(20)]
    later = [f"sent after the backup {i}".encode() for i in range(5)]
    with relay:
        async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
            device = await Device.enrol(http, code)
            for i, body in enumerate(queued):
                await http_send(http, device, f"queued-{i}", body)
            backup = Path(run_script(relay, "backup", "--out", str(tmp_path / "backups")))
            for i, body in enumerate(later):
                await http_send(http, device, f"later-{i}", body)
            async with Inbox(relay.ws_url, device) as inbox:
                everything = [(await inbox.next_envelope(30))[1] for _ in queued + later]
            assert everything == queued + later

    run_script(relay, "restore", str(backup))
    with relay:
        async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
            await http_send(http, device, "sentinel", b"sentinel")
        async with Inbox(relay.ws_url, device) as inbox:
            restored = await inbox.receive_until(b"sentinel", wait=30, limit=100)
    assert restored == [*queued, b"sentinel"]
