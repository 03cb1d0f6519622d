"""``create_app(settings)``: the only place the relay's web application is assembled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from confide_server import cutoff, policy_notice, problems, web
from confide_server.api import (
    admin,
    admin_org,
    admin_texts,
    attachments,
    auth,
    consent,
    devices,
    health,
    invites,
    mailboxes,
    organisation,
    prekeys,
    push,
    records,
    turn,
)
from confide_server.clock import Clock, system_clock
from confide_server.limits import BodyLimit
from confide_server.relay import Relay
from confide_server.settings import Settings
from confide_server.tasks import cancel_all
from confide_server.ws.connection import Connection, Context
from confide_server.ws.socket import RawSocket, WebSocketRoute

ROUTERS = (
    health.router,
    auth.router,
    devices.router,
    invites.router,
    prekeys.router,
    mailboxes.router,
    consent.router,
    attachments.router,
    organisation.router,
    admin.router,
    admin_org.router,
    admin_texts.router,
    records.router,
    turn.router,
    push.router,
)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    """Build the relay app. Nothing connects until the app's lifespan starts."""
    settings = settings if settings is not None else Settings()
    relay = Relay(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await relay.start()
        watcher = asyncio.create_task(
            cutoff.watch(relay.reader, relay.fanout, settings.cutoff_check_seconds),
            name="confide-cutoff",
        )
        policies = asyncio.create_task(
            policy_notice.watch(relay.reader, relay.fanout, settings.cutoff_check_seconds),
            name="confide-policy-notice",
        )
        try:
            yield
        finally:
            await cancel_all([watcher, policies])
            await relay.close()

    app = FastAPI(
        title="Confide relay",
        version="1",
        description="Forwards opaque end-to-end encrypted envelopes. See docs/protocol.md.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.relay = relay
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)

    web.install_docs(app)
    web.install_web_app(app, settings.web_dist)
    app.add_middleware(
        BodyLimit,
        default=max(settings.max_http_body_bytes, settings.max_frame_bytes),
        attachments=settings.max_attachment_bytes,
    )
    app.add_middleware(web.SecurityHeaders)

    context = Context.build(settings, relay.mailboxes, relay.metrics)

    async def websocket(socket: RawSocket) -> None:
        await Connection(socket, context).run()

    app.add_middleware(WebSocketRoute, handler=websocket)
    return app
