"""The servers a run measures, each started fresh on loopback and torn down afterwards.

A target is a started server plus what the generator needs to reach it: the dialect and
a way to make sender/recipient pairs. References get random mailbox ids; the relay gets
real devices through its enrolment flow (relay_setup.py). Databases are new for every
target: a temporary SQLite file, or a PostgreSQL database created for the run and dropped
after it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from relay_setup import bootstrap_admin_code, enrol_idle, enrol_pairs, relay_env
from servers import ServerProcess, free_port, reference_server
from workload import Pair, b64

PG_ADMIN_DSN = os.environ.get("CONFIDE_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Target:
    name: str
    server: ServerProcess
    dialect: str
    admin_code: str = ""
    pair_cache: list[Pair] = field(default_factory=list)

    def pairs(self, n: int) -> list[Pair]:
        """n pairs, made once and reused by every measurement on this server."""
        while len(self.pair_cache) < n:
            more = n - len(self.pair_cache)
            if self.dialect == "reference":
                self.pair_cache += [_random_pair() for _ in range(more)]
            else:
                self.pair_cache += enrol_pairs(self.server.port, self.admin_code, more)
        return self.pair_cache[:n]

    def fresh_pairs(self, n: int) -> list[Pair]:
        """n pairs used by nobody else, for a measurement that must start from empty queues."""
        if self.dialect == "reference":
            return [_random_pair() for _ in range(n)]
        return enrol_pairs(self.server.port, self.admin_code, n)

    def idle_pairs(self, connections: int) -> list[Pair]:
        """Recipients for idle connections: on the relay, one token per four connections."""
        if self.dialect == "reference":
            return [_random_pair() for _ in range(connections)]
        return enrol_idle(self.server.port, self.admin_code, connections)


def _random_pair() -> Pair:
    return Pair(mailbox=b64(os.urandom(16)), capability=b64(os.urandom(32)))


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            return True
    except OSError:
        return False


async def _pg_admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new database on 127.0.0.1:5432 for one target; yields its name, drops it after."""
    name = f"confide_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def reference(kind: str) -> Iterator[Target]:
    """Reference (a) forwarder, (b) sqlite, (c) postgres, on a fresh store, or (d) bare."""
    workdir = Path(tempfile.mkdtemp(prefix="confide-bench-"))
    try:
        if kind == "postgres":
            with fresh_postgres() as db:
                yield from _run_reference(kind, f"postgresql://postgres@127.0.0.1:5432/{db}")
        else:
            yield from _run_reference(kind, str(workdir / "reference.db"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_reference(kind: str, db: str) -> Iterator[Target]:
    server = reference_server(kind, db if kind in ("sqlite", "postgres") else "")
    server.start()
    try:
        yield Target(f"reference-{kind}", server, "reference")
    finally:
        server.stop()


@contextmanager
def relay(store: str, source: Path | None = None, name: str = "") -> Iterator[Target]:
    """`confide serve` as a user runs it, on a fresh SQLite file or PostgreSQL database.

    ``source``, a checkout of this repository, runs that checkout's server package (its
    server/src first on PYTHONPATH, its migrations with it) instead of the installed one:
    bench/compare.py measures two versions of the relay side by side that way.
    """
    workdir = Path(tempfile.mkdtemp(prefix="confide-bench-relay-"))
    try:
        with ExitStack() as stack:
            url = ""
            if store == "postgres":
                db = stack.enter_context(fresh_postgres())
                url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}"
            env = relay_env(workdir, url)
            if source is not None:
                env["PYTHONPATH"] = str(source.resolve() / "server" / "src")
            yield from _run_relay(name or f"relay-{store}", env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_relay(name: str, env: dict[str, str]) -> Iterator[Target]:
    admin_code = bootstrap_admin_code(env)
    port = free_port()
    confide = Path(sys.executable).with_name("confide")
    argv = [str(confide), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = ServerProcess(argv, port, env)
    server.start(ready_path="/readyz")
    try:
        target = Target(name, server, "relay")
        target.admin_code = admin_code
        yield target
    finally:
        server.stop()
