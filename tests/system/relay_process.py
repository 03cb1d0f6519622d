"""A real ``confide serve`` in a subprocess, for tests that need the relay as a process.

    relay = RelayProcess(tmp_path / "relay", env={"CONFIDE_DATABASE_URL": postgres_url})
    code = relay.create_org_and_enrolment_code()   # runs the admin CLI on the same database
    relay.start()
    relay.wait_ready()                             # polls /healthz, bounded
    ...  # talk to relay.http_url / relay.ws_url
    relay.kill9()                                  # or relay.stop() for a graceful exit
    relay.start(); relay.wait_ready()              # same database, same log files

Or ``with RelayProcess(...) as relay:`` (start, wait_ready, then stop on exit). The process
gets the caller's environment minus every CONFIDE_ variable, then CONFIDE_DATA_DIR (the
work directory's ``data``), then ``env``: so a test sees only the settings it chose. Its
stdout and stderr are appended to ``stdout.log`` and ``stderr.log`` in the work directory
across restarts, so a test can read everything the relay ever logged (``logs()``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

CONFIDE = Path(sys.executable).parent / "confide"
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def terminate(process: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode


class RelayProcess:
    """One relay process: start, wait_ready, stop, kill9, and the admin CLI beside it."""

    def __init__(
        self,
        workdir: Path,
        *,
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.env = self._environment(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/ws"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["CONFIDE_DATA_DIR"])

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "stdout.log"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "stderr.log"

    def _environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
        env["CONFIDE_DATA_DIR"] = str(self.workdir / "data")
        env.update(extra)
        return env

    # The process.

    def start(self) -> None:
        """Launch ``confide serve`` (it applies migrations first); returns at once."""
        if self.running:
            raise RuntimeError("the relay is already running")
        command = [str(CONFIDE), "serve", "--host", self.host, "--port", str(self.port)]
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=err, env=self.env, cwd=self.workdir
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 60.0, path: str = "/healthz") -> None:
        """Poll ``path`` until it answers 200; fail early, with the log, if the process dies."""
        deadline = time.monotonic() + timeout
        attempts = 0
        while time.monotonic() < deadline and attempts < 10_000:
            attempts += 1
            if not self.running:
                raise RuntimeError(f"the relay exited before it was ready:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.http_url}{path}", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{path} did not answer 200 within {timeout} s:\n{self.log_tail()}")

    def status(self, path: str = "/readyz") -> int | None:
        """The HTTP status of a GET, or None when nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.http_url}{path}", timeout=5) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return None

    def wait_status(self, status: int, path: str = "/readyz", timeout: float = 60.0) -> None:
        """Poll ``path`` until it answers ``status`` (e.g. /readyz 503 while Redis is down)."""
        deadline = time.monotonic() + timeout
        for _ in range(10_000):
            if self.status(path) == status:
                return
            if time.monotonic() > deadline or not self.running:
                break
            time.sleep(0.1)
        raise TimeoutError(f"{path} never answered {status}:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it does not exit in time."""
        if self.process is None:
            return None
        code = terminate(self.process, timeout)
        self.process = None
        return code

    def kill9(self) -> None:
        """SIGKILL: the process gets no chance to flush, close or clean up anything."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=15)
        self.process = None

    def __enter__(self) -> RelayProcess:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Logs.

    def logs(self) -> str:
        """Everything the relay wrote to stdout and stderr, over all its runs."""
        parts = [p.read_text(errors="replace") for p in (self.stdout_path, self.stderr_path)]
        return "".join(p for p in parts)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    # The admin CLI, on the same settings and database.

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run ``confide <args>`` with this relay's environment; raise if it fails."""
        result = subprocess.run(
            [str(CONFIDE), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"confide {' '.join(args)} failed:\n{result.stderr}")
        return result

    def create_org(self, name: str = "Test Peer Support", max_retention_days: int = 30) -> None:
        self.cli("create-org", "--name", name, "--max-retention-days", str(max_retention_days))

    def publish_policy(self, text: str) -> None:
        policy = self.workdir / "policy.txt"
        policy.write_text(text, encoding="utf-8")
        self.cli("publish-policy", "--file", str(policy))

    def publish_group_terms(self, text: str) -> None:
        terms = self.workdir / "group-terms.txt"
        terms.write_text(text, encoding="utf-8")
        self.cli("publish-group-terms", "--file", str(terms))

    def enrol_worker(self, role: str = "worker") -> str:
        """A one-time enrolment code (base64url), as the CLI prints it."""
        return self.cli("enrol-worker", "--role", role).stdout.strip()

    def create_org_and_enrolment_code(
        self, role: str = "worker", policy: str | None = "Test policy: limits of confidentiality."
    ) -> str:
        """A fresh database's organisation, its first policy, and one enrolment code.

        Each CLI call is a process of its own; ``policy=None`` skips publishing one, for tests
        that never create invites (a policy is needed only to redeem them).
        """
        self.create_org()
        if policy is not None:
            self.publish_policy(policy)
        return self.enrol_worker(role)


def two_nodes(
    stack: ExitStack, tmp_path: Path, env: dict[str, str], b_env: dict[str, str] | None = None
) -> tuple[RelayProcess, RelayProcess, str]:
    """Nodes A and B on one database, started one after the other; and an enrolment code."""
    a = RelayProcess(tmp_path / "a", env=env)
    b = RelayProcess(tmp_path / "b", env={**env, **(b_env or {})})
    code = a.create_org_and_enrolment_code(policy=None)
    # Start A first: both apply migrations at start, and one at a time keeps that simple.
    stack.enter_context(a)
    stack.enter_context(b)
    a.wait_ready(path="/readyz")
    b.wait_ready(path="/readyz")
    return a, b, code
