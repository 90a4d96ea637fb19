"""The reminder engine: the plan's reminder and SMS actions, promise-to-pay due dates,
broken promises and upcoming instalments become messages, each decided by the contact
policy and written with its decision (queued for a convenient time, or blocked with the
rule).

Every message has an idempotency key built from what caused it (``reminder:case:day``,
``promise_reminder:promise``, ``broken_promise:promise``, ``instalment:loan:YYYY-MM``,
``validation_notice:borrower``), so scheduling twice queues nothing twice. A borrower's
first message is preceded by the validation notice when the profile requires one
(12 CFR 1006.34). Channel capacities per day and the run's budget are respected: what does
not fit is recorded as blocked by them. Instalment reminders go out
``instalment_lead_days`` before the due date (``comms/instalments.py``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.instalments import instalment_key, upcoming_instalments
from loanrecovery.comms.policy import Decision, Event, Profile, decide
from loanrecovery.comms.records import CHANNEL_MEDIUM, histories, policy_borrower, record_decision
from loanrecovery.comms.templates import render, sync_templates
from loanrecovery.service.db.models import Borrower, Case, CommMessage, Loan, PlanItem, Promise
from loanrecovery.service.promises import as_utc

__all__ = ["ScheduleReport", "schedule", "ACTION_CHANNELS"]

logger = logging.getLogger(__name__)

#: Plan actions that send a message, and the channels tried in order.
ACTION_CHANNELS = {"Automated Reminder": ("email", "letter"), "SMS": ("sms", "email", "letter")}
_PROMISE_CHANNELS = ("sms", "email", "letter")
#: Instalment reminders go out a few days ahead: a posted letter would arrive too late.
_INSTALMENT_CHANNELS = ("sms", "email")
_ADDRESS = {"email": "email", "sms": "phone", "voice": "phone", "letter": "address"}
#: Days before a promised date when the promise reminder goes out.
PROMISE_LEAD_DAYS = 2


@dataclass
class ScheduleReport:
    """What a scheduling run decided: queued and blocked counts, blocked by rule."""

    queued: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    existing: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain counts (no personal data)."""
        return {"queued": dict(self.queued), "blocked": dict(self.blocked),
                "already_scheduled": self.existing}  # fmt: skip


@dataclass
class _Run:
    session: Session
    profile: Profile
    settings: CommsSettings
    now: datetime
    keys: set[str]
    borrowers: dict[str, Borrower]
    history: dict[str, list[Event]]
    used: Counter[str]
    spent: float = 0.0
    report: ScheduleReport = field(default_factory=ScheduleReport)


def _capacity_refusal(run: _Run, channel: str) -> Decision | None:
    limit = run.settings.daily_capacity.get(channel)
    if limit is not None and run.used[channel] >= limit:
        return Decision(False, f"capacity: {channel} {limit}/day", "the channel is full today")
    cost = run.settings.cost.get(channel, 0.0)
    if run.spent + cost > run.settings.budget + 1e-9:
        return Decision(False, f"budget: {run.settings.budget:.2f}", "the run's budget is spent")
    return None


def _propose(
    run: _Run, *, key: str, loan: Loan, case_id: int | None, kind: str,
    channels: tuple[str, ...], context: dict[str, Any],
) -> None:  # fmt: skip
    """Decide one message over the channels in order and record the first that the policy
    allows (or defers to a convenient hour); else record the first channel's refusal."""
    if key in run.keys:
        run.report.existing += 1
        return
    bid = str(loan.borrower_id)
    borrower = run.borrowers.get(bid)
    personal = (borrower.personal or {}) if borrower is not None else {}
    who = policy_borrower(borrower)
    events = run.history.get(bid, [])
    first: tuple[str, Decision] | None = None
    chosen: tuple[str, Decision] | None = None
    for channel in channels:
        if not personal.get(_ADDRESS[channel]):
            decision = Decision(False, "contact data", f"no {_ADDRESS[channel]} on record")
        else:
            decision = _capacity_refusal(run, channel) or decide(
                run.profile, who, events, at=run.now, medium=CHANNEL_MEDIUM[channel], kind=kind
            )
        first = first or (channel, decision)
        if decision.allowed or decision.retry_at is not None:
            chosen = (channel, decision)
            break
    channel, decision = chosen or first or (channels[0], Decision(False, "none", "no channel"))
    rendered = render(run.session, run.profile, name=kind, channel=channel,
                      language=personal.get("language"), context=context)  # fmt: skip
    message = record_decision(
        run.session, run.profile, decision, key=key, borrower_id=bid, loan_id=loan.loan_id,
        case_id=case_id, kind=kind, channel=channel, rendered=rendered, at=run.now,
    )  # fmt: skip
    run.keys.add(key)
    if message.status == "queued":
        run.used[channel] += 1
        run.spent += run.settings.cost.get(channel, 0.0)
        run.report.queued[f"{kind}/{channel}"] += 1
    else:
        run.report.blocked[decision.rule] += 1


def _validation_first(run: _Run, loan: Loan) -> None:
    kind = run.profile.validation_kind
    if kind is None or run.profile.validation_days is None:
        return
    bid = str(loan.borrower_id)
    context = {"loan_id": loan.loan_id, "amount": f"{loan.outstanding:,.2f}", "due_date": "",
               "company": "the lender"}  # fmt: skip
    _propose(run, key=f"validation_notice:{bid}", loan=loan, case_id=None, kind=kind,
             channels=("email", "letter"), context=context)  # fmt: skip


def schedule(
    session: Session, profile: Profile, settings: CommsSettings, *, now: datetime | None = None
) -> ScheduleReport:
    """Turn today's plan actions, promises and upcoming instalments into decided messages
    (caller's transaction)."""
    now = as_utc(now or datetime.now(UTC))
    sync_templates(session)
    day = now.date().isoformat()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    used = Counter(
        dict(
            session.execute(
                select(CommMessage.channel, func.count())
                .where(CommMessage.created_at >= start_of_day, CommMessage.status != "blocked")
                .group_by(CommMessage.channel)
            ).all()
        )
    )
    plan = session.execute(
        select(Case, Loan, PlanItem.action)
        .join(Loan, Loan.loan_id == Case.loan_id)
        .join(PlanItem, (PlanItem.loan_id == Case.loan_id) & PlanItem.current)
        .where(Case.is_open, PlanItem.action.in_(list(ACTION_CHANNELS)))
        .where(Loan.borrower_id.is_not(None))
        .order_by(Case.priority.desc(), Case.id)
    ).all()  # fmt: skip
    promises = session.execute(
        select(Promise, Loan)
        .join(Loan, Loan.loan_id == Promise.loan_id)
        .where(Promise.status.in_(("Open", "Partial", "Broken")), Loan.borrower_id.is_not(None))
        .order_by(Promise.id)
    ).all()
    instalments = (
        upcoming_instalments(session, now, lead_days=settings.instalment_lead_days,
                             due_day=settings.instalment_due_day)
        if settings.instalment_reminders
        else []
    )  # fmt: skip
    cases = dict(
        session.execute(
            select(Case.loan_id, Case.id).where(
                Case.is_open, Case.loan_id.in_([i.loan.loan_id for i in instalments])
            )
        ).all()
    )
    bids = (
        {str(loan.borrower_id) for _, loan, _ in plan}
        | {str(ln.borrower_id) for _, ln in promises}
        | {str(i.loan.borrower_id) for i in instalments}
    )
    keys = set(session.scalars(select(CommMessage.key).where(CommMessage.borrower_id.in_(bids))))
    borrowers = {
        b.borrower_id: b
        for b in session.scalars(select(Borrower).where(Borrower.borrower_id.in_(bids)))
    }
    run = _Run(session, profile, settings, now, keys, borrowers, histories(session, bids), used)
    for case, loan, action in plan:
        _validation_first(run, loan)
        context = {"loan_id": loan.loan_id, "amount": f"{loan.emi:,.2f}", "due_date": "",
                   "company": "the lender"}  # fmt: skip
        _propose(run, key=f"reminder:{case.id}:{day}", loan=loan, case_id=case.id,
                 kind="reminder", channels=ACTION_CHANNELS[action], context=context)  # fmt: skip
    for promise, loan in promises:
        due = as_utc(promise.promised_date)
        context = {"loan_id": loan.loan_id, "amount": f"{promise.amount - promise.paid:,.2f}",
                   "due_date": due.date().isoformat(), "company": "the lender"}  # fmt: skip
        if promise.status == "Broken":
            kind, key = "broken_promise", f"broken_promise:{promise.id}"
        elif now <= due < now + timedelta(days=PROMISE_LEAD_DAYS):
            kind, key = "promise_reminder", f"promise_reminder:{promise.id}"
        else:
            continue
        _validation_first(run, loan)
        _propose(run, key=key, loan=loan, case_id=promise.case_id, kind=kind,
                 channels=_PROMISE_CHANNELS, context=context)  # fmt: skip
    for upcoming in instalments:
        loan = upcoming.loan
        context = {"loan_id": loan.loan_id, "amount": f"{upcoming.amount:,.2f}",
                   "due_date": upcoming.due.isoformat(), "company": "the lender"}  # fmt: skip
        _validation_first(run, loan)
        _propose(run, key=instalment_key(loan.loan_id, upcoming.due), loan=loan,
                 case_id=cases.get(loan.loan_id), kind="instalment_reminder",
                 channels=_INSTALMENT_CHANNELS, context=context)  # fmt: skip
    session.flush()
    logger.info("comms schedule: %s", run.report.as_dict())
    return run.report
