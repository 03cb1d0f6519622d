"""Challenges and session tokens (docs/protocol.md, "Authentication")."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from confide_server.api.deps import (
    ClientKeyDep,
    ClockDep,
    DatabaseDep,
    PrincipalDep,
    RelayDep,
    SettingsDep,
)
from confide_server.api.types import PROBLEMS, Id16, Key32, Model, Sig64
from confide_server.encoding import b64e
from confide_server.services import auth

router = APIRouter(prefix="/v1", tags=["auth"], responses=PROBLEMS)


class ChallengeOut(BaseModel):
    challenge: str
    expires_at: int


class TokenIn(Model):
    device_id: Id16
    challenge: Key32
    signature: Sig64


class TokenOut(BaseModel):
    token: str
    expires_at: int


@router.post("/challenges", status_code=201)
async def new_challenge(
    relay: RelayDep, db: DatabaseDep, clock: ClockDep, settings: SettingsDep, client: ClientKeyDep
) -> ChallengeOut:
    """A 32-byte challenge, single use, valid for 60 s."""
    relay.anonymous.hit(client)
    async with db.write() as conn:
        challenge, expires_at = await auth.new_challenge(
            conn, clock(), settings.challenge_ttl_seconds
        )
    return ChallengeOut(challenge=b64e(challenge), expires_at=expires_at)


@router.post("/auth/token", status_code=201)
async def token(
    body: TokenIn,
    relay: RelayDep,
    db: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    client: ClientKeyDep,
) -> TokenOut:
    """Exchange a signature over b"Confide auth v1\\x00" + challenge for a bearer token."""
    relay.anonymous.hit(client)
    async with db.write() as conn:
        secret, expires_at = await auth.issue_token(
            conn,
            body.device_id,
            body.challenge,
            body.signature,
            clock(),
            settings.token_ttl_seconds,
        )
    return TokenOut(token=b64e(secret), expires_at=expires_at)


@router.delete("/auth/token", status_code=204)
async def logout(principal: PrincipalDep, db: DatabaseDep) -> Response:
    async with db.write() as conn:
        await auth.revoke_token(conn, principal.token_hash)
    return Response(status_code=204)
