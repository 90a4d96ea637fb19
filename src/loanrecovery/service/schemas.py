"""Request and response bodies of the API (pydantic models; the OpenAPI schema comes from
these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PaymentCreate",
    "PaymentResult",
    "PaymentOut",
    "SuspenseOut",
    "CaseOut",
    "PromiseCreate",
    "PromiseOut",
    "ActivityCreate",
    "ActivityOut",
    "AssignIn",
    "LoanOut",
    "WatchlistItem",
    "QueueItem",
    "AlertOut",
    "AuditOut",
    "UserCreate",
    "UserOut",
    "TokenOut",
    "SweepOut",
    "Health",
    "CHANNELS",
    "OUTCOMES",
]

CHANNELS = ("phone", "sms", "email", "letter", "visit", "other")
OUTCOMES = (
    "answered",
    "no answer",
    "promise to pay",
    "dispute",
    "paid",
    "refused",
    "wrong number",
)
_ID = r"^[A-Za-z0-9_.:\-]+$"


class PaymentCreate(BaseModel):
    """A payment event."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=128, pattern=_ID)
    loan_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    amount: float = Field(gt=0, le=1e12, allow_inf_nan=False)
    paid_at: datetime = Field(description="ISO 8601; without a zone it is taken as UTC")
    source: str = Field(default="api", min_length=1, max_length=64, pattern=_ID)


class PaymentResult(BaseModel):
    """What happened to one event."""

    status: Literal["applied", "duplicate", "suspense"]
    payment_id: int
    event_id: str
    source: str
    loan_id: str
    original_status: Literal["applied", "suspense"] | None = Field(
        default=None, description="for a duplicate: what happened to the original"
    )


class PaymentOut(BaseModel):
    """A stored payment event."""

    payment_id: int
    event_id: str
    source: str
    loan_id: str
    amount: float
    paid_at: datetime
    received_at: datetime
    state: str
    panel_month: int | None


class SuspenseOut(BaseModel):
    """A payment held because its loan was unknown."""

    payment_id: int
    event_id: str
    source: str
    loan_id: str
    amount: float
    paid_at: datetime
    held_at: datetime


class CaseOut(BaseModel):
    """A collection case."""

    case_id: int
    loan_id: str
    status: str
    bucket: str
    days_past_due: int
    priority: float
    assigned_to: int | None
    opened_at: datetime
    closed_at: datetime | None


class PromiseCreate(BaseModel):
    """A promise to pay."""

    model_config = ConfigDict(extra="forbid")

    promised_date: date
    amount: float = Field(gt=0, le=1e12, allow_inf_nan=False)


class PromiseOut(BaseModel):
    """A stored promise to pay."""

    promise_id: int
    case_id: int
    promised_date: date
    amount: float
    paid: float
    status: Literal["Open", "Kept", "Partial", "Broken"]
    created_at: datetime


class ActivityCreate(BaseModel):
    """A contact with the borrower and its outcome."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["phone", "sms", "email", "letter", "visit", "other"]
    outcome: Literal[
        "answered", "no answer", "promise to pay", "dispute", "paid", "refused", "wrong number"
    ]
    note: str = Field(default="", max_length=2000)


class ActivityOut(BaseModel):
    """A logged contact."""

    activity_id: int
    case_id: int
    user_id: int | None
    channel: str
    outcome: str
    note: str
    created_at: datetime


class AssignIn(BaseModel):
    """Whom to give a case to."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1)


class LoanOut(BaseModel):
    """A loan's current state, newest score, open case, promises and last activities."""

    loan_id: str
    status: str | None
    outstanding: float
    days_past_due: int
    panel_month: int | None
    segment: str | None
    pd_3m: float | None
    pd_6m: float | None
    pd_12m: float | None
    risk_band: str | None
    reasons: list[str]
    recommended_action: str | None
    action_why: str | None
    expected_gain: float | None
    on_watchlist: bool | None
    bundle_id: str | None
    scored_at: datetime | None
    case: CaseOut | None
    promises: list[PromiseOut]
    activities: list[ActivityOut]


class WatchlistItem(BaseModel):
    """A loan on the watchlist."""

    loan_id: str
    pd_6m: float | None
    pd_12m: float | None
    risk_band: str | None
    segment: str
    recommended_action: str | None
    outstanding: float
    days_past_due: int
    scored_at: datetime


class QueueItem(BaseModel):
    """An assigned case in the caller's queue."""

    case_id: int
    loan_id: str
    status: str
    bucket: str
    days_past_due: int
    priority: float
    outstanding: float
    recommended_action: str | None


class AlertOut(BaseModel):
    """An alert."""

    alert_id: int
    loan_id: str
    kind: str
    message: str
    created_at: datetime


class AuditOut(BaseModel):
    """One audit row."""

    audit_id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class UserCreate(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@\-]+$")
    role: Literal["admin", "manager", "collector", "auditor"]
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)


class UserOut(BaseModel):
    """A user (never their tokens)."""

    user_id: int
    name: str
    role: str
    capacity: int | None
    active: bool


class TokenOut(BaseModel):
    """A user and their new token, shown once."""

    user: UserOut
    token: str


class SweepOut(BaseModel):
    """What a sweep did."""

    promises_broken: int


class Health(BaseModel):
    """Liveness and what the server runs with."""

    status: Literal["ok"]
    database: str
    revision: str | None
    bundle_id: str | None
