"""``/messages/held``: messages held in doubt after a crash, and a manager's decision on each
(``loanrecovery.comms.held``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.held import HeldDecision, NotHeld, decide_held, held_messages
from loanrecovery.service.db.models import CommMessage, User
from loanrecovery.service.deps import DbSession, WriteSession, require
from loanrecovery.service.promises import as_utc

__all__ = ["router"]

router = APIRouter(tags=["communications"])


class HeldOut(BaseModel):
    """A held message: ids, channel and why it is held (never its text or address)."""

    id: int
    key: str
    borrower_id: str
    loan_id: str | None
    kind: str
    channel: str
    status: str
    attempts: int
    held_since: datetime
    last_error: str | None


class HeldDecisionIn(BaseModel):
    """``arrived`` (it reached the borrower), ``resend`` (it did not: queue it again, the
    contact rules are checked again) or ``cancel`` (do not send it)."""

    model_config = ConfigDict(extra="forbid")

    decision: HeldDecision
    note: str = Field(default="", max_length=500)


def _out(row: CommMessage) -> HeldOut:
    return HeldOut(
        id=row.id, key=row.key, borrower_id=row.borrower_id, loan_id=row.loan_id,
        kind=row.kind, channel=row.channel, status=row.status, attempts=row.attempts,
        held_since=as_utc(row.updated_at), last_error=row.last_error,
    )  # fmt: skip


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such message"},
    409: {"description": "the message is not held"},
}


@router.get("/messages/held", response_model=list[HeldOut])
def list_held(
    db: DbSession,
    _user: Annotated[User, Depends(require("comms.summary"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[HeldOut]:
    """Messages held in doubt, oldest first: each needs a person's decision."""
    return [_out(row) for row in held_messages(db, limit=limit)]


@router.post("/messages/{message_id}/decision", response_model=HeldOut, responses=_ERRORS)
def decide(
    message_id: Annotated[int, Path(ge=1, le=2**62)],
    body: HeldDecisionIn,
    db: WriteSession,
    user: Annotated[User, Depends(require("comms.release"))],
) -> HeldOut:
    """Decide a held message, in one transaction with its audit row."""
    with db.begin():
        try:
            row = decide_held(db, message_id, body.decision, actor=user.name, note=body.note)
        except NotHeld as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        except CommsInputError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        out = _out(row)
    return out
