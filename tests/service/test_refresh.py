"""The monthly refresh (issue 12) on SQLite and PostgreSQL, with a real server process:
``loanrecovery refresh`` scores every loan, records and audits what changed, raises watchlist
alerts through the outbox, the server loads the new bundle, and a second refresh on the same
data changes nothing; ageing opens the new month and ages days past due, once.

The bundle is fitted once per test session (the file is shared: the second backend's refresh
finds it fitted on the very same book and reuses it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from loanrecovery.contract.book import Book, validate_book
from loanrecovery.service.ageing import age_panel
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.db.models import (
    Alert,
    AuditRow,
    Case,
    Loan,
    Meta,
    OutboxRow,
    PanelMonth,
    PlanItem,
    RefreshChange,
    RefreshRun,
    Score,
)
from loanrecovery.simulate import simulate_portfolio

from .conftest import BACKENDS, Server, prepare_database


@pytest.fixture(scope="module")
def watch_book() -> Book:
    """300 loans x 18 months: enough months for the early-warning stage (a watchlist)."""
    sim = simulate_portfolio(n_loans=300, n_months=18, seed=7, truth=False)
    return validate_book(sim.loans, sim.payments, sim.collections, source="refresh test book")


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory):
    return tmp_path_factory.mktemp("bundle") / "refresh.bundle"


def _refresh(db: str, bundle_file) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "loanrecovery", "refresh", "--db", db,
         "--bundle-out", str(bundle_file)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _count(session, model, *where) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_refresh_scores_records_audits_alerts_reloads_and_is_idempotent(
    backend, databases, watch_book, bundle_file, tmp_path
):
    db = databases.new(backend)
    tokens, _ids = prepare_database(db, watch_book)
    server = Server(db=db, log=tmp_path / "server.log", extra=["--bundle-check-seconds", "0.5"])
    server.start(timeout=400)
    try:
        first = _refresh(db, bundle_file)
        assert "refresh run 1" in first and "loans scored" in first
        engine = make_engine(db)
        factory = make_sessionmaker(engine)
        with factory() as s:
            run = s.scalars(select(RefreshRun)).one()
            loans = _count(s, Loan)
            assert run.loans_in == loans == len(watch_book.loans)
            assert run.loans_scored + run.loans_rejected == run.loans_in
            assert run.loans_scored == run.scores_stored == _count(s, Score)
            assert _count(s, PlanItem, PlanItem.current) == _count(s, Score)
            watched = _count(s, Score, Score.on_watchlist)
            assert watched > 0, "the book should put some loans on the watchlist"
            assert run.entered_watchlist == run.alerts_raised == watched
            assert _count(s, Alert, Alert.kind == "watchlist") == watched
            assert _count(s, OutboxRow, OutboxRow.topic == "alert") == watched
            kind = RefreshChange.kind == "entered_watchlist"
            entered = set(s.scalars(select(RefreshChange.loan_id).where(kind)))
            assert entered == set(s.scalars(select(Score.loan_id).where(Score.on_watchlist)))
            # the open cases carry the new plan's action
            case_actions = dict(
                s.execute(select(Case.loan_id, Case.action).where(Case.is_open)).all()
            )
            current = select(PlanItem.loan_id, PlanItem.action).where(PlanItem.current)
            plan = dict(s.execute(current).all())
            assert case_actions and all(case_actions[k] == plan[k] for k in case_actions)
            audit = s.scalars(select(AuditRow).where(AuditRow.action == "book.refreshed")).one()
            assert audit.entity_id == str(run.id)
            assert audit.after["on_watchlist"] == watched and audit.before["loans"] == 0
            assert s.get(Meta, "bundle_id").value == run.bundle_id
        # the running server picks up the refreshed bundle
        deadline = time.monotonic() + 120
        health = {}
        while time.monotonic() < deadline:
            health = httpx.get(server.url + "/api/v1/healthz", timeout=10).json()
            if health.get("bundle_id") == run.bundle_id:
                break
            time.sleep(0.5)
        assert health.get("bundle_id") == run.bundle_id
        loan_id = next(iter(entered))
        answer = server.client(tokens["manager"]).get(f"/loans/{loan_id}").json()
        assert answer["on_watchlist"] is True and answer["bundle_id"] == run.bundle_id

        second = _refresh(db, bundle_file)
        assert "nothing changed since the last refresh" in second
        with factory() as s:
            again = s.scalars(select(RefreshRun).order_by(RefreshRun.id.desc())).first()
            assert again.id == 2 and not again.refitted and again.bundle_id == run.bundle_id
            assert again.loans_scored == run.loans_scored and again.scores_stored == 0
            assert again.entered_watchlist == again.left_watchlist == again.action_changed == 0
            assert _count(s, RefreshChange, RefreshChange.run_id == again.id) == 0
            assert _count(s, Score) == run.scores_stored
            assert _count(s, Alert) == watched
            assert _count(s, AuditRow, AuditRow.action == "book.refreshed") == 2
        engine.dispose()
    finally:
        server.stop()


@pytest.mark.parametrize("backend", BACKENDS)
def test_ageing_opens_the_new_month_ages_unpaid_loans_once(backend, databases, small_book):
    db = databases.new(backend)
    prepare_database(db, small_book)
    engine = make_engine(db)
    factory = make_sessionmaker(engine)
    with factory() as s:
        as_of = int(s.get(Meta, "as_of").value)
        active = _count(s, Loan, Loan.outstanding > 0.005, Loan.panel_month >= as_of)
        months = _count(s, PanelMonth)
        behind = dict(
            s.execute(
                select(PanelMonth.loan_id, PanelMonth.amount_due - PanelMonth.amount_paid).where(
                    PanelMonth.month == as_of
                )
            ).all()
        )
    later = datetime.now(UTC) + timedelta(days=40)
    with transaction(factory) as s:
        report = age_panel(s, now=later, actor="test", capacity=40)
    assert report.month == as_of + 1 and report.months_added == active > 0
    with factory() as s:
        assert _count(s, PanelMonth) == months + active
        rows = s.execute(
            select(Loan.loan_id, Loan.days_past_due, Loan.emi, PanelMonth.amount_due)
            .join(PanelMonth, PanelMonth.loan_id == Loan.loan_id)
            .where(PanelMonth.month == as_of + 1)
        ).all()
        for loan_id, dpd, emi, due in rows:
            arrears = max(0.0, behind[loan_id])
            assert due == pytest.approx(round(emi + arrears, 2))
            assert (dpd > 0) == (arrears > 0.005), loan_id
            assert dpd % 30 == 0
        assert _count(s, AuditRow, AuditRow.action == "panel.aged") == 1
    with transaction(factory) as s:
        again = age_panel(s, now=later, actor="test", capacity=40)
    assert again.months_added == 0 and again.loans_aged == 0
    engine.dispose()
