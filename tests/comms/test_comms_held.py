"""A manager's decision on a message held in doubt: arrived, resend (the worker sends it
again, under the contact rules), cancel; only held messages, one audit row each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from loanrecovery.comms.channels import LetterChannel
from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.held import NotHeld, decide_held, held_messages
from loanrecovery.comms.policy import Decision, load_profile
from loanrecovery.comms.records import record_decision
from loanrecovery.comms.templates import render, sync_templates
from loanrecovery.comms.worker import Worker
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import AuditRow, Borrower, CommMessage

US = load_profile("us_reg_f")


@pytest.fixture
def factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'held.db'}")
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _noon_offset() -> int:
    offset = 13 - datetime.now(UTC).hour
    return offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset


def _held(factory, key: str, borrower: str) -> int:
    """A letter that a crashed worker left ``held``."""
    now = datetime.now(UTC)
    with transaction(factory) as session:
        session.add(Borrower(borrower_id=borrower, utc_offset=_noon_offset(),
                             contact_opt_out=False, personal={"address": "1 St"}))  # fmt: skip
        session.flush()
        sync_templates(session)
        rendered = render(session, US, name="reminder", channel="letter", language="en",
                          context={"loan_id": "L1", "amount": "10.00", "due_date": ""})  # fmt: skip
        row = record_decision(session, US, Decision(True, US.name, "test"), key=key,
                              borrower_id=borrower, loan_id="L1", case_id=None,
                              kind="reminder", channel="letter", rendered=rendered,
                              at=now)  # fmt: skip
        session.flush()
        row.status, row.attempts, row.last_error = "held", 1, "in doubt after a crash"
        row.updated_at = now - timedelta(minutes=5)
        return row.id


def _row(factory, message_id: int) -> CommMessage:
    with factory() as session:
        row = session.get(CommMessage, message_id)
        assert row is not None
        return row


def test_each_decision_moves_a_held_message_once_with_an_audit_row(factory, tmp_path):
    arrived, resend, cancel = (_held(factory, f"k{i}", f"B{i}") for i in range(3))
    with factory() as session:
        assert [m.id for m in held_messages(session)] == [arrived, resend, cancel]
    with transaction(factory) as session:
        decide_held(session, arrived, "arrived", actor="mgr")
        decide_held(session, resend, "resend", actor="mgr")
        decide_held(session, cancel, "cancel", actor="mgr", note="borrower paid")
    assert _row(factory, arrived).status == "sent" and _row(factory, arrived).sent_at
    assert _row(factory, cancel).status == "failed"
    assert "borrower paid" in (_row(factory, cancel).last_error or "")
    assert _row(factory, resend).status == "queued"
    with factory() as session:
        assert held_messages(session) == []
        audit = session.scalars(
            select(AuditRow.action).where(AuditRow.entity == "message").order_by(AuditRow.id)
        ).all()
    assert audit == ["message.held_arrived", "message.held_resend", "message.held_cancel"]
    # the released message goes out through the worker (and the contact rules) once
    letters = LetterChannel(tmp_path / "letters")
    worker = Worker(factory, US, CommsSettings(), lambda: {"letter": letters},  # type: ignore[arg-type,return-value,dict-item]
                    dialect="sqlite")  # fmt: skip
    assert worker.run_once().outcomes == {"sent": 1}
    assert _row(factory, resend).status == "sent"
    assert len(list((tmp_path / "letters").rglob("*"))) >= 1
    assert worker.run_once().claimed == 0


def test_only_a_held_message_can_be_decided(factory):
    message_id = _held(factory, "k9", "B9")
    with transaction(factory) as session:
        decide_held(session, message_id, "arrived", actor="mgr")
    with transaction(factory) as session, pytest.raises(NotHeld, match="is sent, not held"):
        decide_held(session, message_id, "resend", actor="mgr")
    with transaction(factory) as session, pytest.raises(CommsInputError, match="no message"):
        decide_held(session, 10**9, "resend", actor="mgr")
    with transaction(factory) as session, pytest.raises(CommsInputError, match="not one of"):
        decide_held(session, message_id, "maybe", actor="mgr")  # type: ignore[arg-type]
    assert _row(factory, message_id).status == "sent"
