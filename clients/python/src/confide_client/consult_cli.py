"""The consultation commands of ``confide-client`` (see cli.py's docstring for the list).

``consult`` prints the draft exactly as it would be sent and numbers every redaction, so
the worker can review it; ``--keep N`` undoes redaction N, ``--hide TERM`` masks a term
everywhere, and only ``--yes`` sends.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable

from confide_client.client import ConfideClient
from confide_client.consultations import Draft
from confide_client.deidentify import add_term, undo
from confide_client.errors import StateError

__all__ = ["CONSULT_COMMANDS", "run"]

CONSULT_COMMANDS = frozenset(
    {"names", "supervisors", "consult", "reply-consult", "close-consult", "consultations"}
)

Flush = Callable[[ConfideClient, float], Awaitable[None]]


def _reviewed(draft: Draft, hide: list[str], keep: list[int]) -> Draft:
    redactions = list(draft.redactions)
    for term in hide:
        redactions = add_term(draft.original, redactions, term)
    for index in keep:
        if not 1 <= index <= len(redactions):
            raise StateError(f"--keep {index}: the draft has redactions 1 to {len(redactions)}")
        redactions = undo(redactions, index - 1)
    return Draft(draft.original, tuple(redactions), draft.contact_id)


def _show(draft: Draft) -> None:
    print("--- Draft, as the supervisor would see it ---")
    print(draft.text)
    print("--- Redactions (undo one with --keep N, add one with --hide TERM) ---")
    for n, r in enumerate(draft.redactions, 1):
        state = "kept as written" if r.undone else r.label
        print(f"{n:3}  {r.kind:8} {json.dumps(r.original, ensure_ascii=False)} -> {state}")
    if not draft.redactions:
        print("  (none found: read the draft yourself before sending)")


async def _consult(client: ConfideClient, args: argparse.Namespace, flush: Flush) -> None:
    async with client:
        supervisors = await client.supervision.supervisors()
        chosen = [s for s in supervisors if args.supervisor in (s.device_id, s.worker_id)]
        if not chosen:
            raise StateError(f"{args.supervisor!r} is not a supervisor (see `supervisors`)")
        draft = client.supervision.draft(args.text, excerpt_from=args.excerpt_from, last=args.last)
        draft = _reviewed(draft, args.hide, args.keep)
        _show(draft)
        if not args.yes:
            print("Not sent: run again with --yes to send this draft.")
            return
        case = await client.supervision.ask(chosen[0].device_id, draft)
        await flush(client, args.wait)
        print(f"sent; case {case}")


async def run(client: ConfideClient, args: argparse.Namespace, flush: Flush) -> None:
    command = args.command
    if command == "names":
        client.note_names(args.contact, args.name)
        await client.close()
    elif command == "consultations":
        for t in client.supervision.threads():
            state = "closed" if t.closed else "open"
            side = "asked" if t.asking else "received"
            print(f"{t.case}  {state:6}  {side:8}  {len(t.notes)} message(s)")
        await client.close()
    elif command == "supervisors":
        await client.login()
        for s in await client.supervision.supervisors():
            print(f"{s.worker_id}  {s.device_id}")
        await client.close()
    elif command == "consult":
        await _consult(client, args, flush)
    else:
        async with client:
            if command == "reply-consult":
                await client.supervision.reply(args.case, args.text)
            else:
                await client.supervision.close(args.case)
            await flush(client, args.wait)
