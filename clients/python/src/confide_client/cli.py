"""``confide-client``: the SDK from a shell, for integrators and operators.

Each command opens the device's state file (``--state``, default ``confide-device.state``),
unlocked by the passphrase in CONFIDE_CLIENT_PASSPHRASE or typed at a prompt, does one thing
against the relay (``--relay`` or CONFIDE_RELAY, default the ``make run`` address) and saves::

    confide-client enrol CODE                 register as a worker with an enrolment code
    confide-client invite                     print a one-time invite link (worker)
    confide-client invites                    list this device's pending invites (worker)
    confide-client cancel-invite INVITE       cancel a pending invite (its token or link)
    confide-client rejoin CONTACT             an invite link for a contact's new device (worker)
    confide-client join LINK [--accept] [--language LANG]
                                              redeem an invite as a client; shows the policy
                                              (in LANG when the organisation published it)
    confide-client contacts                   list contacts, their aliases and consent
    confide-client alias CONTACT NAME         name a contact (kept on this device only)
    confide-client send CONTACT TEXT          send a message and wait until the relay has it
    confide-client send-file CONTACT PATH     send a file as an encrypted attachment
    confide-client listen [--count N]         print events as JSON lines (N, or until ^C)
    confide-client safety-number CONTACT      the number to compare with the other side
                          [--pending]         ... or with a contact's new, unconfirmed key
    confide-client confirm-key CONTACT        accept a contact's new key after comparing it
    confide-client revoke CONTACT             withdraw consent (client); the chat freezes
    confide-client consent CONTACT [--accept] consent again to the current policy (client)
    confide-client names CONTACT NAME...      other names a contact goes by (this device only)
    confide-client supervisors                list the organisation's supervisors (worker)
    confide-client consult SUPERVISOR --text TEXT [--excerpt-from CONTACT --last N]
                   [--hide TERM]... [--keep N]... [--yes]
                                              print the de-identified draft and its
                                              redactions; send it with --yes (worker)
    confide-client reply-consult CASE TEXT    answer or follow up in a consultation
    confide-client close-consult CASE         close a consultation on both devices
    confide-client consultations              list this device's consultation threads
    confide-client group create NAME [--as DISPLAY]   a peer support group (worker)
    confide-client group invite GROUP         a single-use group invite link (worker)
    confide-client group join LINK [--accept] [--name NAME]
                                              join as a new client device; shows the terms
    confide-client group list | members GROUP the groups here, a group's members
    confide-client group send GROUP TEXT      a text to every other member
    confide-client group send-file GROUP PATH an attachment, uploaded once
    confide-client group remove GROUP MEMBER  take a member out (worker)
    confide-client group leave GROUP          leave (client); group close GROUP (worker)

Messages are written to standard output only by ``listen``; nothing is logged.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confide_client import consult_cli, group_cli
from confide_client.client import ConfideClient
from confide_client.consult_cli import CONSULT_COMMANDS
from confide_client.errors import ConfideError, RelayUnavailable, UnknownContact
from confide_client.invites import invite_link
from confide_client.messages import (
    ConsentChanged,
    Consultation,
    ConsultationClosed,
    ConsultationReply,
    ContactJoined,
    Event,
    GroupMemberJoined,
    GroupMemberRemoved,
    GroupMessage,
    GroupTermsChanged,
    KeyChanged,
    Message,
)
from confide_client.transport.base import Policy
from confide_client.transport.http import HttpTransport

__all__ = ["main"]

DEFAULT_RELAY = "http://127.0.0.1:8000"
DEFAULT_STATE = "confide-device.state"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="confide-client", description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=Path(DEFAULT_STATE))
    parser.add_argument("--relay", default=None, help=f"relay URL (default {DEFAULT_RELAY})")
    parser.add_argument(
        "--key-cost", default="interactive", choices=["interactive", "moderate", "min"]
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        help="seconds to wait for the relay to accept what is sent (default 60); "
        "what it has not accepted by then stays queued for the next run",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("enrol", help="register as a worker").add_argument("code")
    invite = sub.add_parser("invite", help="print a one-time invite link")
    invite.add_argument("--ttl", type=int, default=7 * 24 * 3600, help="seconds")
    sub.add_parser("invites", help="list pending invites (worker)")
    cancel = sub.add_parser("cancel-invite", help="cancel a pending invite (worker)")
    cancel.add_argument("invite", help="the invite's token or link, as `invites` shows it")
    rejoin = sub.add_parser("rejoin", help="an invite link for a contact's new device (worker)")
    rejoin.add_argument("contact")
    rejoin.add_argument("--ttl", type=int, default=7 * 24 * 3600, help="seconds")
    join = sub.add_parser("join", help="redeem an invite as a client")
    join.add_argument("link")
    join.add_argument("--accept", action="store_true", help="accept the policy without asking")
    join.add_argument(
        "--language",
        help="read the policy in this language (BCP 47: es) when the organisation published it;"
        " the receipt names the language of the text shown",
    )
    sub.add_parser("contacts", help="list contacts")
    alias = sub.add_parser("alias", help="name a contact on this device")
    alias.add_argument("contact")
    alias.add_argument("name")
    send = sub.add_parser("send", help="send a text message")
    send.add_argument("contact")
    send.add_argument("text")
    send_file = sub.add_parser("send-file", help="send a file as an attachment")
    send_file.add_argument("contact")
    send_file.add_argument("path", type=Path)
    listen = sub.add_parser("listen", help="print events as JSON lines")
    listen.add_argument("--count", type=int, default=None, help="stop after N events")
    listen.add_argument("--save-to", type=Path, default=None, help="download attachments here")
    safety = sub.add_parser("safety-number", aliases=["safety"], help="show the safety number")
    safety.add_argument("contact")
    safety.add_argument(
        "--pending",
        action="store_true",
        help="the number with the contact's new key that waits for confirm-key",
    )
    confirm = sub.add_parser("confirm-key", help="accept a contact's new key after comparing it")
    confirm.add_argument("contact")
    sub.add_parser("revoke", help="withdraw consent (client)").add_argument("contact")
    renew = sub.add_parser("consent", help="consent again to the current policy (client)")
    renew.add_argument("contact")
    renew.add_argument("--accept", action="store_true", help="accept the policy without asking")
    _consult_parsers(sub)
    group_cli.add_parsers(sub)
    return parser


def _consult_parsers(sub: Any) -> None:
    names = sub.add_parser("names", help="note other names a contact goes by")
    names.add_argument("contact")
    names.add_argument("name", nargs="+")
    sub.add_parser("supervisors", help="list the organisation's supervisors")
    consult = sub.add_parser("consult", help="ask a supervisor, de-identified")
    consult.add_argument("supervisor", help="the supervisor's device id or worker id")
    consult.add_argument("--text", required=True, help="the question")
    consult.add_argument("--excerpt-from", default=None, metavar="CONTACT")
    consult.add_argument("--last", type=int, default=5, help="messages in the excerpt")
    consult.add_argument("--hide", action="append", default=[], metavar="TERM")
    consult.add_argument("--keep", action="append", type=int, default=[], metavar="N")
    consult.add_argument("--yes", action="store_true", help="send the draft as shown")
    reply = sub.add_parser("reply-consult", help="answer or follow up in a consultation")
    reply.add_argument("case")
    reply.add_argument("text")
    sub.add_parser("close-consult", help="close a consultation").add_argument("case")
    sub.add_parser("consultations", help="list consultation threads")


def _passphrase(confirm: bool) -> str:
    from_env = os.environ.get("CONFIDE_CLIENT_PASSPHRASE")
    if from_env:
        return from_env
    first = getpass.getpass("Passphrase for this device: ")
    if confirm and getpass.getpass("Repeat the passphrase: ") != first:
        raise ConfideError("the passphrases differ")
    return first


def _relay(args: argparse.Namespace) -> str:
    if args.relay:
        return str(args.relay)
    joining = args.command == "join" or getattr(args, "action", None) == "join"
    if joining and "#" in args.link:
        return str(args.link.split("/join#")[0])
    return os.environ.get("CONFIDE_RELAY", DEFAULT_RELAY)


def _new(args: argparse.Namespace) -> ConfideClient:
    return ConfideClient.create(
        args.state, _passphrase(confirm=True), HttpTransport(_relay(args)), key_cost=args.key_cost
    )


def _open(args: argparse.Namespace) -> ConfideClient:
    # Without --relay or CONFIDE_RELAY the device uses the relay it registered with.
    url = args.relay or os.environ.get("CONFIDE_RELAY")
    transport = HttpTransport(url) if url else None
    return ConfideClient.open(args.state, _passphrase(confirm=False), transport)


def _ask(policy: Policy) -> bool:
    title = f"Confidentiality policy, version {policy.version} ({policy.language})"
    print(f"--- {title} ---\n{policy.text}\n---")
    return input("Do you accept this policy and consent? [y/N] ").strip().lower() in ("y", "yes")


def _policy_prompt(language: str | None, accept: bool) -> Callable[[Policy], bool]:
    """What ``join`` shows the client: the policy in ``language`` when it exists, with a
    note when the organisation has not published it in that language."""

    def prompt(policy: Policy) -> bool:
        if language is not None and policy.language != language:
            print(
                f"confide-client: the policy is not published in {language}; "
                f"it is shown in {policy.language}",
                file=sys.stderr,
            )
        return True if accept else _ask(policy)

    return prompt


def _event_json(event: Event) -> dict[str, Any]:
    if isinstance(event, Message):
        out: dict[str, Any] = {"type": "message", "contact": event.contact_id, "seq": event.seq}
        if event.text is not None:
            out["text"] = event.text
        if event.attachment is not None:
            a = event.attachment
            out["attachment"] = {"name": a.name, "mime": a.mime, "size": a.size}
        return out
    if isinstance(event, ContactJoined):
        return {"type": "contact-joined", "contact": event.contact_id}
    if isinstance(event, KeyChanged):
        return {"type": "key-changed", "contact": event.contact_id}
    if isinstance(event, Consultation):
        return {
            "type": "consultation",
            "case": event.case,
            "from_worker": event.from_worker,
            "text": event.text,
        }
    if isinstance(event, ConsultationReply):
        return {
            "type": "consultation-reply",
            "case": event.case,
            "contact": event.contact_id,
            "text": event.text,
        }
    if isinstance(event, ConsultationClosed):
        return {"type": "consultation-closed", "case": event.case}
    if isinstance(event, GroupMessage | GroupMemberJoined | GroupMemberRemoved | GroupTermsChanged):
        return _group_event_json(event)
    assert isinstance(event, ConsentChanged)
    return {"type": "consent", "contact": event.contact_id, "state": event.state.value}


def _group_event_json(
    event: GroupMessage | GroupMemberJoined | GroupMemberRemoved | GroupTermsChanged,
) -> dict[str, Any]:
    out: dict[str, Any] = {"group": event.group_id, "member": event.member_id, "name": event.name}
    if isinstance(event, GroupMemberJoined):
        return {"type": "group-member-joined", **out}
    if isinstance(event, GroupMemberRemoved):
        return {"type": "group-member-removed", **out, "reason": event.reason}
    if isinstance(event, GroupTermsChanged):
        return {"type": "group-terms-changed", **out, "version": event.version}
    message: dict[str, Any] = {"type": "group-message", **out, "id": event.message_id}
    if event.text is not None:
        message["text"] = event.text
    if event.attachment is not None:
        a = event.attachment
        message["attachment"] = {"name": a.name, "mime": a.mime, "size": a.size}
    return message


async def _listen(
    client: ConfideClient, count: int | None, save_to: Path | None, wait: float
) -> None:
    seen = 0
    async with client:
        while count is None or seen < count:
            event = await client.next_event()
            seen += 1
            if (
                isinstance(event, Message | GroupMessage)
                and event.attachment is not None
                and save_to
            ):
                data = await client.download(event.attachment)
                name = Path(event.attachment.name).name or "attachment"
                (save_to / name).write_bytes(data)
            print(json.dumps(_event_json(event)), flush=True)
        # What receiving queued (a group worker's device signs newcomers in and sends them
        # the roster) goes out before the command ends.
        await _flush(client, wait)


async def _send(
    client: ConfideClient, action: Callable[[], Awaitable[object]], wait: float
) -> None:
    async with client:
        await action()
        await _flush(client, wait)


async def _flush(client: ConfideClient, wait: float) -> None:
    """Wait for the relay to accept the outbox, but not forever: a command must end."""
    try:
        async with asyncio.timeout(wait):
            await client.flush()
    except TimeoutError:
        cause = f" (last error: {client.last_error})" if client.last_error else ""
        raise RelayUnavailable(
            f"the relay did not accept {client.pending} message(s) within {wait:g} s{cause}; "
            "they stay queued on this device and go out the next time it connects"
        ) from None


async def _run(args: argparse.Namespace) -> int:
    command = args.command
    if command == "enrol":
        client = _new(args)
        await client.enrol(args.code)
        print(f"enrolled; device {client.device_id}")
        await client.close()
    elif command == "join":
        client = _new(args)
        try:
            contact = await client.join(
                args.link, _policy_prompt(args.language, args.accept), language=args.language
            )
        except BaseException:
            await client.close()
            raise
        async with client:
            await _flush(client, args.wait)
        print(f"joined; your worker is contact {contact}")
        print(f"safety number: {client.safety_number(contact)}")
    elif command in ("invite", "rejoin"):
        client = _open(args)
        try:
            await client.login()
            if command == "rejoin":
                token = await client.create_rejoin_invite(args.contact, args.ttl)
            else:
                token = await client.create_invite(args.ttl)
        finally:
            await client.close()
        print(invite_link(client.relay_url or _relay(args), token))
    elif command == "cancel-invite":
        client = _open(args)
        try:
            await client.login()
            await client.cancel_invite(args.invite)
        finally:
            await client.close()
    elif command == "confirm-key":
        client = _open(args)
        async with client:
            await client.confirm_key_change(args.contact)
        print(f"confirmed; safety number: {client.safety_number(args.contact)}")
    elif command in ("contacts", "alias", "safety-number", "safety", "invites"):
        client = _open(args)
        try:
            _offline(client, args)
        finally:
            await client.close()
    elif command == "send":
        client = _open(args)
        await _send(
            client,
            lambda: _as_awaitable(client.send_text(args.contact, args.text)),
            args.wait,
        )
    elif command == "send-file":
        client = _open(args)
        data = args.path.read_bytes()
        await _send(
            client,
            lambda: client.send_attachment(args.contact, data, name=args.path.name),
            args.wait,
        )
    elif command == "revoke":
        client = _open(args)
        await _send(client, lambda: client.revoke_consent(args.contact), args.wait)
    elif command == "consent":
        client = _open(args)
        ask = (lambda _p: True) if args.accept else _ask
        await _send(client, lambda: client.renew_consent(args.contact, ask), args.wait)
    elif command == "listen":
        await _listen(_open(args), args.count, args.save_to, args.wait)
    elif command == "group":
        await group_cli.run(lambda: _new(args), lambda: _open(args), args, _flush, _relay(args))
    elif command in CONSULT_COMMANDS:
        await consult_cli.run(_open(args), args, _flush)
    return 0


def _offline(client: ConfideClient, args: argparse.Namespace) -> None:
    """The commands that need only the state file, not the relay."""
    if args.command == "contacts":
        for c in client.contacts():
            marker = "  [key changed: compare, then confirm-key]" if c.key_changed else ""
            print(f"{c.contact_id}  {c.consent.value:9}  {c.alias}{marker}".rstrip())
    elif args.command == "alias":
        client.set_alias(args.contact, args.name)
    elif args.command == "invites":
        url = client.relay_url or _relay(args)
        for i in client.pending_invites():
            state = "expired" if i.expired else "pending"
            until = datetime.fromtimestamp(i.expires_at, UTC).strftime("%Y-%m-%dT%H:%MZ")
            target = f"rejoin {i.contact_id}" if i.contact_id else "new"
            print(f"{i.token}  {state}  {until}  {target}  {invite_link(url, i.token)}")
    elif args.pending:
        print(client.pending_safety_number(args.contact))
    else:
        print(client.safety_number(args.contact))


async def _as_awaitable(value: object) -> object:
    return value


#: Subcommands that take only positional arguments, which may begin with "-" (an enrolment
#: code is base64url, and so is a message's first word sometimes).
#: (A contact id is hex, so the commands that take only one need no shield.)
POSITIONAL_ONLY = frozenset(
    {"enrol", "send", "send-file", "alias", "revoke", "cancel-invite", "names", "reply-consult"}
    | {"close-consult"}
)


def _shield_positionals(argv: list[str]) -> list[str]:
    """Insert "--" after a positional-only subcommand so argparse never reads a value as a flag."""
    for i, token in enumerate(argv):
        if token in POSITIONAL_ONLY:
            rest = argv[i + 1 :]
            if rest[:1] in (["--"], ["-h"], ["--help"]):
                return argv
            return [*argv[: i + 1], "--", *rest]
    return argv


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(_shield_positionals(sys.argv[1:] if argv is None else argv))
    try:
        return asyncio.run(_run(args))
    except UnknownContact as exc:
        print(f"confide-client: no contact {exc} on this device", file=sys.stderr)
        return 1
    except ConfideError as exc:
        print(f"confide-client: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
