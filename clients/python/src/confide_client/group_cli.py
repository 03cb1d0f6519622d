"""The group commands of ``confide-client group ...`` (docs/integrators.md, Groups).

``group join`` makes a new client device from a group invite link, shows the organisation's
group terms and the name others will see (``--name``, by default "Member", not the person's
own), and queues the acceptance for the inviting worker; membership starts when a worker's
device signs the roster that adds it, which ``listen`` shows as ``group-member-joined``.
``group add-worker`` invites a colleague's worker device to be a group worker: its device
answers while it runs (``listen``), and the inviting device signs it in while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from confide_client.client import ConfideClient
from confide_client.groups.manager import group_invite_link
from confide_client.transport.base import Policy

__all__ = ["add_parsers", "run"]

Flush = Callable[[ConfideClient, float], Awaitable[None]]


def add_parsers(sub: Any) -> None:
    group = sub.add_parser("group", help="peer support groups")
    g = group.add_subparsers(dest="action", required=True)
    create = g.add_parser("create", help="create a group (worker); prints its id")
    create.add_argument("name")
    create.add_argument("--as", dest="display", default="Group worker", help="your name in it")
    invite = g.add_parser("invite", help="print a single-use group invite link (worker)")
    invite.add_argument("group")
    invite.add_argument("--ttl", type=int, default=7 * 24 * 3600, help="seconds")
    join = g.add_parser("join", help="join a group by its invite link (a new client device)")
    join.add_argument("link")
    join.add_argument("--accept", action="store_true", help="accept the group terms unasked")
    join.add_argument("--name", default=None, help='the name others see (default "Member")')
    g.add_parser("list", help="the groups on this device")
    g.add_parser("members", help="a group's members: id, role, name").add_argument("group")
    send = g.add_parser("send", help="send a text to every other member")
    send.add_argument("group")
    send.add_argument("text")
    send_file = g.add_parser("send-file", help="send a file to every other member")
    send_file.add_argument("group")
    send_file.add_argument("path")
    remove = g.add_parser("remove", help="remove a member (worker)")
    remove.add_argument("group")
    remove.add_argument("member")
    add_worker = g.add_parser("add-worker", help="invite a colleague to be a group worker")
    add_worker.add_argument("group")
    add_worker.add_argument("colleague", help="the colleague's device id (or worker id)")
    consent = g.add_parser("consent", help="agree to a group's new terms (client)")
    consent.add_argument("group")
    consent.add_argument("--accept", action="store_true", help="accept the group terms unasked")
    g.add_parser("leave", help="leave a group (client)").add_argument("group")
    g.add_parser("close", help="close a group for everyone (worker)").add_argument("group")


def _terms_prompt(accept: bool, title: str, question: str) -> Callable[[Policy], bool]:
    """What ``join`` and ``consent`` show: the terms and a yes/no question (yes with --accept)."""

    def ask(terms: Policy) -> bool:
        if accept:
            return True
        print(f"--- {title}, version {terms.version} ---\n{terms.text}\n---")
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    return ask


async def run(
    new: Callable[[], ConfideClient],
    opened: Callable[[], ConfideClient],
    args: argparse.Namespace,
    flush: Flush,
    relay_url: str,
) -> None:
    action = args.action
    if action == "join":
        client = new()
        ask = _terms_prompt(args.accept, "Group terms", "Do you accept these terms and join?")
        try:
            group_id = await client.groups.join(args.link, ask, name=args.name)
        except BaseException:
            await client.close()
            raise
        async with client:
            await flush(client, args.wait)
        print(f"joined group {group_id}; a worker's device adds you when it is next online")
        return
    client = opened()
    if action in ("list", "members"):
        try:
            _offline(client, args)
        finally:
            await client.close()
        return
    async with client:
        if action == "create":
            print(await client.groups.create(args.name, display_name_=args.display))
        elif action == "invite":
            invite = await client.groups.invite(args.group, args.ttl)
            print(group_invite_link(client.relay_url or relay_url, invite))
        elif action == "send":
            client.groups.send_text(args.group, args.text)
        elif action == "send-file":
            path = Path(args.path)
            data = await asyncio.to_thread(path.read_bytes)
            await client.groups.send_attachment(args.group, data, name=path.name)
        elif action == "add-worker":
            await client.groups.add_worker(args.group, args.colleague)
        elif action == "remove":
            await client.groups.remove(args.group, args.member)
        elif action == "consent":
            question = "Do you accept them? If not, leave the group."
            ask = _terms_prompt(args.accept, "New group terms", question)
            if not await client.groups.consent_to_terms(args.group, ask):
                print("nothing sent: no new terms to agree to, or they were declined")
        elif action == "leave":
            await client.groups.leave(args.group)
        elif action == "close":
            await client.groups.close(args.group)
        await flush(client, args.wait)


def _offline(client: ConfideClient, args: argparse.Namespace) -> None:
    if args.action == "list":
        for g in client.groups.groups():
            state = g.gone or "active"
            print(f"{g.group_id}  {state:7}  {g.members:2} members  {g.name}".rstrip())
        return
    for m in client.groups.members(args.group):
        me = "  (you)" if m.me else ""
        print(f"{m.member_id}  {m.role:6}  {m.name}{me}")
