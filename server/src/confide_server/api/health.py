"""Liveness, readiness and metrics, for the orchestrator and the operator's monitoring.

``/healthz`` says only that the process answers (a restart helps nothing else), ``/readyz``
whether its database (and Redis, when configured) answer, so traffic goes elsewhere
meanwhile; ``/metrics`` is Prometheus text with no per-user labels (docs/operations.md §11).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from confide_server.api.deps import MetricsDep, RelayDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up; touches no dependency."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(relay: RelayDep) -> JSONResponse:
    """The database (and Redis, when configured) answer."""
    checks = await relay.ready()
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
    )


@router.get("/metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
