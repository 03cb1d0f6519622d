"""Web Push for worker devices: the relay's VAPID public key, and the device's subscription.

Only workers' devices may subscribe: a client's browser keeps no trace of the relay it can
avoid, and a push subscription is one (docs/web.md). The stored subscription is the endpoint
URL alone (push/subscriptions.py), checked by push/endpoint.py; the app sends it again on
every unlock, which moves its expiry on.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from confide_server.api.deps import ClockDep, DatabaseDep, RelayDep, SettingsDep, WorkerDep
from confide_server.api.types import PROBLEMS, Model
from confide_server.clock import expiry
from confide_server.errors import NotFound
from confide_server.push import subscriptions
from confide_server.push.endpoint import MAX_ENDPOINT, check_endpoint
from confide_server.relay import Relay

router = APIRouter(prefix="/v1/push", tags=["push"], responses=PROBLEMS)


class PushKeyOut(BaseModel):
    public_key: str = Field(description="VAPID application server key: P-256 point, base64url")


class SubscriptionIn(Model):
    endpoint: str = Field(max_length=MAX_ENDPOINT, description="PushSubscription.endpoint")


class SubscriptionOut(BaseModel):
    expires_at: int


async def _public_key(relay: Relay) -> str:
    key = None if relay.pusher is None else await relay.pusher.key()
    if key is None:
        raise NotFound("Web Push is not enabled on this relay")
    return key.public_key


@router.get("/key")
async def key(_worker: WorkerDep, relay: RelayDep) -> PushKeyOut:
    """The key to pass as applicationServerKey to PushManager.subscribe."""
    return PushKeyOut(public_key=await _public_key(relay))


@router.put("/subscription")
async def subscribe(
    body: SubscriptionIn,
    worker: WorkerDep,
    relay: RelayDep,
    db: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> SubscriptionOut:
    """Store (or replace, or renew) this device's push endpoint."""
    await _public_key(relay)
    endpoint = check_endpoint(
        body.endpoint, settings.push_service_hosts, settings.push_allow_loopback
    )
    expires_at = expiry(clock(), settings.push_subscription_ttl_seconds)
    async with db.write() as conn:
        await subscriptions.save(conn, worker.device_id, endpoint, expires_at)
    return SubscriptionOut(expires_at=expires_at)


@router.delete("/subscription", status_code=204)
async def unsubscribe(worker: WorkerDep, db: DatabaseDep) -> None:
    """Forget this device's push endpoint (nothing happens if there is none)."""
    async with db.write() as conn:
        await subscriptions.remove(conn, worker.device_id)
