"""Borrower communications: messages and consents, requests (opt-out, cease, dispute),
a collector's call check, the preview of what goes out next, the summary, and the
providers' signed status callbacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.policy import MEDIUMS, Profile, decide, load_profile
from loanrecovery.comms.records import (
    check_call,
    histories,
    policy_borrower,
    record_request,
)
from loanrecovery.comms.replies import StatusUpdate, apply_status, verify
from loanrecovery.service import audit
from loanrecovery.service.api.errors import invalid
from loanrecovery.service.db.models import (
    Borrower,
    Case,
    CommConsent,
    CommMessage,
    CommOptOut,
    Loan,
    User,
)
from loanrecovery.service.deps import DbSession, WriteSession, require
from loanrecovery.service.promises import as_utc

__all__ = ["router", "comms_settings"]

router = APIRouter(tags=["communications"])
BorrowerId = Annotated[str, Path(min_length=1, max_length=64)]
_MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "no such borrower"}}


@lru_cache(maxsize=1)
def comms_settings() -> CommsSettings:
    """The communications settings of this server process (``LOANRECOVERY_COMMS_*``)."""
    return CommsSettings()


def _profile() -> Profile:
    return load_profile(comms_settings().profile)


class MessageOut(BaseModel):
    """A message and the decision about it (its text is not repeated here)."""

    id: int
    key: str
    kind: str
    channel: str
    status: str
    rule: str
    why: str
    template: str
    template_version: int
    language: str
    scheduled_for: datetime
    sent_at: datetime | None
    attempts: int


class RequestIn(BaseModel):
    """A borrower's request, honoured from the moment it is recorded."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["opt_out", "opt_in", "consent", "cease", "dispute", "dispute_resolved"]
    medium: Literal["phone", "voice", "sms", "email", "letter"] | None = None


class RequestOut(BaseModel):
    """A recorded request or consent."""

    kind: str
    medium: str | None
    source: str
    recorded_at: datetime


class ConsentsOut(BaseModel):
    """A borrower's consents and requests, oldest first."""

    borrower_id: str
    requests: list[RequestOut]


class DecisionOut(BaseModel):
    """What the contact policy says and which rule decided."""

    allowed: bool
    rule: str
    why: str
    retry_at: datetime | None = None


class PreviewItem(BaseModel):
    """A queued message and what the policy says about it now."""

    id: int
    borrower_id: str
    kind: str
    channel: str
    scheduled_for: datetime
    decision: DecisionOut


class SummaryOut(BaseModel):
    """Messages by status, and blocked ones by rule."""

    by_status: dict[str, int]
    blocked_by_rule: dict[str, int]


class StatusIn(BaseModel):
    """A provider's status callback."""

    model_config = ConfigDict(extra="ignore")

    provider: str = Field(min_length=1, max_length=64)
    event_id: str = Field(min_length=1, max_length=128)
    message_key: str = Field(min_length=1, max_length=160)
    status: Literal["queued", "sent", "delivered", "failed", "bounced"] | None = None
    reply: str | None = Field(default=None, max_length=1600)


class StatusOut(BaseModel):
    """Whether the callback changed anything."""

    result: Literal["applied", "duplicate"]
    message_status: str


def _borrower(db: Session, borrower_id: str, user: User) -> Borrower:
    row = db.get(Borrower, borrower_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"borrower {borrower_id} not found")
    if user.role == "collector":
        mine = db.scalar(
            select(func.count())
            .select_from(Case)
            .join(Loan, Loan.loan_id == Case.loan_id)
            .where(Loan.borrower_id == borrower_id, Case.is_open, Case.assigned_to == user.id)
        )
        if not mine:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not a borrower of your cases")
    return row


@router.get("/borrowers/{borrower_id}/messages", response_model=list[MessageOut],
            responses=_MISSING)  # fmt: skip
def messages(
    borrower_id: BorrowerId,
    db: DbSession,
    user: Annotated[User, Depends(require("comms.read"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MessageOut]:
    """A borrower's messages, newest first, with the rule that allowed or blocked each."""
    _borrower(db, borrower_id, user)
    rows = db.scalars(
        select(CommMessage)
        .where(CommMessage.borrower_id == borrower_id)
        .order_by(CommMessage.id.desc())
        .limit(limit)
    )
    return [MessageOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/borrowers/{borrower_id}/consents", response_model=ConsentsOut, responses=_MISSING)
def consents(
    borrower_id: BorrowerId,
    db: DbSession,
    user: Annotated[User, Depends(require("comms.read"))],
) -> ConsentsOut:
    """A borrower's consents and requests (opt-outs, cease, disputes), oldest first."""
    _borrower(db, borrower_id, user)
    out = [
        RequestOut(kind=r.kind, medium=r.medium, source=r.source, recorded_at=r.recorded_at)
        for r in db.scalars(select(CommOptOut).where(CommOptOut.borrower_id == borrower_id))
    ]
    out += [
        RequestOut(kind="consent" if c.granted else "opt_out", medium=c.medium, source=c.source,
                   recorded_at=c.recorded_at)
        for c in db.scalars(select(CommConsent).where(CommConsent.borrower_id == borrower_id))
    ]  # fmt: skip
    out.sort(key=lambda r: as_utc(r.recorded_at))
    return ConsentsOut(borrower_id=borrower_id, requests=out)


@router.post("/borrowers/{borrower_id}/requests", response_model=RequestOut, status_code=201,
             responses=_MISSING)  # fmt: skip
def add_request(
    borrower_id: BorrowerId,
    body: RequestIn,
    db: WriteSession,
    user: Annotated[User, Depends(require("comms.write"))],
) -> RequestOut:
    """Record an opt-out (per medium), opt-in, consent, cease request, dispute or its end."""
    if body.kind in ("opt_out", "opt_in", "consent") and body.medium is None:
        raise invalid("body", "medium", message=f"{body.kind} needs a medium: {', '.join(MEDIUMS)}")
    with db.begin():
        _borrower(db, borrower_id, user)
        try:
            row = record_request(db, borrower_id, body.kind, medium=body.medium, source="api",
                                 actor=user.name)  # fmt: skip
        except CommsInputError as exc:
            raise invalid("body", "kind", message=str(exc)) from exc
        kind = row.kind if isinstance(row, CommOptOut) else "consent"
        out = RequestOut(kind=kind, medium=row.medium, source=row.source,
                         recorded_at=row.recorded_at)  # fmt: skip
    return out


@router.post("/borrowers/{borrower_id}/call-check", response_model=DecisionOut,
             responses=_MISSING)  # fmt: skip
def call_check(
    borrower_id: BorrowerId,
    db: WriteSession,
    user: Annotated[User, Depends(require("comms.write"))],
) -> DecisionOut:
    """May the caller phone this borrower now? The same engine and history as the worker;
    the decision is audited with its rule."""
    with db.begin():
        _borrower(db, borrower_id, user)
        decision = check_call(db, _profile(), borrower_id)
        audit.record(
            db, actor=user.name, action="comms.call_checked", entity="borrower",
            entity_id=borrower_id, after={"allowed": decision.allowed, "rule": decision.rule},
        )  # fmt: skip
    return DecisionOut(allowed=decision.allowed, rule=decision.rule, why=decision.why,
                       retry_at=decision.retry_at)  # fmt: skip


@router.get("/comms/preview", response_model=list[PreviewItem])
def preview(
    db: DbSession,
    _user: Annotated[User, Depends(require("comms.summary"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[PreviewItem]:
    """The next queued messages and what the policy says about each now."""
    rows = list(
        db.scalars(
            select(CommMessage)
            .where(CommMessage.status == "queued")
            .order_by(CommMessage.next_attempt_at, CommMessage.id)
            .limit(limit)
        )
    )
    profile, now = _profile(), datetime.now(UTC)
    wanted = {r.borrower_id for r in rows}
    people = {
        b.borrower_id: b
        for b in db.scalars(select(Borrower).where(Borrower.borrower_id.in_(wanted)))
    }
    history = histories(db, people)
    out = []
    for r in rows:
        at = max(now, as_utc(r.next_attempt_at))
        d = decide(profile, policy_borrower(people.get(r.borrower_id)),
                   history.get(r.borrower_id, []), at=at, medium=r.medium, kind=r.kind)  # fmt: skip
        out.append(PreviewItem(id=r.id, borrower_id=r.borrower_id, kind=r.kind, channel=r.channel,
                               scheduled_for=at, decision=DecisionOut(allowed=d.allowed,
                               rule=d.rule, why=d.why, retry_at=d.retry_at)))  # fmt: skip
    return out


@router.get("/comms/summary", response_model=SummaryOut)
def summary(db: DbSession, _user: Annotated[User, Depends(require("comms.summary"))]) -> SummaryOut:
    """Messages sent, delivered, failed, queued, and blocked by rule (the manager console)."""
    by_status = dict(
        db.execute(select(CommMessage.status, func.count()).group_by(CommMessage.status)).all()
    )
    blocked = dict(
        db.execute(
            select(CommMessage.rule, func.count())
            .where(CommMessage.status == "blocked")
            .group_by(CommMessage.rule)
        ).all()
    )
    return SummaryOut(by_status=by_status, blocked_by_rule=blocked)


async def _raw_body(request: Request) -> bytes:
    return await request.body()


_STATUS_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "signature missing or wrong"},
    404: {"description": "unknown message"},
}


@router.post("/messages/status", response_model=StatusOut, responses=_STATUS_ERRORS)
def message_status(
    raw: Annotated[bytes, Depends(_raw_body)],
    db: WriteSession,
    x_signature: Annotated[str | None, Header()] = None,
) -> StatusOut:
    """A provider's status callback or reply, signed ``X-Signature: sha256=HMAC(body)`` with
    the shared secret; de-duplicated by ``(provider, event_id)``. A reply of STOP (or another
    opt-out keyword) records the opt-out for that medium and queues one confirmation."""
    if not verify(comms_settings().callback_secret, raw, x_signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "signature missing or wrong")
    try:
        body = StatusIn.model_validate(json.loads(raw or b"null"))
    except (ValueError, ValidationError) as exc:
        raise invalid("body", "status", message=f"callback body is not valid: {exc}"[:300]) from exc
    update = StatusUpdate(body.provider, body.event_id, body.message_key, body.status, body.reply)
    with db.begin():
        try:
            result, message = apply_status(
                db, _profile(), update, actor=f"provider:{body.provider}"
            )
        except CommsInputError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        final = message.status if message is not None else "unknown"
    return StatusOut(result=result, message_status=final)  # type: ignore[arg-type]
