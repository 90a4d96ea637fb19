"""SQLAlchemy 2 table models of the service.

The Alembic migrations in ``db/migrations`` create exactly these tables; a test checks that
the two agree. Money is stored as floats in the book's currency; times as UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

__all__ = [
    "LoanFacts",
    "Base",
    "Meta",
    "Borrower",
    "BorrowerName",
    "Loan",
    "PanelMonth",
    "CollectionAction",
    "PaymentEvent",
    "Suspense",
    "Case",
    "Promise",
    "Activity",
    "PlanItem",
    "Score",
    "Alert",
    "User",
    "ApiToken",
    "AuditRow",
    "OutboxRow",
    "WebSession",
    "PolicyVersion",
    "Arrangement",
    "CommTemplate",
    "CommConsent",
    "CommOptOut",
    "CommMessage",
    "CommAttempt",
    "CommStatusEvent",
    "RefreshRun",
    "RefreshChange",
    "OPEN_CASE_STATUSES",
    "name_keys",
]

#: An auto-incrementing 64-bit key (SQLite needs plain INTEGER for its rowid alias).
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: Case statuses that count as open (one open case per loan).
OPEN_CASE_STATUSES = ("Open", "In Progress", "Promise to Pay", "Broken PTP", "Hardship Requested")


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    """Key/value facts about the stored book (as-of month, calendar anchor, bundle id)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Borrower(Base):
    """A borrower; personal data (names, phones, e-mails) only here, never logged."""

    __tablename__ = "borrowers"
    borrower_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    utc_offset: Mapped[int | None] = mapped_column(Integer)
    contact_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    personal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BorrowerName(Base):
    """The queue's name search: one lower-case key per word start of the borrower's name
    ("ana silva-3" gives "ana silva-3" and "silva-3"), searched by prefix on an index
    (migration 0004_queue_indexes); written by ``service.names``."""

    __tablename__ = "borrower_names"
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    __table_args__ = (
        Index("ix_borrower_names_key", "key", postgresql_ops={"key": "text_pattern_ops"}),
    )


class LoanFacts(Protocol):
    """What scoring and case rules read of a loan: a :class:`Loan` or the payment path's
    in-memory copy (:class:`~loanrecovery.service.intake.LoanState`)."""

    @property
    def loan_id(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...

    @property
    def outstanding(self) -> float: ...

    @property
    def days_past_due(self) -> int: ...


class Loan(Base):
    """A loan: its contract row (``data``, the loans.csv layout) and its current state."""

    __tablename__ = "loans"
    loan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    borrower_id: Mapped[str | None] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    outstanding: Mapped[float] = mapped_column(Float)
    days_past_due: Mapped[int] = mapped_column(Integer)
    panel_month: Mapped[int | None] = mapped_column(Integer)
    emi: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PanelMonth(Base):
    """One month of the payment panel (payments.csv layout)."""

    __tablename__ = "panel"
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount_due: Mapped[float] = mapped_column(Float)
    amount_paid: Mapped[float] = mapped_column(Float)
    days_past_due: Mapped[float] = mapped_column(Float)
    outstanding_balance: Mapped[float] = mapped_column(Float)


class CollectionAction(Base):
    """One past collection action (collections.csv layout)."""

    __tablename__ = "collection_actions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    month: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    cost: Mapped[float] = mapped_column(Float)
    recovered_amount: Mapped[float] = mapped_column(Float)
    __table_args__ = (UniqueConstraint("loan_id", "month", "action", name="uq_collection"),)


class PaymentEvent(Base):
    """Every payment event received, once per ``(source, event_id)``: the idempotency ledger.

    ``state`` is ``applied`` or ``suspense`` (loan unknown when it arrived).
    """

    __tablename__ = "payment_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    loan_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[float] = mapped_column(Float)
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    panel_month: Mapped[int | None] = mapped_column(Integer)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_payment_source_event"),)


class Suspense(Base):
    """A payment held because its loan was unknown; resolved when the loan arrives."""

    __tablename__ = "suspense"
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment_events.id"), primary_key=True)
    loan_id: Mapped[str] = mapped_column(String(64), index=True)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Case(Base):
    """A collection case; at most one open case per loan."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[str] = mapped_column(String(16))
    days_past_due: Mapped[int] = mapped_column(Integer)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    next_action_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The current plan action and the newest score's segment, copied here by the scoring so
    #: the queue filters walk one index (migration 0004_queue_indexes).
    action: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(64))
    #: "champion" or "challenger": the bundle's arm for the loan, recorded when an import
    #: opens the case (``import --bundle``); empty without a challenger.
    arm: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (
        Index(
            "uq_one_open_case_per_loan",
            "loan_id",
            unique=True,
            sqlite_where=text("is_open = 1"),
            postgresql_where=text("is_open"),
        ),
        # the queue pages: open cases by priority (migration 0002_web_login); on SQLite the
        # partial indexes say "= 1", as SQLAlchemy writes the filter there (0006)
        Index(
            "ix_cases_open_priority",
            text("priority DESC"),
            "id",
            sqlite_where=text("is_open = 1"),
            postgresql_where=text("is_open"),
        ),
        # one collector's queue and the filters, in priority order (0004_queue_indexes)
        *(
            Index(
                f"ix_cases_open_{column}_priority",
                column,
                text("priority DESC"),
                "id",
                sqlite_where=text("is_open = 1"),
                postgresql_where=text("is_open"),
            )
            for column in ("assigned_to", "action", "segment")
        ),
    )


class Promise(Base):
    """A promise to pay: Open, Kept, Partial or Broken."""

    __tablename__ = "promises"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    loan_id: Mapped[str] = mapped_column(String(64), index=True)
    promised_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount: Mapped[float] = mapped_column(Float)
    paid: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_promises_status_case", "status", "case_id"),)


class Activity(Base):
    """A contact with the borrower and its outcome."""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlanItem(Base):
    """The recommended action for a loan, from a scoring run, with its priority."""

    __tablename__ = "plan_items"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    why: Mapped[str] = mapped_column(Text, default="")
    expected_gain: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float)
    bundle_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (
        # the current plan item of a loan (the queue's join, the refresh; 0005_refresh_runs)
        Index(
            "ix_plan_items_current_loan",
            "loan_id",
            sqlite_where=text('"current" = 1'),
            postgresql_where=text("current"),
        ),
    )


class Score(Base):
    """One scoring of a loan by a bundle (history kept; the newest row is current)."""

    __tablename__ = "scores"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"))
    bundle_id: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[int | None] = mapped_column(Integer)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(32))
    segment: Mapped[str] = mapped_column(String(64))
    pd_3m: Mapped[float | None] = mapped_column(Float)
    pd_6m: Mapped[float | None] = mapped_column(Float)
    pd_12m: Mapped[float | None] = mapped_column(Float)
    risk_band: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recommended_action: Mapped[str | None] = mapped_column(String(64))
    action_why: Mapped[str | None] = mapped_column(Text)
    expected_gain: Mapped[float | None] = mapped_column(Float)
    on_watchlist: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_scores_loan_newest", "loan_id", "id"),)


class Alert(Base):
    """Something a manager should see: a loan entering the watchlist or a higher risk band,
    or a broken promise."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class User(Base):
    """A person or system using the API, with one role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: argon2 hash of the web log-in password (None: no web log-in).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """An API token, stored as its SHA-256 hash (the token itself is shown once)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """One change: who, when, what, before and after. Append-only (database triggers)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxRow(Base):
    """A message to deliver, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "id",
            sqlite_where=text("delivered_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )


class WebSession(Base):
    """A browser log-in: the cookie's SHA-256, its CSRF token and when it expires."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PolicyVersion(Base):
    """One saved version of the strategy policy (TOML text); the newest is in force."""

    __tablename__ = "policy_versions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Arrangement(Base):
    """A repayment plan, a settlement or a hardship review proposed on a case.

    ``status``: Proposed (plans), Pending (settlements above the policy's discount, waiting
    for a manager), Approved, Rejected, Requested (hardship reviews).
    """

    __tablename__ = "arrangements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    loan_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float | None] = mapped_column(Float)
    instalments: Mapped[int | None] = mapped_column(Integer)
    discount: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- borrower communications (issue 14; migration 0003_communications) -------------------


class CommTemplate(Base):
    """A message template (Jinja2), versioned, per channel and language."""

    __tablename__ = "comm_templates"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("name", "version", "channel", "language", name="uq_comm_template"),
    )


class CommConsent(Base):
    """A borrower's consent to (or preference for) a medium, with where it came from."""

    __tablename__ = "comm_consents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    medium: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(128))


class CommOptOut(Base):
    """A borrower's request: stop a medium (opt_out / opt_in), cease, dispute, resolved."""

    __tablename__ = "comm_opt_outs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    medium: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    keyword: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(128))


class CommMessage(Base):
    """A message and the decision about it: the outbox of borrower communications.

    Written in the same transaction as the decision; ``key`` is its idempotency key (unique,
    passed to the channel). ``status``: queued, sending, sent, delivered, failed, bounced,
    blocked, held (in doubt after a crash and the channel cannot tell: a person checks);
    ``rule``/``why`` say which rule allowed or blocked it.
    """

    __tablename__ = "comm_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    loan_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    medium: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_comm_messages_due", "status", "next_attempt_at"),)


class CommAttempt(Base):
    """One delivery attempt, journalled before the channel is called (``outcome`` None while
    it runs: after a crash such an attempt is in doubt)."""

    __tablename__ = "comm_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("comm_messages.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


class CommStatusEvent(Base):
    """A provider's status callback, once per ``(provider, event_id)``."""

    __tablename__ = "comm_status_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("comm_messages.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    keyword: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_comm_status_provider_event"),
    )


# --- the monthly refresh (issue 12; migration 0005_refresh_runs) ---------------------------


class RefreshRun(Base):
    """One run of ``loanrecovery refresh``: the bundle it scored with and what it counted.

    ``loans_in`` = ``loans_scored`` + ``loans_rejected`` (loans the contract refused);
    ``scores_stored`` of the scored loans got a new score (the others' newest score already
    said the same, from the same bundle).
    """

    __tablename__ = "refresh_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    bundle_id: Mapped[str] = mapped_column(String(64))
    previous_bundle_id: Mapped[str | None] = mapped_column(String(64))
    refitted: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[int | None] = mapped_column(Integer)
    months_added: Mapped[int] = mapped_column(Integer)
    loans_aged: Mapped[int] = mapped_column(Integer)
    loans_in: Mapped[int] = mapped_column(Integer)
    loans_scored: Mapped[int] = mapped_column(Integer)
    loans_rejected: Mapped[int] = mapped_column(Integer)
    scores_stored: Mapped[int] = mapped_column(Integer)
    entered_watchlist: Mapped[int] = mapped_column(Integer)
    left_watchlist: Mapped[int] = mapped_column(Integer)
    action_changed: Mapped[int] = mapped_column(Integer)
    alerts_raised: Mapped[int] = mapped_column(Integer)


class RefreshChange(Base):
    """A loan a refresh changed: ``kind`` is ``entered_watchlist``, ``left_watchlist`` or
    ``action_changed``; ``before``/``after`` the recommended action (or watchlist flag)."""

    __tablename__ = "refresh_changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("refresh_runs.id"), index=True)
    loan_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(String(64))
    after: Mapped[str | None] = mapped_column(String(64))


def name_keys(personal: dict[str, Any] | None) -> list[str]:
    """The search keys of a borrower's name: the lower-case name from each word start on
    ("Ana Silva-3" gives "ana silva-3" and "silva-3"); none without a name."""
    words = str((personal or {}).get("name") or "").lower().split()
    return sorted({" ".join(words[i:])[:200] for i in range(len(words))})


@event.listens_for(Session, "before_flush")
def _index_names(session: Session, _context: Any, _instances: Any) -> None:
    """Keep ``borrower_names`` in step with the borrowers written through the ORM (bulk
    inserts write their keys themselves, see the importer)."""
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Borrower):
            continue
        state = inspect(obj)
        if not state.pending:
            if not state.attrs.personal.history.has_changes():
                continue
            session.execute(delete(BorrowerName).where(BorrowerName.borrower_id == obj.borrower_id))
        for key in name_keys(obj.personal):
            session.add(BorrowerName(borrower_id=obj.borrower_id, key=key))
