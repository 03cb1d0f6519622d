"""The ``confide`` command: serve, migrate, check-config and the admin commands.

Every command reads Settings from the environment (CONFIDE_*). Admin commands apply
migrations first, so they work on a fresh database. Secrets printed (enrolment codes) go to
stdout alone on a line, so scripts can capture them; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from confide_server import cli_admin
from confide_server.clock import system_clock
from confide_server.encoding import b64e
from confide_server.errors import RelayError
from confide_server.services import group_terms, organisation, policy_texts
from confide_server.settings import Settings
from confide_server.store.engine import make_engine
from confide_server.store.migrate import upgrade
from confide_server.store.sqla_async import AsyncEngine


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="confide", description="Confide relay")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations, then serve HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("check-config", help="validate settings and print them (secrets hidden)")
    org = sub.add_parser("create-org", help="create the organisation")
    org.add_argument("--name", required=True)
    org.add_argument("--max-retention-days", type=int, default=30)
    policy = sub.add_parser(
        "publish-policy",
        help="publish a new confidentiality policy version, or a version in one more language",
    )
    policy.add_argument("--file", required=True, type=Path)
    policy.add_argument("--language", default="en", help="the text's language (BCP 47: en, es)")
    policy.add_argument(
        "--translation-of",
        type=int,
        metavar="VERSION",
        help="add this text as VERSION in --language, instead of publishing a new version",
    )
    terms = sub.add_parser(
        "publish-group-terms", help="publish a new version of the terms for peer support groups"
    )
    terms.add_argument("--file", required=True, type=Path)
    enrol = sub.add_parser("enrol-worker", help="create a worker; prints a one-time enrolment code")
    enrol.add_argument("--role", choices=organisation.ROLES, default="worker")
    cli_admin.add_commands(sub)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"confide: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, settings)
    except RelayError as exc:
        print(f"confide: {exc.detail}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "check-config":
        shown = settings.model_dump(mode="json")
        shown["turn_secret"] = "(set)" if shown["turn_secret"] else "(unset)"
        for key, value in sorted(shown.items()):
            print(f"CONFIDE_{key.upper()}={value}", file=sys.stderr)
        return 0
    if args.command == "serve":
        # SQLite serves one relay process: held until this process ends (store/filelock.py).
        _hold_sqlite(settings.resolved_database_url)
    upgrade(settings.resolved_database_url, settings.migrations_dir)
    if args.command == "migrate":
        print("confide: database is at the newest schema", file=sys.stderr)
        return 0
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "create-org":
        return _with_db(settings, lambda e: _create_org(e, args.name, args.max_retention_days))
    if args.command == "publish-policy":
        text = args.file.read_text(encoding="utf-8")
        if args.translation_of is not None:
            version = args.translation_of
            return _with_db(settings, lambda e: _translate(e, version, args.language, text))
        return _with_db(settings, lambda e: _publish(e, text, args.language))
    if args.command == "publish-group-terms":
        text = args.file.read_text(encoding="utf-8")
        return _with_db(settings, lambda e: _publish_terms(e, text))
    if args.command == "enrol-worker":
        return _with_db(settings, lambda e: _enrol(e, args.role, settings))
    if args.command in cli_admin.COMMANDS:
        return cli_admin.run(args, settings)
    raise AssertionError(args.command)


def _serve(settings: Settings, host: str, port: int) -> int:
    # What is imported and built here lives as long as the process and makes almost no
    # garbage: the collector waits until it is built (entry.py says why).
    gc.disable()
    import uvicorn

    from confide_server.app import create_app
    from confide_server.logs import log_config
    from confide_server.serving import uvicorn_options

    # uvicorn handles SIGTERM and SIGINT itself (graceful shutdown), then re-raises the signal
    # against the handler installed before; no-op ones let the process exit with status 0.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: None)
    app = create_app(settings)
    # Everything built so far lives as long as the process: frozen, the collector no longer
    # walks it. A larger first generation lets a message's short-lived objects (futures,
    # frames, requests) die young instead of being promoted and walked again and again.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    gc.enable()
    # The SQLite writer's thread needs the interpreter lock back after every WAL sync (and
    # every SQLite call it makes); while the event loop is busy it waits until the loop is
    # made to let go, after the switch interval (5 ms by default). A tenth of that shortens
    # the group commit's waits and the latency at moderate load, and costs no throughput
    # (docs/benchmarks.md, lab notebook, where the values tried are).
    sys.setswitchinterval(0.0005)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        log_config=log_config(settings.log_level),
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=10,
        **uvicorn_options(settings),
    )
    return 0


def _hold_sqlite(url: str) -> None:
    """Take the SQLite database's lock before migrating or serving; raises DatabaseInUse."""
    from sqlalchemy.engine import make_url

    from confide_server.store import filelock
    from confide_server.store.engine import is_sqlite

    database = make_url(url).database
    if is_sqlite(url) and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        filelock.acquire(database)


def _with_db(settings: Settings, action: Callable[[AsyncEngine], Awaitable[None]]) -> int:
    async def go() -> None:
        engine = make_engine(settings.resolved_database_url)
        try:
            await action(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
    return 0


async def _create_org(engine: AsyncEngine, name: str, days: int) -> None:
    async with engine.begin() as conn:
        await organisation.create(conn, name, days * 86_400, system_clock())
    print(f"confide: organisation {name!r} created", file=sys.stderr)


async def _publish_terms(engine: AsyncEngine, text: str) -> None:
    async with engine.begin() as conn:
        published = await group_terms.publish(conn, text, system_clock(), "cli")
    print(
        f"confide: group terms version {published.version} published (sha256 {published.sha256})",
        file=sys.stderr,
    )


async def _publish(engine: AsyncEngine, text: str, language: str) -> None:
    async with engine.begin() as conn:
        policy = await organisation.publish_policy(conn, text, system_clock(), "cli", language)
    print(
        f"confide: policy version {policy.version} published in {policy.language}"
        f" (sha256 {policy.sha256})",
        file=sys.stderr,
    )


async def _translate(engine: AsyncEngine, version: int, language: str, text: str) -> None:
    async with engine.begin() as conn:
        added = await policy_texts.add(conn, version, language, text, system_clock(), "cli")
    print(
        f"confide: policy version {version} published in {added.language} (sha256 {added.sha256})",
        file=sys.stderr,
    )


async def _enrol(engine: AsyncEngine, role: str, settings: Settings) -> None:
    async with engine.begin() as conn:
        _worker, code = await organisation.enrol_worker(
            conn, role, system_clock(), settings.enrolment_code_ttl_seconds, "cli"
        )
    print(f"confide: one-time enrolment code for a new {role} (keep it secret):", file=sys.stderr)
    print(b64e(code))
