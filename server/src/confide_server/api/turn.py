"""Short-lived TURN credentials for calls (coturn's ``use-auth-secret`` scheme).

The username is ``<expiry>:<random>``; the password is base64(HMAC-SHA1(secret, username)),
which coturn recomputes with the shared secret. Nothing is stored, and the random part is
not tied to the device. Requests are limited per device (in memory, like every rate limit),
since each set of credentials lets coturn spend bandwidth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from confide_server.api.deps import ClockDep, PrincipalDep, RelayDep, SettingsDep
from confide_server.api.types import PROBLEMS
from confide_server.encoding import b64e

router = APIRouter(prefix="/v1", tags=["calls"], responses=PROBLEMS)


class TurnOut(BaseModel):
    urls: list[str]
    username: str
    credential: str
    ttl: int
    ice_transport_policy: Literal["all", "relay"]


def turn_credentials(secret: str, expiry: int) -> tuple[str, str]:
    username = f"{expiry}:{b64e(os.urandom(9))}"
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode("ascii")


@router.get("/turn")
async def turn(
    principal: PrincipalDep, relay: RelayDep, clock: ClockDep, settings: SettingsDep
) -> TurnOut:
    """Credentials for the TURN servers in CONFIDE_TURN_URLS, valid for turn_ttl_seconds."""
    relay.turn_requests.hit(principal.device_id, "TURN credential requests")
    ttl = settings.turn_ttl_seconds
    username, credential = turn_credentials(settings.turn_secret, int(clock()) + ttl)
    policy: Literal["all", "relay"] = "relay" if settings.turn_relay_only else "all"
    return TurnOut(
        urls=settings.turn_urls,
        username=username,
        credential=credential,
        ttl=ttl,
        ice_transport_policy=policy,
    )
