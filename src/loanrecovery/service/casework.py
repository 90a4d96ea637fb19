"""Working a case, shared by the API and the web pages: contacts, promises to pay, repayment
plans, settlements and hardship reviews, each written with its audit row in the caller's
transaction, and the contact rules that say whether a borrower may be contacted now.

Limits (named once, here):

* a promise's date is today or within :data:`PROMISE_MAX_DAYS` days, its amount above zero
  and at most the balance;
* a settlement discounting more than :data:`SETTLEMENT_AUTO_DISCOUNT` of the balance waits
  for a manager's approval (Pending); at most :data:`SETTLEMENT_MAX_DISCOUNT`;
* a plan has 2 to :data:`PLAN_MAX_INSTALMENTS` instalments covering the balance;
* outbound contacts (phone, sms, visit, email) only in the borrower's local contact hours
  and never to a borrower who opted out (:class:`~loanrecovery.recovery.catalogue.ComplianceRules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from loanrecovery.recovery.catalogue import ComplianceRules
from loanrecovery.service import audit
from loanrecovery.service.db.models import (
    Activity,
    Arrangement,
    Borrower,
    Case,
    Loan,
    Promise,
    User,
)
from loanrecovery.service.errors import ServiceInputError

__all__ = [
    "PROMISE_MAX_DAYS",
    "SETTLEMENT_AUTO_DISCOUNT",
    "SETTLEMENT_MAX_DISCOUNT",
    "PLAN_MAX_INSTALMENTS",
    "OUTBOUND",
    "CaseRuleError",
    "ContactWindow",
    "contact_window",
    "log_activity",
    "record_promise",
    "propose_plan",
    "propose_settlement",
    "request_hardship",
    "decide_settlement",
]

PROMISE_MAX_DAYS = 30
SETTLEMENT_AUTO_DISCOUNT = 0.20
SETTLEMENT_MAX_DISCOUNT = 0.60
PLAN_MAX_INSTALMENTS = 36
#: Channels that reach out to the borrower (and so obey the contact rules).
OUTBOUND = ("phone", "sms", "email", "visit")
_RULES = ComplianceRules()


class CaseRuleError(ServiceInputError):
    """An action on a case breaks a rule; ``field`` names the form field, ``message`` why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ContactWindow:
    """Whether the borrower may be contacted now, why not, and their local window."""

    allowed: bool
    reason: str
    local_time: str
    window: str


def contact_window(borrower: Borrower | None, now: datetime | None = None) -> ContactWindow:
    """The contact rules for ``borrower`` at ``now`` (UTC)."""
    now = now or datetime.now(UTC)
    start, end = _RULES.contact_start_hour, _RULES.contact_end_hour
    window = f"{start:02d}:00-{end:02d}:00 local"
    if borrower is None or borrower.utc_offset is None:
        return ContactWindow(True, "", "unknown", window + " (offset unknown: UTC taken)")
    local = now + timedelta(hours=borrower.utc_offset)
    shown = f"{local:%H:%M} (UTC{borrower.utc_offset:+d})"
    if borrower.contact_opt_out:
        return ContactWindow(
            False, "the borrower opted out of contact: letters only", shown, window
        )
    if not start <= local.hour < end:
        return ContactWindow(
            False, f"outside {window} hours (now {local:%H:%M} local)", shown, window
        )
    return ContactWindow(True, "", shown, window)


def log_activity(
    session: Session, case: Case, user: User, *, channel: str, outcome: str, note: str,
    borrower: Borrower | None = None, check_contact: bool = False,
) -> Activity:  # fmt: skip
    """Log a contact on an open case (audited). With ``check_contact``, an outbound contact
    outside the rules is refused.

    Raises
    ------
    CaseRuleError
        When ``check_contact`` and the borrower may not be contacted now on ``channel``.
    """
    if check_contact and channel in OUTBOUND:
        window = contact_window(borrower)
        if not window.allowed:
            raise CaseRuleError("channel", f"{channel} contact not allowed now: {window.reason}")
    activity = Activity(
        case_id=case.id, user_id=user.id, channel=channel, outcome=outcome, note=note,
        created_at=datetime.now(UTC),
    )  # fmt: skip
    session.add(activity)
    before = case.status
    if case.status == "Open":
        case.status = "In Progress"
    session.flush()
    audit.record(
        session, actor=user.name, action="activity.logged", entity="case", entity_id=case.id,
        before={"status": before},
        after={"status": case.status, "activity_id": activity.id, "channel": channel,
               "outcome": outcome},
    )  # fmt: skip
    return activity


def record_promise(
    session: Session, case: Case, user: User, *, promised_date: date, amount: float,
    balance: float | None = None, enforce_limits: bool = True,
) -> Promise:  # fmt: skip
    """Record a promise to pay on an open case (audited).

    Raises
    ------
    CaseRuleError
        The date is in the past (always), or, with ``enforce_limits``, further than
        :data:`PROMISE_MAX_DAYS` days away, or the amount is not above zero or exceeds the
        balance.
    """
    today = datetime.now(UTC).date()
    if promised_date < today:
        raise CaseRuleError(
            "promised_date",
            f"promised_date {promised_date.isoformat()} is in the past (today {today})",
        )
    if enforce_limits:
        latest = today + timedelta(days=PROMISE_MAX_DAYS)
        if promised_date > latest:
            raise CaseRuleError(
                "promised_date",
                f"promised_date {promised_date.isoformat()} is more than {PROMISE_MAX_DAYS} "
                f"days away (the policy's limit; latest {latest})",
            )
        if not amount > 0:
            raise CaseRuleError("amount", f"amount {amount} must be above 0")
        if balance is not None and amount > balance + 0.005:
            raise CaseRuleError(
                "amount", f"amount {amount:.2f} is more than the balance {balance:.2f}"
            )
    promise = Promise(
        case_id=case.id, loan_id=case.loan_id,
        promised_date=datetime.combine(promised_date, time(0, 0), tzinfo=UTC),
        amount=round(amount, 2), paid=0.0, status="Open", created_by=user.id,
        created_at=datetime.now(UTC),
    )  # fmt: skip
    session.add(promise)
    before = case.status
    case.status = "Promise to Pay"
    session.flush()
    audit.record(
        session, actor=user.name, action="promise.created", entity="promise",
        entity_id=promise.id, before={"case_status": before},
        after={"case_id": case.id, "amount": promise.amount,
               "promised_date": promised_date.isoformat(), "status": "Open"},
    )  # fmt: skip
    return promise


def _arrangement(session: Session, case: Case, user: User, **values: object) -> Arrangement:
    row = Arrangement(
        case_id=case.id, loan_id=case.loan_id, created_by=user.id, created_at=datetime.now(UTC),
        **values,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor=user.name, action=f"{row.kind}.{row.status.lower()}",
        entity="arrangement", entity_id=row.id,
        after={"case_id": case.id, "kind": row.kind, "status": row.status, "amount": row.amount,
               "instalments": row.instalments, "discount": row.discount},
    )  # fmt: skip
    return row


def propose_plan(
    session: Session, case: Case, loan: Loan, user: User, *, instalments: int, note: str = ""
) -> Arrangement:
    """Propose a repayment plan of equal monthly instalments covering the balance.

    Raises
    ------
    CaseRuleError
        Fewer than 2 or more than :data:`PLAN_MAX_INSTALMENTS` instalments.
    """
    if not 2 <= instalments <= PLAN_MAX_INSTALMENTS:
        raise CaseRuleError(
            "instalments", f"instalments {instalments}: expected 2 to {PLAN_MAX_INSTALMENTS}"
        )
    amount = round(loan.outstanding / instalments, 2)
    return _arrangement(
        session, case, user, kind="plan", amount=amount, instalments=instalments,
        discount=0.0, status="Proposed", note=note,
    )  # fmt: skip


def propose_settlement(
    session: Session, case: Case, loan: Loan, user: User, *, amount: float, note: str = ""
) -> Arrangement:
    """Propose settling the balance for ``amount``: Approved when the discount is at most
    :data:`SETTLEMENT_AUTO_DISCOUNT`, Pending (a manager decides) up to
    :data:`SETTLEMENT_MAX_DISCOUNT`.

    Raises
    ------
    CaseRuleError
        The amount is not above zero, exceeds the balance, or discounts more than the maximum.
    """
    balance = float(loan.outstanding)
    if not 0 < amount <= balance + 0.005:
        raise CaseRuleError("amount", f"amount {amount:.2f}: expected above 0 and at most "
                                      f"the balance {balance:.2f}")  # fmt: skip
    discount = round(1.0 - amount / balance, 4) if balance > 0 else 0.0
    least = balance * (1 - SETTLEMENT_MAX_DISCOUNT)
    if discount > SETTLEMENT_MAX_DISCOUNT:
        raise CaseRuleError(
            "amount", f"discount {discount:.0%} is above the policy's maximum "
            f"{SETTLEMENT_MAX_DISCOUNT:.0%} (least amount {least:.2f})",
        )  # fmt: skip
    status = "Approved" if discount <= SETTLEMENT_AUTO_DISCOUNT else "Pending"
    return _arrangement(
        session, case, user, kind="settlement", amount=round(amount, 2), instalments=1,
        discount=discount, status=status, note=note,
    )  # fmt: skip


def request_hardship(session: Session, case: Case, user: User, *, note: str) -> Arrangement:
    """Ask for a hardship review; the case's status becomes Hardship Requested."""
    before = case.status
    case.status = "Hardship Requested"
    row = _arrangement(session, case, user, kind="hardship", status="Requested", note=note)
    audit.record(
        session, actor=user.name, action="case.hardship_requested", entity="case",
        entity_id=case.id, before={"status": before}, after={"status": case.status},
    )  # fmt: skip
    return row


def decide_settlement(session: Session, row: Arrangement, user: User, *, approve: bool) -> None:
    """A manager approves or rejects a Pending settlement (audited).

    Raises
    ------
    CaseRuleError
        If the arrangement is not a Pending settlement.
    """
    if row.kind != "settlement" or row.status != "Pending":
        raise CaseRuleError("status", f"arrangement {row.id} is a {row.status} {row.kind}, "
                                      "not a Pending settlement")  # fmt: skip
    before = row.status
    row.status = "Approved" if approve else "Rejected"
    row.decided_by, row.decided_at = user.id, datetime.now(UTC)
    audit.record(
        session, actor=user.name, action=f"settlement.{row.status.lower()}",
        entity="arrangement", entity_id=row.id, before={"status": before},
        after={"status": row.status},
    )  # fmt: skip
