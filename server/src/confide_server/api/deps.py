"""Annotated dependency aliases: the relay's parts, the authenticated device, role checks.

Routes take what they use, typed: ``DatabaseDep`` (reads and transactions), ``ClockDep``,
``SettingsDep``, ``MailboxesDep`` (sends, acks, queue reads: mailboxes.py), ``MetricsDep``.
``RelayDep`` remains for the few parts that have no alias of their own (rate limiters,
quotas, fan-out, readiness).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from confide_server.clock import Clock
from confide_server.encoding import b64d
from confide_server.errors import Forbidden, InvalidInput, Unauthenticated
from confide_server.mailboxes import Mailboxes
from confide_server.metrics import Metrics
from confide_server.relay import Relay
from confide_server.services import auth
from confide_server.settings import Settings
from confide_server.store.database import Database


def get_relay(request: Request) -> Relay:
    relay: Relay = request.app.state.relay
    return relay


RelayDep = Annotated[Relay, Depends(get_relay)]


def get_database(relay: RelayDep) -> Database:
    return relay.database


def get_clock(relay: RelayDep) -> Clock:
    return relay.clock


def get_settings(relay: RelayDep) -> Settings:
    return relay.settings


def get_mailboxes(relay: RelayDep) -> Mailboxes:
    return relay.mailboxes


def get_metrics(relay: RelayDep) -> Metrics:
    return relay.metrics


DatabaseDep = Annotated[Database, Depends(get_database)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MailboxesDep = Annotated[Mailboxes, Depends(get_mailboxes)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


async def get_principal(
    db: DatabaseDep, clock: ClockDep, authorization: Annotated[str | None, Header()] = None
) -> auth.Principal:
    if authorization is None:
        raise Unauthenticated("send Authorization: Bearer <token>")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise Unauthenticated("the Authorization header must be Bearer <token>")
    try:
        token = b64d(value.strip(), "token", size=32)
    except InvalidInput:
        raise Unauthenticated("the bearer token is malformed") from None
    async with db.read() as conn:
        return await auth.authenticate(conn, token, clock())


PrincipalDep = Annotated[auth.Principal, Depends(get_principal)]


def get_worker(principal: PrincipalDep) -> auth.Principal:
    if principal.kind != "worker":
        raise Forbidden("only a worker's device may do this")
    return principal


WorkerDep = Annotated[auth.Principal, Depends(get_worker)]


def get_admin(principal: WorkerDep) -> auth.Principal:
    if principal.role != "admin":
        raise Forbidden("only an admin may do this")
    return principal


def client_key(request: Request) -> str:
    """The key for per-address rate limits; it stays in memory (see ratelimit.py)."""
    return request.client.host if request.client else "unknown"


ClientKeyDep = Annotated[str, Depends(client_key)]


def path_id(value: str, what: str) -> bytes:
    return b64d(value, what, size=16)


def owner_only(principal: auth.Principal, mailbox_id: bytes) -> None:
    """Reading a mailbox or managing its capabilities is for its own device only."""
    if mailbox_id != principal.mailbox_id:
        raise Forbidden("this is not your mailbox")
