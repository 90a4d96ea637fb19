"""The FastAPI application: ``create_app(settings)`` wires storage, the bundle, the ledger,
the routers, metrics and the sweep."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from loanrecovery.bundle import load_bundle
from loanrecovery.service.api import api_router, ops
from loanrecovery.service.db import (
    autovacuum_off,
    current_revision,
    make_engine,
    make_lookup_sessionmaker,
    make_read_sessionmaker,
    make_sessionmaker,
    redact,
)
from loanrecovery.service.db.migrate import HEAD
from loanrecovery.service.db.models import Case, OutboxRow, Suspense
from loanrecovery.service.deps import Services
from loanrecovery.service.errors import ServiceConfigError
from loanrecovery.service.heap import freeze_long_lived
from loanrecovery.service.ledger import Ledger
from loanrecovery.service.metrics import MeasureRequests, Metrics
from loanrecovery.service.reload import BundleWatcher, stored_bundle
from loanrecovery.service.scoring import Scorer
from loanrecovery.service.settings import Settings
from loanrecovery.service.sweep import SweepThread
from loanrecovery.service.web import install as install_pages

__all__ = ["create_app", "load_scorer"]

logger = logging.getLogger(__name__)


def load_scorer(path: Path | None) -> Scorer | None:
    """Load a fitted bundle file into a :class:`Scorer` (None without a file).

    Raises
    ------
    ServiceConfigError
        If the file does not exist.
    """
    if path is None:
        return None
    if not Path(path).is_file():
        raise ServiceConfigError(f"bundle file {path} does not exist")
    return Scorer(load_bundle(path))


def _depths(factory: Any) -> Callable[[], dict[str, float]]:
    def read() -> dict[str, float]:
        with factory() as s:
            open_cases = s.scalar(select(func.count()).select_from(Case).where(Case.is_open))
            unassigned = s.scalar(
                select(func.count())
                .select_from(Case)
                .where(Case.is_open, Case.assigned_to.is_(None))
            )
            held = s.scalar(
                select(func.count()).select_from(Suspense).where(Suspense.released_at.is_(None))
            )
            outbox = s.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None))
            )
        return {
            "open_cases": float(open_cases or 0),
            "unassigned_cases": float(unassigned or 0),
            "suspense": float(held or 0),
            "outbox": float(outbox or 0),
        }

    return read


def create_app(settings: Settings | None = None, *, scorer: Scorer | None = None) -> FastAPI:
    """Build the app.

    Raises
    ------
    ServiceConfigError
        If the database is not at the newest migration (run ``loanrecovery db upgrade``).
    """
    settings = settings or Settings()
    engine = make_engine(settings.db)
    revision = current_revision(engine)
    if revision != HEAD:
        raise ServiceConfigError(
            f"database {redact(settings.db)} is at revision {revision or 'none'}, not {HEAD}: "
            "run `loanrecovery db upgrade` first"
        )
    if autovacuum_off(engine):
        logger.warning(
            "PostgreSQL's autovacuum is off: the statistics of the tables payments fill go "
            "stale and their queries slow down; turn it on, or run ANALYZE regularly"
        )
    factory = make_sessionmaker(engine)
    reader = make_read_sessionmaker(engine)
    refreshed_id, refreshed_path = stored_bundle(reader)
    if scorer is None:
        # --bundle wins at start-up; without it, the newest refresh's bundle
        refreshed = Path(refreshed_path) if refreshed_path else None
        if refreshed is not None and not refreshed.is_file():
            logger.warning("refreshed bundle file %s does not exist here", refreshed)
            refreshed = None
        scorer = load_scorer(settings.bundle or refreshed)
    metrics = Metrics(_depths(reader))
    ledger = Ledger(
        factory,
        scorer=scorer,
        capacity=settings.collector_capacity,
        reader=reader,
        on_commit=metrics.shared_transactions.observe,
    )
    services = Services(
        settings=settings,
        factory=factory,
        reader=reader,
        lookup=make_lookup_sessionmaker(engine),
        ledger=ledger,
        scorer=scorer,
        metrics=metrics,
        dialect=engine.dialect.name,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if scorer is not None:
            started = time.perf_counter()
            scorer.prepare()  # the one-account path, built before the first request
            logger.info("bundle prepared in %.1f s", time.perf_counter() - started)
        freeze_long_lived()  # no full-heap collector pause in the middle of requests
        sweeper = None
        if settings.sweep_seconds > 0:
            sweeper = SweepThread(factory, settings.sweep_seconds, settings.collector_capacity)
            sweeper.start()
        watcher = None
        if settings.bundle_check_seconds > 0:
            watcher = BundleWatcher(services, settings.bundle_check_seconds, refreshed_id)
            watcher.start()
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.stop()
            if watcher is not None:
                watcher.stop()
            engine.dispose()

    app = FastAPI(
        title="loanrecovery service",
        version="1",
        description="Payments as they arrive, risk scores, cases, promises, alerts and audit.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(api_router)
    app.include_router(ops.router)
    install_pages(app)

    app.add_middleware(MeasureRequests, metrics=services.metrics)

    logger.info("service on %s, bundle %s", redact(settings.db), scorer and scorer.bundle_id)
    return app
