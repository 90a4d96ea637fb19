"""Storage on SQLite and PostgreSQL: migrations, append-only audit, idempotent import."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from loanrecovery.service.app import create_app
from loanrecovery.service.audit import SYSTEM
from loanrecovery.service.db import current_revision, make_engine, make_sessionmaker, transaction
from loanrecovery.service.db import upgrade as run_upgrade
from loanrecovery.service.db.migrate import HEAD
from loanrecovery.service.db.models import AuditRow, Base, Case, Loan, PanelMonth, PlanItem
from loanrecovery.service.errors import ServiceConfigError
from loanrecovery.service.importer import import_book
from loanrecovery.service.settings import Settings


def test_migration_creates_exactly_the_model_tables_and_is_repeatable(fresh_db):
    engine = make_engine(fresh_db)
    assert current_revision(engine) is None
    assert run_upgrade(engine) == HEAD
    assert run_upgrade(engine) == HEAD
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)
    for name, table in Base.metadata.tables.items():
        columns = {c["name"] for c in inspect(engine).get_columns(name)}
        assert columns == set(table.columns.keys()), name
    engine.dispose()


def test_sqlite_runs_in_wal_mode(databases):
    engine = make_engine(databases.new("sqlite"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'someone else'",
                                       "DELETE FROM audit_log"])  # fmt: skip
def test_the_database_refuses_to_change_audit_rows(fresh_db, small_book, statement):
    engine = make_engine(fresh_db)
    run_upgrade(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        import_book(session, small_book.loans.head(20), None, None, source="t", actor=SYSTEM,
                    capacity=5)  # fmt: skip
    with factory() as session:
        before = session.scalars(select(AuditRow).order_by(AuditRow.id)).all()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with factory() as session:
        after = session.scalars(select(AuditRow).order_by(AuditRow.id)).all()
    assert [(r.id, r.actor, r.action) for r in after] == [(r.id, r.actor, r.action) for r in before]
    assert len(after) > 0
    engine.dispose()


def _counts(factory) -> dict[str, int]:
    with factory() as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Loan, PanelMonth, Case, AuditRow)
        }


def test_importing_the_same_book_twice_changes_nothing(fresh_db, small_book):
    engine = make_engine(fresh_db)
    run_upgrade(engine)
    factory = make_sessionmaker(engine)
    args = (small_book.loans, small_book.payments, small_book.collections)
    with transaction(factory) as session:
        first = import_book(session, *args, source="t", actor=SYSTEM, capacity=5)
    counts = _counts(factory)
    with transaction(factory) as session:
        second = import_book(session, *args, source="t", actor=SYSTEM, capacity=5)
    assert first.changed and not second.changed
    assert first.inserted["loans"] == len(small_book.loans) == counts["loans"]
    assert counts["panel"] == len(small_book.payments)
    assert _counts(factory) == counts
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://x@y/z", "sqlite://", "sqlite:////no/such/folder/x.db", "not a url"]
)
def test_unusable_database_urls_get_a_clear_error(url):
    with pytest.raises(ServiceConfigError, match="database URL"):
        make_engine(url)


def test_sqlite_filters_on_open_cases_and_current_plans_use_the_partial_indexes(databases):
    """SQLAlchemy writes ``Case.is_open`` as ``cases.is_open = 1`` on SQLite; the partial
    indexes must say the same or SQLite ignores them (migration 0006)."""
    engine = make_engine(databases.new("sqlite"))
    run_upgrade(engine)
    queries = {
        "ix_cases_open_assigned_to_priority": select(Case.id)
        .where(Case.is_open, Case.assigned_to == 7)
        .order_by(Case.priority.desc(), Case.id)
        .limit(100),
        "ix_cases_open_priority": select(Case.id)
        .where(Case.is_open)
        .order_by(Case.priority.desc(), Case.id)
        .limit(100),
        "uq_one_open_case_per_loan": select(Case.id).where(Case.loan_id == "L1", Case.is_open),
        "ix_plan_items_current_loan": select(PlanItem.id).where(
            PlanItem.loan_id == "L1", PlanItem.current
        ),
    }
    with engine.connect() as conn:
        for index, query in queries.items():
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
    engine.dispose()


def test_the_server_warns_when_postgresql_keeps_no_fresh_statistics(fresh_db, caplog):
    engine = make_engine(fresh_db)
    try:
        run_upgrade(engine)
        setting = None
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                setting = connection.exec_driver_sql("SHOW autovacuum").scalar()
    finally:
        engine.dispose()
    with caplog.at_level(logging.WARNING, logger="loanrecovery.service.app"):
        create_app(Settings(db=fresh_db, sweep_seconds=0, bundle_check_seconds=0))
    warned = any("autovacuum is off" in r.getMessage() for r in caplog.records)
    assert warned is (setting == "off")  # SQLite never: it plans without statistics
