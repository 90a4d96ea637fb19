"""``/healthz``, ``/metrics`` and ``/sweep``: operating the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import text

from loanrecovery.service.db.migrate import current_revision
from loanrecovery.service.db.models import User
from loanrecovery.service.deps import ServicesDep, require
from loanrecovery.service.metrics import CONTENT_TYPE
from loanrecovery.service.schemas import Health, SweepOut
from loanrecovery.service.sweep import sweep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz(services: ServicesDep) -> Health:
    """Liveness: the database answers; which revision and bundle the server runs with."""
    with services.factory() as session:
        session.execute(text("SELECT 1"))
        engine = session.get_bind()
    return Health(
        status="ok",
        database=services.dialect,
        revision=current_revision(engine),  # type: ignore[arg-type]
        bundle_id=None if services.scorer is None else services.scorer.bundle_id,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(
    services: ServicesDep, _user: Annotated[User, Depends(require("metrics.read"))]
) -> Response:
    """Prometheus text: requests and latencies, events ingested, queue depths."""
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)


@router.post("/sweep", response_model=SweepOut)
def run_sweep(
    services: ServicesDep, user: Annotated[User, Depends(require("sweep.run"))]
) -> SweepOut:
    """Mark overdue promises Broken and assign waiting cases now (the server also does it
    on a timer)."""
    return SweepOut(
        promises_broken=sweep(
            services.factory, actor=user.name, capacity=services.settings.collector_capacity
        )
    )
