"""Upcoming-instalment reminders on SQLite and PostgreSQL: read from the loan table and the
payment panel, scheduled ``instalment_lead_days`` before the due date with the instalment
still asked for, never for closed, paid-off or paid-ahead loans, idempotent, inside the
budget, and re-checked by the worker at send time (contact rules, and the instalment still
owed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from loanrecovery.comms.channels import LetterChannel
from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.policy import load_profile
from loanrecovery.comms.records import record_request
from loanrecovery.comms.scheduler import schedule
from loanrecovery.comms.worker import PAID_RULE, Worker
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import Borrower, CommMessage, Loan, Meta, PanelMonth
from loanrecovery.service.ledger import calendar_month

US = load_profile("us_reg_f")
NOW = datetime(2026, 3, 29, 14, 0, tzinfo=UTC)  # 14:00 at UTC+0; instalments due 1 April


def _book(factory) -> None:
    """Panel month 12 stands for March 2026, so April is panel month 13."""
    with transaction(factory) as session:
        session.add_all([Meta(key="as_of", value="12"),
                         Meta(key="anchor", value=str(calendar_month(NOW)))])  # fmt: skip
        loans = {  # loan: (borrower contact, outstanding, emi, status, panel rows)
            "L1": ({"email": "1@x.invalid", "phone": "+15550001"}, 900.0, 100.0, "Active",
                   [(12, 100.0, 100.0)]),
            "L2": ({"email": "2@x.invalid"}, 900.0, 100.0, "Active", [(12, 100.0, 40.0)]),
            "L3": ({"email": "3@x.invalid"}, 900.0, 100.0, "Active",
                   [(12, 100.0, 100.0), (13, 100.0, 100.0)]),  # April already paid
            "L4": ({"email": "4@x.invalid"}, 900.0, 100.0, "Paid Off", []),
            "L5": ({"email": "5@x.invalid"}, 0.0, 100.0, "Active", []),
            "L6": ({"email": "6@x.invalid"}, 50.0, 100.0, "Active", []),  # last, smaller one
            "L7": ({"email": "7@x.invalid", "phone": "+15550007"}, 900.0, 100.0, "Active", []),
        }  # fmt: skip
        for loan_id, (personal, outstanding, emi, status, months) in loans.items():
            bid = "B" + loan_id[1:]
            session.add(Borrower(borrower_id=bid, utc_offset=0, contact_opt_out=False,
                                 personal={**personal, "language": "en"}))  # fmt: skip
            session.flush()
            session.add(Loan(loan_id=loan_id, borrower_id=bid, data={"Loan_Status": status},
                             outstanding=outstanding, days_past_due=0,
                             panel_month=months[-1][0] if months else None, emi=emi,
                             updated_at=NOW))  # fmt: skip
            session.flush()
            for month, due, paid in months:
                session.add(PanelMonth(loan_id=loan_id, month=month, amount_due=due,
                                       amount_paid=paid, days_past_due=0.0,
                                       outstanding_balance=outstanding))  # fmt: skip
        earlier = NOW - timedelta(days=1)
        record_request(session, "B1", "consent", medium="sms", source="test", actor="test",
                       at=earlier)  # fmt: skip
        record_request(session, "B7", "cease", medium=None, source="test", actor="test",
                       at=earlier)  # fmt: skip


def _instalments(factory) -> dict[str, CommMessage]:
    with factory() as session:
        rows = session.scalars(select(CommMessage).where(CommMessage.kind == "instalment_reminder"))
        return {str(r.loan_id): r for r in rows}


def test_instalment_reminders_are_scheduled_ahead_once_and_rechecked(fresh_db, tmp_path):
    engine = make_engine(fresh_db)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    try:
        _book(factory)
        settings = CommsSettings()  # 3 days ahead, due on the 1st
        with transaction(factory) as session:  # 3 days before and 1 second: too early
            report = schedule(session, US, settings, now=NOW - timedelta(days=3, seconds=1))
        assert report.as_dict()["queued"] == {} and not _instalments(factory)
        with transaction(factory) as session:
            first = schedule(session, US, settings, now=NOW).as_dict()
        sent = _instalments(factory)
        assert set(sent) == {"L1", "L2", "L6", "L7"}  # not paid ahead, paid off or closed
        assert {k: (m.status, m.channel, m.key) for k, m in sent.items() if k != "L7"} == {
            "L1": ("queued", "sms", "instalment:L1:2026-04"),  # consent: a text
            "L2": ("queued", "email", "instalment:L2:2026-04"),
            "L6": ("queued", "email", "instalment:L6:2026-04"),
        }
        assert "100.00" in sent["L1"].body and "2026-04-01" in sent["L1"].body
        assert "160.00" in sent["L2"].body  # the instalment and what March left unpaid
        assert "50.00" in sent["L6"].body  # never more than is outstanding
        assert sent["L7"].status == "blocked" and sent["L7"].rule == US.cease_rule
        assert first["queued"]["instalment_reminder/sms"] == 1
        with transaction(factory) as session:  # idempotent: the second run queues nothing
            again = schedule(session, US, settings, now=NOW + timedelta(hours=1)).as_dict()
        assert again["queued"] == {} and again["already_scheduled"] >= 4

        with transaction(factory) as session:  # a new loan, and no budget left
            contact = {"email": "8@x.invalid", "phone": "+15550008"}
            session.add(Borrower(borrower_id="B8", utc_offset=0, contact_opt_out=False,
                                 personal=contact))  # fmt: skip
            session.flush()
            session.add(Loan(loan_id="L8", borrower_id="B8", data={}, outstanding=900.0,
                             days_past_due=0, panel_month=None, emi=100.0,
                             updated_at=NOW))  # fmt: skip
        with transaction(factory) as session:
            broke = schedule(session, US, CommsSettings(budget=0.0), now=NOW).as_dict()
        assert broke["queued"] == {} and broke["blocked"] == {"budget: 0.00": 2}
        assert _instalments(factory)["L8"].status == "blocked"

        # send time: B1 says STOP to texts after scheduling; the worker blocks the text.
        # L2 pays April's instalment (and March's arrears) after scheduling: no reminder
        with transaction(factory) as session:
            record_request(session, "B1", "opt_out", medium="sms", source="test", actor="test")
            session.add(PanelMonth(loan_id="L2", month=13, amount_due=160.0, amount_paid=160.0,
                                   days_past_due=0.0, outstanding_balance=740.0))  # fmt: skip
        letters = LetterChannel(tmp_path / "out")
        channels = {"sms": letters, "email": letters}
        worker = Worker(factory, US, settings, lambda: channels,  # type: ignore[arg-type,return-value]
                        dialect=engine.dialect.name)  # fmt: skip
        while worker.run_once().claimed:
            pass
        worker.close()
        after = _instalments(factory)
        assert after["L1"].status == "blocked" and after["L1"].rule == US.opt_out_rule
        assert not (tmp_path / "out" / "instalment_L1_2026-04.html").exists()
        assert after["L2"].status == "blocked" and after["L2"].rule == PAID_RULE
        assert "paid after" in after["L2"].why
        assert after["L6"].status != "blocked"  # still owed: sent, or deferred to the day
    finally:
        engine.dispose()
