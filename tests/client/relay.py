"""A real ``confide serve`` subprocess for the client's end-to-end tests.

Everything the relay (and its admin commands) writes goes to one log file, because the
no-plaintext-at-rest proof searches all of it afterwards. The relay binds to ``localhost``
rather than a literal address so that its own start-up line cannot be mistaken for a client
address in that search.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CONFIDE = str(Path(sys.executable).with_name("confide"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RelayProcess:
    """One relay process and the environment its admin commands share with it."""

    data_dir: Path
    log_path: Path
    database_url: str | None = None
    redis_url: str | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
        env["CONFIDE_DATA_DIR"] = str(self.data_dir)
        env["CONFIDE_PUBLIC_URL"] = self.url
        if self.database_url:
            env["CONFIDE_DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["CONFIDE_REDIS_URL"] = self.redis_url
        return env

    def admin(self, *args: str) -> str:
        """Run a ``confide`` admin command; returns its standard output."""
        with self.log_path.open("ab") as log:
            done = subprocess.run(
                [CONFIDE, *args], env=self.env(), stdout=subprocess.PIPE, stderr=log, check=True
            )
        return done.stdout.decode().strip()

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [CONFIDE, "serve", "--host", "localhost", "--port", str(self.port)],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"relay exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"relay did not become healthy; see {self.log_path}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, sig: signal.Signals = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()


def pg_dump(database_url: str, out: Path) -> bytes:
    """A full plain-format dump of the relay's PostgreSQL database."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    exe = shutil.which("pg_dump")
    assert exe is not None
    subprocess.run([exe, "--no-owner", "-f", str(out), dsn], check=True)
    return out.read_bytes()
