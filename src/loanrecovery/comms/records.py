"""The database side of the contact policy: a borrower's history as policy events, requests
(opt-out, cease, dispute, consent) recorded with an audit row, and decisions written as
messages in the caller's transaction (queued when allowed, blocked with the rule when not).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.policy import MEDIUMS, Borrower, Decision, Event, Profile, decide
from loanrecovery.comms.templates import Rendered
from loanrecovery.service import audit
from loanrecovery.service.db.models import (
    Activity,
    Case,
    CommConsent,
    CommMessage,
    CommOptOut,
    Loan,
)
from loanrecovery.service.db.models import (
    Borrower as BorrowerRow,
)
from loanrecovery.service.promises import as_utc

__all__ = [
    "CHANNEL_MEDIUM",
    "REQUEST_KINDS",
    "SENT_STATUSES",
    "policy_borrower",
    "histories",
    "record_request",
    "record_decision",
    "check_call",
]

#: The medium each channel uses (what a borrower can ask us to stop).
CHANNEL_MEDIUM = {"email": "email", "sms": "sms", "voice": "voice", "letter": "letter"}
#: Requests a borrower can make.
REQUEST_KINDS = ("opt_out", "opt_in", "consent", "cease", "dispute", "dispute_resolved")
#: Statuses of a message that reached (or may have reached) the borrower: a contact. One
#: still being sent (or held in doubt) counts from its claim (``updated_at``): it may arrive.
SENT_STATUSES = ("sending", "held", "sent", "delivered", "bounced")
#: Activity outcomes that mean a telephone conversation took place.
_TALKED = {"answered", "promise to pay", "dispute", "paid", "refused"}


def policy_borrower(row: BorrowerRow | None, *, time_barred: bool = False) -> Borrower:
    """What the rules need from a stored borrower (zone name, else UTC offset)."""
    if row is None:
        return Borrower(time_barred=time_barred)
    personal = row.personal or {}
    zone = personal.get("time_zone")
    return Borrower(
        time_zone=str(zone) if zone else None, utc_offset=row.utc_offset, time_barred=time_barred
    )


def histories(session: Session, borrower_ids: Iterable[str]) -> dict[str, list[Event]]:
    """Each borrower's policy history: messages that went out, calls logged by collectors
    (attempts; answered ones are conversations too), requests and consents."""
    ids = sorted(set(borrower_ids))
    out: dict[str, list[Event]] = defaultdict(list)
    if not ids:
        return out
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for bid, sent_at, sent_medium, sent_kind in session.execute(
            select(CommMessage.borrower_id,
                   func.coalesce(CommMessage.sent_at, CommMessage.updated_at), CommMessage.medium,
                   CommMessage.kind)
            .where(CommMessage.borrower_id.in_(chunk), CommMessage.status.in_(SENT_STATUSES))
        ):  # fmt: skip
            if sent_at is not None:
                out[bid].append(Event(as_utc(sent_at), "contact", sent_medium, sent_kind))
        for bid, at, kind, medium in session.execute(
            select(CommOptOut.borrower_id, CommOptOut.recorded_at, CommOptOut.kind,
                   CommOptOut.medium).where(CommOptOut.borrower_id.in_(chunk))
        ):  # fmt: skip
            out[bid].append(Event(as_utc(at), kind, medium))
        for bid, at, medium, granted in session.execute(
            select(CommConsent.borrower_id, CommConsent.recorded_at, CommConsent.medium,
                   CommConsent.granted).where(CommConsent.borrower_id.in_(chunk))
        ):  # fmt: skip
            out[bid].append(Event(as_utc(at), "consent" if granted else "opt_out", medium))
        for call_bid, at, outcome in session.execute(
            select(Loan.borrower_id, Activity.created_at, Activity.outcome)
            .join(Case, Case.id == Activity.case_id)
            .join(Loan, Loan.loan_id == Case.loan_id)
            .where(Loan.borrower_id.in_(chunk), Activity.channel == "phone")
        ):  # fmt: skip
            moment = as_utc(at)
            out[str(call_bid)].append(Event(moment, "contact", "phone", "call"))
            if outcome in _TALKED:
                out[str(call_bid)].append(Event(moment, "conversation", "phone"))
    return out


def record_request(
    session: Session,
    borrower_id: str,
    kind: str,
    *,
    medium: str | None,
    source: str,
    actor: str,
    keyword: str | None = None,
    at: datetime | None = None,
) -> CommOptOut | CommConsent:
    """Record a borrower's request (honoured from this moment) with an audit row.

    Raises
    ------
    CommsInputError
        If the kind or medium is unknown, a medium is missing, or the borrower unknown.
    """
    if kind not in REQUEST_KINDS:
        raise CommsInputError(f"request kind {kind!r} is not one of {', '.join(REQUEST_KINDS)}")
    if kind in ("opt_out", "opt_in", "consent") and medium not in MEDIUMS:
        raise CommsInputError(f"{kind} needs a medium, one of {', '.join(MEDIUMS)}; got {medium!r}")
    if session.get(BorrowerRow, borrower_id) is None:
        raise CommsInputError(f"borrower {borrower_id!r} is unknown")
    moment = at or datetime.now(UTC)
    row: CommOptOut | CommConsent
    if kind == "consent":
        row = CommConsent(
            borrower_id=borrower_id,
            medium=str(medium),
            granted=True,
            language=None,
            source=source,
            recorded_at=moment,
            recorded_by=actor,
        )
    else:
        row = CommOptOut(borrower_id=borrower_id, kind=kind, medium=medium, source=source,
                         keyword=keyword, recorded_at=moment, recorded_by=actor)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action=f"comms.{kind}", entity="borrower", entity_id=borrower_id,
        after={"medium": medium, "source": source, "keyword": keyword},
    )  # fmt: skip
    return row


def record_decision(
    session: Session,
    profile: Profile,
    decision: Decision,
    *,
    key: str,
    borrower_id: str,
    loan_id: str | None,
    case_id: int | None,
    kind: str,
    channel: str,
    rendered: Rendered,
    at: datetime,
) -> CommMessage:
    """Write the decision as a message in the caller's transaction: ``queued`` for ``at``
    when allowed (or for the next convenient moment when only the hour refused it),
    ``blocked`` with the rule otherwise."""
    status = "queued" if decision.allowed or decision.retry_at is not None else "blocked"
    when = decision.retry_at or at
    now = datetime.now(UTC)
    row = CommMessage(
        key=key, borrower_id=borrower_id, loan_id=loan_id, case_id=case_id, kind=kind,
        channel=channel, medium=CHANNEL_MEDIUM[channel], template=rendered.template,
        template_version=rendered.version, language=rendered.language,
        subject=rendered.subject, body=rendered.body, profile=profile.name, status=status,
        rule=decision.rule, why=decision.why, scheduled_for=when, next_attempt_at=when,
        attempts=0, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(row)
    return row


def check_call(
    session: Session, profile: Profile, borrower_id: str, *, at: datetime | None = None
) -> Decision:
    """Whether a collector may call the borrower now (same engine, same history)."""
    row = session.get(BorrowerRow, borrower_id)
    if row is None:
        raise CommsInputError(f"borrower {borrower_id!r} is unknown")
    events = histories(session, [borrower_id]).get(borrower_id, [])
    return decide(profile, policy_borrower(row), events, at=at or datetime.now(UTC),
                  medium="phone", kind="call")  # fmt: skip


def describe(message: CommMessage) -> dict[str, Any]:
    """A message for logs and audit: ids and statuses only, never its text or address."""
    return {"id": message.id, "kind": message.kind, "channel": message.channel,
            "status": message.status, "rule": message.rule}  # fmt: skip
