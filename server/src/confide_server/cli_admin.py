"""The admin's commands without a browser: workers, devices, policy, settings, texts, audit.

Each acts through the same services as the web console's admin API (services/staff.py,
policies.py, org_settings.py, audit.py) and so writes the same audit events, with "cli" as
the actor. Listings go to stdout (``--json`` for one JSON document); messages to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from confide_server import cutoff
from confide_server.clock import system_clock
from confide_server.encoding import b64d
from confide_server.services import audit, org_settings, org_texts, organisation, policies, staff
from confide_server.settings import Settings
from confide_server.store.engine import make_engine
from confide_server.store.sqla_async import AsyncEngine

COMMANDS = ("workers", "devices", "policy", "settings", "texts", "audit")
ACTOR = "cli"


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    workers = sub.add_parser("workers", help="list workers, change a role, disable, enable")
    w = workers.add_subparsers(dest="action", required=True)
    w.add_parser("list").add_argument("--json", action="store_true")
    role = w.add_parser("role")
    role.add_argument("id")
    role.add_argument("role", choices=organisation.ROLES)
    w.add_parser("disable").add_argument("id")
    w.add_parser("enable").add_argument("id")

    devices = sub.add_parser("devices", help="list workers' devices, revoke one")
    d = devices.add_subparsers(dest="action", required=True)
    listing = d.add_parser("list")
    listing.add_argument("--worker")
    listing.add_argument("--json", action="store_true")
    d.add_parser("revoke").add_argument("id")

    policy = sub.add_parser("policy", help="the policy's versions, one version, a diff")
    p = policy.add_subparsers(dest="action", required=True)
    p.add_parser("list")
    show = p.add_parser("show")
    show.add_argument("version", type=int)
    show.add_argument("--language", help="the version's text in this language")
    diff = p.add_parser("diff")
    diff.add_argument("a", type=int)
    diff.add_argument("b", type=int)

    texts = sub.add_parser(
        "texts", help="the organisation's privacy guide and call checklist, per language"
    )
    t = texts.add_subparsers(dest="action", required=True)
    t.add_parser("show").add_argument("--json", action="store_true")
    put = t.add_parser("set", help="replace the apps' own wording of NAME in LANGUAGE")
    put.add_argument("name", choices=org_texts.NAMES)
    put.add_argument("language")
    put.add_argument("--file", required=True, type=Path)
    reset = t.add_parser("reset", help="go back to the apps' own wording")
    reset.add_argument("name", choices=org_texts.NAMES)
    reset.add_argument("language")

    settings = sub.add_parser("settings", help="show or change the organisation's settings")
    s = settings.add_subparsers(dest="action", required=True)
    s.add_parser("show")
    change = s.add_parser("set", help="VALUE in seconds, or with s, m, h, d or y")
    change.add_argument("name", choices=sorted(org_settings.SETTINGS))
    change.add_argument("value")

    trail = sub.add_parser("audit", help="show, verify or export the audit trail")
    a = trail.add_subparsers(dest="action", required=True)
    show = a.add_parser("show")
    show.add_argument("--limit", type=int, default=20)
    show.add_argument("--action", dest="only")
    a.add_parser("verify")
    export = a.add_parser("export", help="every event, oldest first, as JSON lines")
    export.add_argument("--output", type=Path)


def run(args: argparse.Namespace, settings: Settings) -> int:
    handler = _HANDLERS[(args.command, args.action)]

    async def go() -> int:
        engine = make_engine(settings.resolved_database_url)
        try:
            return await handler(engine, args, settings)
        finally:
            await engine.dispose()

    return asyncio.run(go())


Handler = Callable[[AsyncEngine, argparse.Namespace, Settings], Awaitable[int]]


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def _say(text: str) -> None:
    print(f"confide: {text}", file=sys.stderr)


def _id(value: str, what: str) -> bytes:
    return b64d(value, what, size=16)


async def _workers_list(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        rows = [r.as_json() for r in await staff.list_workers(conn)]
    if args.json:
        _out(orjson.dumps(rows).decode())
        return 0
    _out(f"{'WORKER':<24} {'ROLE':<10} {'DEVICES':>7}  {'CREATED':<10} STATE")
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        day = _day(int(str(r["created_day"])))
        _out(f"{r['worker_id']:<24} {r['role']:<10} {r['devices']:>7}  {day:<10} {state}")
    return 0


def _day(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d")


async def _workers_role(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.begin() as conn:
        await staff.set_role(conn, _id(args.id, "worker id"), args.role, system_clock(), ACTOR)
    _say(f"worker {args.id} is now {args.role}")
    return 0


async def _workers_disable(engine: AsyncEngine, args: argparse.Namespace, s: Settings) -> int:
    async with engine.begin() as conn:
        mailbox_ids = await staff.disable(conn, _id(args.id, "worker id"), system_clock(), ACTOR)
    await _close_connections(engine, s, mailbox_ids)
    _say(f"worker {args.id} disabled; its {len(mailbox_ids)} device(s) are cut off")
    return 0


async def _workers_enable(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.begin() as conn:
        await staff.enable(conn, _id(args.id, "worker id"), system_clock(), ACTOR)
    _say(f"worker {args.id} enabled")
    return 0


async def _devices_list(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    worker = None if args.worker is None else _id(args.worker, "worker id")
    async with engine.connect() as conn:
        rows = [r.as_json() for r in await staff.list_devices(conn, worker)]
    if args.json:
        _out(orjson.dumps(rows).decode())
        return 0
    _out(f"{'DEVICE':<24} {'WORKER':<24} {'CREATED':<10} STATE")
    for r in rows:
        state = "revoked" if r["revoked"] else "active"
        day = _day(int(str(r["created_day"])))
        _out(f"{r['device_id']:<24} {r['worker_id']!s:<24} {day:<10} {state}")
    return 0


async def _devices_revoke(engine: AsyncEngine, args: argparse.Namespace, s: Settings) -> int:
    async with engine.begin() as conn:
        mailbox_id = await staff.revoke_device(
            conn, _id(args.id, "device id"), system_clock(), ACTOR
        )
    await _close_connections(engine, s, [mailbox_id])
    _say(f"device {args.id} revoked")
    return 0


async def _close_connections(
    engine: AsyncEngine, settings: Settings, mailbox_ids: list[bytes]
) -> None:
    if settings.redis_url:
        await cutoff.announce_over_redis(engine, settings, mailbox_ids)
        return
    _say(
        "without Redis the relay closes the open connections within "
        f"{settings.cutoff_check_seconds:g} s (CONFIDE_CUTOFF_CHECK_SECONDS)"
    )


async def _policy_list(engine: AsyncEngine, _a: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        versions = await policies.history(conn)
        counts = await policies.consent_counts(conn)
    _out(f"{'VERSION':>7}  {'PUBLISHED':<10} {'CONSENTS':>8}  {'SHA-256':<64}  LANGUAGES")
    for v in versions:
        consents = counts.get(v.version, 0)
        languages = ",".join(v.languages)
        _out(f"{v.version:>7}  {_day(v.published_day):<10} {consents:>8}  {v.sha256}  {languages}")
    return 0


async def _policy_show(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        policy = await policies.show(conn, args.version)
    if args.language in (None, policy.language):
        _out(policy.text)
        return 0
    for text in policy.translations:
        if text.language == args.language:
            _out(text.text)
            return 0
    _say(f"policy version {args.version} has no text in {args.language}")
    return 1


async def _texts_show(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        texts = await org_texts.all_texts(conn)
    if args.json:
        _out(orjson.dumps(texts).decode())
        return 0
    for name in org_texts.NAMES:
        for language, text in texts.get(name, {}).items():
            _out(f"== {name} ({language})\n{text}")
    if not texts:
        _say("the organisation has set no texts; the apps use their own wording")
    return 0


async def _texts_set(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    text = args.file.read_text(encoding="utf-8")
    async with engine.begin() as conn:
        await org_texts.put(conn, args.name, args.language, text, system_clock(), ACTOR)
    _say(f"{args.name} in {args.language} set")
    return 0


async def _texts_reset(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.begin() as conn:
        await org_texts.remove(conn, args.name, args.language, system_clock(), ACTOR)
    _say(f"{args.name} in {args.language}: back to the apps' own wording")
    return 0


async def _policy_diff(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        _out(await policies.diff(conn, args.a, args.b))
    return 0


async def _settings_show(engine: AsyncEngine, _a: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        values = await org_settings.all_values(conn)
    for name, setting in org_settings.SETTINGS.items():
        _out(f"{name}={values[name]}  # {setting.meaning} (default {setting.default})")
    return 0


async def _settings_set(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    value = org_settings.parse_duration(args.value)
    async with engine.begin() as conn:
        await org_settings.change(conn, args.name, value, system_clock(), ACTOR)
    _say(f"{args.name} set to {value} seconds")
    return 0


async def _audit_show(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        events = await audit.latest(conn, max(1, args.limit), action=args.only)
    for e in events:
        hour = _hour(e.hour)
        subject = e.subject or "-"
        detail = e.detail or ""
        _out(f"{e.id:>6}  {hour}  {e.action:<20} {e.actor:<24} {subject:<24} {detail}".rstrip())
    return 0


def _hour(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:00")


async def _audit_verify(engine: AsyncEngine, _a: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        try:
            count, head = await audit.verify(conn)
        except audit.ChainBroken as exc:
            _say(f"audit trail BROKEN: {exc.detail}")
            return 1
    _say(f"audit trail intact: {count} events; head {head.hex()} (keep it elsewhere)")
    return 0


async def _audit_export(engine: AsyncEngine, args: argparse.Namespace, _s: Settings) -> int:
    async with engine.connect() as conn:
        _start, events = await audit.chain(conn)
    lines = b"".join(audit.json_lines(events))
    if args.output is None:
        sys.stdout.buffer.write(lines)
        sys.stdout.flush()
    else:
        args.output.write_bytes(lines)
        _say(f"{len(events)} events written to {args.output}")
    return 0


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("workers", "list"): _workers_list,
    ("workers", "role"): _workers_role,
    ("workers", "disable"): _workers_disable,
    ("workers", "enable"): _workers_enable,
    ("devices", "list"): _devices_list,
    ("devices", "revoke"): _devices_revoke,
    ("policy", "list"): _policy_list,
    ("policy", "show"): _policy_show,
    ("policy", "diff"): _policy_diff,
    ("texts", "show"): _texts_show,
    ("texts", "set"): _texts_set,
    ("texts", "reset"): _texts_reset,
    ("settings", "show"): _settings_show,
    ("settings", "set"): _settings_set,
    ("audit", "show"): _audit_show,
    ("audit", "verify"): _audit_verify,
    ("audit", "export"): _audit_export,
}
