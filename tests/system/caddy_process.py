"""Caddy run with deploy/Caddyfile in front of a relay, on free ports, for tests.

The site name is ``localhost``, for which Caddy issues a certificate from its own local CA
(kept in the work directory, never installed into the system's trust store); ``ssl_context``
trusts exactly that CA, so TLS is verified for real.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from system.relay_process import REPO_ROOT, free_port, terminate

CADDYFILE = REPO_ROOT / "deploy" / "Caddyfile"


class CaddyProcess:
    def __init__(self, executable: str, workdir: Path, upstream: str) -> None:
        self.executable = executable
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.https_port = free_port()
        self.http_port = free_port()
        self.env = {
            **os.environ,
            "HOME": str(workdir),
            "XDG_DATA_HOME": str(workdir / "data"),
            "XDG_CONFIG_HOME": str(workdir / "config"),
            "CONFIDE_DOMAIN": "localhost",
            "CONFIDE_UPSTREAM": upstream,
            "CONFIDE_HTTPS_PORT": str(self.https_port),
            "CONFIDE_HTTP_PORT": str(self.http_port),
        }
        self.output = workdir / "caddy.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def https_url(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def wss_url(self) -> str:
        return f"wss://localhost:{self.https_port}/v1/ws"

    @property
    def root_certificate(self) -> Path:
        return self.workdir / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.root_certificate))

    def start(self, timeout: float = 60.0) -> None:
        """Start Caddy and wait (bounded) until it serves TLS with its local CA."""
        command = [self.executable, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
        with self.output.open("ab") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir
            )
        deadline = time.monotonic() + timeout
        for _ in range(10_000):
            if self.root_certificate.exists() and self._answers():
                return
            if time.monotonic() > deadline or self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"Caddy did not come up:\n{self.log()}")

    def _answers(self) -> bool:
        request = urllib.request.Request(f"{self.https_url}/healthz")
        try:
            with urllib.request.urlopen(request, timeout=2, context=self.ssl_context()):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError, ssl.SSLError):
            return False

    def log(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
            self.process = None
