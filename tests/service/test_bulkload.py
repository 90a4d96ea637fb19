"""The importer's bulk inserts (PostgreSQL COPY, SQLite executemany) store what an ORM
insert stores, in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, text

from loanrecovery.service.bulkload import analyze, bulk_insert, bulk_insert_rows
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import Borrower, CollectionAction, Loan, PanelMonth

_WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _loan(loan_id: str) -> dict:
    return {
        "loan_id": loan_id, "borrower_id": "B1",
        "data": {"Rate": 0.125, "Note": None, "Name": "Ana \"Silva\"\t\\x"},
        "outstanding": 1234.5, "days_past_due": 31, "panel_month": 11, "emi": 99.25,
        "updated_at": _WHEN,
    }  # fmt: skip


@pytest.fixture
def factory(fresh_db):
    engine = make_engine(fresh_db)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _raw(factory, loan_id: str) -> tuple:
    with factory() as session:
        row = session.execute(
            text("SELECT data, outstanding, days_past_due, panel_month, emi, updated_at "
                 "FROM loans WHERE loan_id = :i"), {"i": loan_id}
        ).one()  # fmt: skip
    return tuple(row)


def test_bulk_rows_are_stored_as_an_orm_insert_stores_them(factory):
    with transaction(factory) as session:
        session.add(Borrower(borrower_id="B1", utc_offset=None, contact_opt_out=False, personal={}))
        session.execute(insert(Loan), [_loan("ORM")])
        assert bulk_insert_rows(session, Loan, [_loan("BULK")]) == 1
    assert _raw(factory, "BULK") == _raw(factory, "ORM")
    with factory() as session:
        orm, bulk = (session.get(Loan, i) for i in ("ORM", "BULK"))
        assert orm is not None and bulk is not None
        assert bulk.data == orm.data == _loan("X")["data"]
        assert bulk.updated_at.replace(tzinfo=UTC) == _WHEN


def test_bulk_insert_of_tuples_fills_defaults_and_counts(factory):
    keys = ("loan_id", "month", "action", "cost", "recovered_amount")
    with transaction(factory) as session:
        session.add(Borrower(borrower_id="B1", utc_offset=3, contact_opt_out=True, personal={}))
        bulk_insert_rows(session, Loan, [_loan("L1")])
        rows = [("L1", m, "Call", 1.5, float(m)) for m in range(2_000)]
        assert bulk_insert(session, CollectionAction, keys, iter(rows)) == 2_000
        assert bulk_insert(session, PanelMonth, ("loan_id", "month"), []) == 0
    with factory() as session:
        stored = session.execute(
            select(CollectionAction.id, CollectionAction.month, CollectionAction.recovered_amount)
            .order_by(CollectionAction.id)
        ).all()  # fmt: skip
    assert [r.month for r in stored] == list(range(2_000))
    assert [r.recovered_amount for r in stored] == [float(m) for m in range(2_000)]
    assert len({r.id for r in stored}) == 2_000


def test_bulk_rows_roll_back_with_the_transaction(factory):
    with pytest.raises(RuntimeError), transaction(factory) as session:
        session.add(Borrower(borrower_id="B1", utc_offset=None, contact_opt_out=False, personal={}))
        bulk_insert_rows(session, Loan, [_loan("L1"), _loan("L2")])
        raise RuntimeError("abort")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Loan)) == 0


def test_analyze_gives_postgresql_statistics_and_leaves_sqlite_alone(factory, fresh_db):
    keys = ("loan_id", "month", "action", "cost", "recovered_amount")
    with transaction(factory) as session:
        session.add(Borrower(borrower_id="B1", utc_offset=None, contact_opt_out=False, personal={}))
        bulk_insert_rows(session, Loan, [_loan("L1")])
        bulk_insert(
            session, CollectionAction, keys, [("L1", m, "Call", 1.0, 0.0) for m in range(500)]
        )
        analyze(session, (CollectionAction,))
    with factory() as session:
        if fresh_db.startswith("postgresql"):
            rows = session.scalar(
                text("SELECT reltuples FROM pg_class WHERE relname = 'collection_actions'")
            )
            assert rows == 500
        else:
            stat = session.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            )
            assert stat == 0
