"""Re-scoring on each payment with a fitted bundle, against a real server started with
``--bundle``: the loan view carries the score, and entering the watchlist raises an alert
(written with an outbox message in the payment's transaction)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from loanrecovery.bundle import fit_bundle, load_bundle, save_bundle
from loanrecovery.contract.book import Book, validate_book
from loanrecovery.service.db import make_engine, make_sessionmaker
from loanrecovery.service.db.models import AuditRow, Case, Loan, OutboxRow, PaymentEvent
from loanrecovery.service.scoring import history_rows, loan_row, panel_rows
from loanrecovery.simulate import simulate_portfolio

from .conftest import (  # type: ignore[import-not-found]
    Server,
    payment_events,
    post_payments_at_once,
    prepare_database,
)


@pytest.fixture(scope="session")
def fit_book() -> Book:
    """The book the test bundle is fitted on (1,500 loans x 18 months)."""
    sim = simulate_portfolio(n_loans=1500, n_months=18, seed=5, truth=False)
    return validate_book(sim.loans, sim.payments, sim.collections, source="bundle test book")


@pytest.fixture(scope="session")
def bundle_file(fit_book: Book, tmp_path_factory: pytest.TempPathFactory):
    """A bundle fitted once per session."""
    path = tmp_path_factory.mktemp("bundle") / "test.bundle"
    save_bundle(fit_bundle(fit_book), path)
    return path


def _watched_loan(bundle_file, book: Book) -> str:
    """A delinquent loan of ``book`` that the bundle puts on the watchlist."""
    bundle = load_bundle(bundle_file)
    listed = bundle.watchlist.apply(book.payments, book.loans)
    candidates = listed.loc[listed["P3"].map(bundle.watchlist.alerted), "Loan_ID"].head(10)
    for loan_id in candidates:
        one = book.account(loan_id)
        result = bundle.apply_account(one.loans.iloc[0].to_dict(), one.payments, one.collections)
        if result.on_watchlist:
            return str(loan_id)
    pytest.fail("no loan of the test book is on the watchlist")


def test_payments_rescore_the_loan_and_alert_on_entering_the_watchlist(
    fresh_db, bundle_file, fit_book, tmp_path
):
    tokens, _ = prepare_database(fresh_db, fit_book)
    loan_id = _watched_loan(bundle_file, fit_book)
    server = Server(db=fresh_db, log=tmp_path / "scored.log", extra=["--bundle", str(bundle_file)])
    server.start()
    try:
        with server.client(tokens["manager"]) as m:
            health = m.get("/healthz").json()
            before = m.get(f"/loans/{loan_id}").json()
            for _ in range(2):
                paid = m.post("/payments", json={
                    "event_id": uuid.uuid4().hex, "loan_id": loan_id, "amount": 1.0,
                    "paid_at": datetime.now(UTC).isoformat()})  # fmt: skip
                assert paid.status_code == 201, paid.text
            loan = m.get(f"/loans/{loan_id}").json()
            alerts = m.get("/alerts").json()
            watchlist = m.get("/watchlist").json()
            scored = m.get("/audit", params={"action": "loan.scored", "entity_id": loan_id}).json()
    finally:
        server.stop()
    assert health["bundle_id"] == load_bundle(bundle_file).manifest["bundle_id"]
    assert before["scored_at"] is None
    assert loan["scored_at"] is not None and loan["bundle_id"] == health["bundle_id"]
    assert 0.0 <= loan["pd_6m"] <= 1.0
    assert loan["reasons"] and all(isinstance(r, str) and r for r in loan["reasons"])
    assert loan["recommended_action"] and loan["segment"] and loan["status"]
    assert loan["on_watchlist"] is True
    assert loan_id in [w["loan_id"] for w in watchlist]
    entered = [a for a in alerts if a["loan_id"] == loan_id and a["kind"] == "watchlist"]
    assert len(entered) == 1  # the second payment keeps it on the list: no second alert
    assert len(scored) == 2
    engine = make_engine(fresh_db)
    with make_sessionmaker(engine)() as session:
        messages = session.scalars(select(OutboxRow).where(OutboxRow.topic == "alert")).all()
        case = session.scalar(select(Case).where(Case.loan_id == loan_id, Case.is_open))
    engine.dispose()
    # the queue filters read the score's action and segment from the case
    assert case is not None and case.segment == loan["segment"]
    assert case.action == loan["recommended_action"]
    assert any(m.payload["loan_id"] == loan_id and m.payload["kind"] == "watchlist"
               for m in messages)  # fmt: skip


def test_single_payments_sent_at_once_are_each_applied_once_and_scored(
    fresh_db, bundle_file, fit_book, tmp_path
):
    """Single events from 8 clients at once (group commit shares transactions among them):
    every event applied exactly once, each repeat answered with the original, every paid loan
    re-scored, and the stored score is the bundle's answer for the stored rows."""
    tokens, _ = prepare_database(fresh_db, fit_book)
    loans = list(fit_book.loans["Loan_ID"].astype(str)[:40])
    events = payment_events(loans, "together", 160, 1.5)
    sent = events + events[:20]  # each repeat sent by the thread that sent its original
    server = Server(
        db=fresh_db, log=tmp_path / "together.log", extra=["--bundle", str(bundle_file)]
    )
    server.start()
    try:
        answers = post_payments_at_once(server, tokens["manager"], sent, clients=8)
        with server.client(tokens["manager"]) as m:
            metrics = m.get("/metrics").text
            views = {loan_id: m.get(f"/loans/{loan_id}").json() for loan_id in loans[:5]}
    finally:
        server.stop()
    assert len(answers) == len(sent)
    codes = [code for _, code, _ in answers]
    assert codes.count(201) == len(events) and codes.count(200) == 20
    first = {e: a["payment_id"] for e, c, a in answers if c == 201}
    assert all(a["payment_id"] == first[e] for e, c, a in answers if c == 200)
    engine = make_engine(fresh_db)
    with make_sessionmaker(engine)() as session:
        stored = session.scalars(
            select(PaymentEvent.event_id).where(PaymentEvent.event_id.like("together-%"))
        ).all()
        scored = session.scalars(
            select(AuditRow.entity_id).where(AuditRow.action == "loan.scored")
        ).all()
        rows = {loan_id: loan_row(session.get(Loan, loan_id)) for loan_id in views}
        panels = panel_rows(session, list(views))
        histories = history_rows(session, list(views))
    engine.dispose()
    assert sorted(stored) == sorted(e["event_id"] for e in events)  # once each
    assert set(scored) == set(loans)
    line = next(x for x in metrics.splitlines() if x.startswith(
        "loanrecovery_payment_events_per_transaction_sum"))  # fmt: skip
    assert float(line.split()[-1]) == len(sent)
    bundle = load_bundle(bundle_file)
    for loan_id, view in views.items():
        answer = bundle.apply_trusted(rows[loan_id], panels[loan_id], histories[loan_id])
        assert view["pd_6m"] == pytest.approx(answer.pd_6m)
        assert view["recommended_action"] == answer.recommended_action
        assert view["reasons"] == list(answer.reasons)
