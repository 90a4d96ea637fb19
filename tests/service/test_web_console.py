"""The console's champion/challenger comparison (both databases): an import with the
bundle's challenger share records each new case's arm as the plan assigns it, and the console
sums accounts, recovered and recovery rate per arm, with a note while the evidence is thin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from loanrecovery.recovery.challenger import assign_arms
from loanrecovery.service.audit import SYSTEM
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import Case, Loan, PaymentEvent
from loanrecovery.service.importer import import_book
from loanrecovery.service.web.console import MIN_ARM_ACCOUNTS, arm_figures


def _import(session, book, share: float) -> None:
    import_book(session, book.loans, book.payments, book.collections, source=book.source,
                actor=SYSTEM, capacity=40, challenger_share=share, seed=3)  # fmt: skip


def test_import_records_the_plans_arm_and_the_console_compares_the_arms(fresh_db, small_book):
    engine = make_engine(fresh_db)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    try:
        with make_sessionmaker(engine)() as s:
            assert arm_figures(s)["note"].startswith("No case has an arm")
        with transaction(factory) as s:
            _import(s, small_book, 0.5)
        with factory() as s:
            cases = s.execute(select(Case.loan_id, Case.arm).where(Case.is_open)).all()
        assert cases and all(arm in ("champion", "challenger") for _, arm in cases)
        ids = np.array([loan for loan, _ in cases], dtype=object)
        expected = ["challenger" if c else "champion" for c in assign_arms(ids, 0.5, 3)]
        assert [arm for _, arm in cases] == expected
        with transaction(factory) as s:  # a second import keeps the arms
            _import(s, small_book, 0.9)
        with factory() as s:
            assert s.execute(select(Case.loan_id, Case.arm).where(Case.is_open)).all() == cases
        champions = [loan for loan, arm in cases if arm == "champion"]
        now = datetime.now(UTC) + timedelta(minutes=1)
        with transaction(factory) as s:
            for i, loan in enumerate(champions[:3]):
                s.add(PaymentEvent(source="test", event_id=f"e{i}", loan_id=loan, amount=10.0,
                                   paid_at=now, received_at=now, state="applied"))  # fmt: skip
            s.add(PaymentEvent(source="test", event_id="held", loan_id=champions[0], amount=99.0,
                               paid_at=now, received_at=now, state="suspense"))  # fmt: skip
        with factory() as s:
            figures = arm_figures(s)
            owed = {
                arm: sum(s.scalars(select(Loan.outstanding).where(Loan.loan_id.in_(
                    [loan for loan, a in cases if a == arm]))))
                for arm in ("champion", "challenger")
            }  # fmt: skip
    finally:
        engine.dispose()
    rows = {r["arm"]: r for r in figures["rows"]}
    assert rows["champion"]["accounts"] == len(champions)
    assert rows["challenger"]["accounts"] == len(cases) - len(champions)
    assert rows["champion"]["recovered"] == 30.0 and rows["challenger"]["recovered"] == 0.0
    assert rows["champion"]["rate"] == 30.0 / (30.0 + owed["champion"])
    assert figures["difference"] == rows["challenger"]["rate"] - rows["champion"]["rate"]
    if min(len(champions), len(cases) - len(champions)) < MIN_ARM_ACCOUNTS:
        assert figures["note"].startswith("Too thin")
    else:  # three small payments are no evidence
        assert figures["note"].startswith("Not yet evidence")
