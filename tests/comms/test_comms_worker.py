"""The outbox worker in this process on a SQLite file: retries with backoff then failure
against a real closed port, the policy re-checked at send time (an opt-out recorded after
scheduling blocks; a night hour defers), templates with their opt-out footer."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from loanrecovery.comms.channels import LetterChannel, SmtpChannel
from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.policy import Decision, load_profile
from loanrecovery.comms.records import record_decision, record_request
from loanrecovery.comms.templates import render, sync_templates
from loanrecovery.comms.worker import Worker, backoff
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction, upgrade
from loanrecovery.service.db.models import Borrower, CommAttempt, CommMessage

US = load_profile("us_reg_f")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


@pytest.fixture
def factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'comms.db'}")
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _queue(factory, *, offset: int, channel: str = "email") -> int:
    now = datetime.now(UTC)
    with transaction(factory) as session:
        personal = {"email": "b1@example.invalid", "address": "1 St"}
        session.add(Borrower(borrower_id="B1", utc_offset=offset, contact_opt_out=False,
                             personal=personal))  # fmt: skip
        session.flush()
        sync_templates(session)
        rendered = render(session, US, name="reminder", channel=channel, language="fr",
                          context={"loan_id": "L1", "amount": "10.00", "due_date": ""})  # fmt: skip
        row = record_decision(session, US, Decision(True, US.name, "test"), key="k1",
                              borrower_id="B1", loan_id="L1", case_id=None, kind="reminder",
                              channel=channel, rendered=rendered, at=now)  # fmt: skip
        session.flush()
        return row.id


def _local_noon_offset() -> int:
    offset = 13 - datetime.now(UTC).hour
    return offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset


def _message(factory, message_id: int) -> CommMessage:
    with factory() as session:
        row = session.get(CommMessage, message_id)
        assert row is not None
        return row


def test_retries_with_backoff_then_fails_and_journals_every_attempt(factory):
    message_id = _queue(factory, offset=_local_noon_offset())
    settings = CommsSettings(max_attempts=2, backoff_seconds=0)
    channels = {"email": SmtpChannel("127.0.0.1", _closed_port(), "x@example.invalid", 2)}
    worker = Worker(factory, US, settings, lambda: channels, dialect="sqlite")  # type: ignore[arg-type,return-value]
    assert worker.run_once().outcomes == {"queued": 1}
    first = _message(factory, message_id)
    assert first.attempts == 1 and "SMTP" in (first.last_error or "")
    assert worker.run_once().outcomes == {"failed": 1}
    with factory() as session:
        outcomes = session.scalars(select(CommAttempt.outcome)).all()
    assert outcomes == ["error", "error"]
    slow = CommsSettings(backoff_seconds=30)
    assert [backoff(slow, n).total_seconds() for n in (1, 2, 3, 20)] == [30, 60, 120, 3600]


def test_send_time_recheck_blocks_after_an_opt_out(factory, tmp_path):
    message_id = _queue(factory, offset=_local_noon_offset())
    with transaction(factory) as session:
        record_request(session, "B1", "opt_out", medium="email", source="test", actor="test")
    letters = {"email": LetterChannel(tmp_path)}  # never reached
    worker = Worker(factory, US, CommsSettings(), lambda: letters, dialect="sqlite")  # type: ignore[arg-type,return-value]
    assert worker.run_once().outcomes == {"blocked": 1}
    blocked = _message(factory, message_id)
    assert blocked.status == "blocked" and blocked.rule == US.opt_out_rule


def test_night_defers_to_the_next_convenient_minute(factory, tmp_path):
    night = _local_noon_offset() + 11  # 00:00 local
    night = night - 24 if night > 14 else night
    message_id = _queue(factory, offset=night, channel="letter")
    with transaction(factory) as session:
        row = session.get(CommMessage, message_id)
        assert row is not None
        row.channel = row.medium = "email"
    letters = {"email": LetterChannel(tmp_path)}
    worker = Worker(factory, US, CommsSettings(), lambda: letters, dialect="sqlite")  # type: ignore[arg-type,return-value]
    assert worker.run_once().outcomes == {"deferred": 1}
    deferred = _message(factory, message_id)
    assert deferred.status == "queued" and deferred.rule == US.hours_rule
    wait = deferred.next_attempt_at.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(hours=7) < wait <= timedelta(hours=9)


def test_templates_fall_back_to_english_and_carry_the_opt_out(factory):
    with transaction(factory) as session:
        assert sync_templates(session) > 0 and sync_templates(session) == 0
        sms = render(session, US, name="reminder", channel="sms", language="es",
                     context={"loan_id": "L1", "amount": "5", "due_date": ""})  # fmt: skip
        assert sms.language == "es" and sms.body.endswith("Reply STOP to stop texts.")
        letter = render(session, US, name="reminder", channel="letter", language="de",
                        context={"loan_id": "L1", "amount": "5", "due_date": ""})  # fmt: skip
        assert letter.language == "en" and "STOP" not in letter.body
        with pytest.raises(CommsInputError, match="undefined"):
            render(session, US, name="reminder", channel="sms", language="en", context={})


def test_in_doubt_message_the_channel_cannot_check_is_held_not_sent_again(factory):
    message_id = _queue(factory, offset=_local_noon_offset())
    with transaction(factory) as session:  # a worker died between send and acknowledge
        row = session.get(CommMessage, message_id)
        assert row is not None
        row.status, row.attempts = "sending", 1
        row.claimed_until = datetime.now(UTC) - timedelta(seconds=1)
    # no lookup URL: SMTP cannot say whether the relay took it; the closed port shows that
    # nothing is even tried
    channels = {"email": SmtpChannel("127.0.0.1", _closed_port(), "x@example.invalid", 2)}
    worker = Worker(factory, US, CommsSettings(), lambda: channels, dialect="sqlite")  # type: ignore[arg-type,return-value]
    assert worker.run_once().outcomes == {"held": 1}
    held = _message(factory, message_id)
    assert held.status == "held" and "in doubt" in (held.last_error or "")
    assert worker.run_once().claimed == 0  # a held message is never claimed again
    with factory() as session:
        outcomes = session.scalars(select(CommAttempt.outcome).order_by(CommAttempt.id)).all()
    assert outcomes == ["held"]
