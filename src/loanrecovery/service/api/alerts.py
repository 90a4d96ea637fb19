"""``/alerts``: what managers should look at."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from loanrecovery.service.db.models import Alert, User
from loanrecovery.service.deps import DbSession, require
from loanrecovery.service.promises import as_utc
from loanrecovery.service.schemas import AlertOut

__all__ = ["router"]

router = APIRouter(tags=["alerts"])


@router.get("/alerts", response_model=list[AlertOut])
def alerts(
    db: DbSession,
    _user: Annotated[User, Depends(require("alerts.read"))],
    since: Annotated[datetime | None, Query(description="ISO 8601; only newer alerts")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AlertOut]:
    """Alerts (entered the watchlist, higher risk band, broken promise), oldest first."""
    query = select(Alert).order_by(Alert.id).limit(limit)
    if since is not None:
        query = query.where(Alert.created_at > as_utc(since))
    return [
        AlertOut(
            alert_id=a.id,
            loan_id=a.loan_id,
            kind=a.kind,
            message=a.message,
            created_at=as_utc(a.created_at),
        )
        for a in db.scalars(query)
    ]
