"""Annotated dependency aliases: the relay, the authenticated device, and role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from confide_server.encoding import b64d
from confide_server.errors import Forbidden, InvalidInput, Unauthenticated
from confide_server.relay import Relay
from confide_server.services import auth


def get_relay(request: Request) -> Relay:
    relay: Relay = request.app.state.relay
    return relay


RelayDep = Annotated[Relay, Depends(get_relay)]


async def get_principal(
    relay: RelayDep, authorization: Annotated[str | None, Header()] = None
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
    async with relay.reader.connect() as conn:
        return await auth.authenticate(conn, token, relay.clock())


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
