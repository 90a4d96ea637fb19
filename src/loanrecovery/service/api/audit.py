"""``/audit``: the append-only trail (read only; there is no route that changes it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from loanrecovery.service.db.models import AuditRow, User
from loanrecovery.service.deps import DbSession, require
from loanrecovery.service.promises import as_utc
from loanrecovery.service.schemas import AuditOut

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=list[AuditOut])
def read_audit(
    db: DbSession,
    _user: Annotated[User, Depends(require("audit.read"))],
    since: Annotated[datetime | None, Query()] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AuditOut]:
    """Audit rows, oldest first, filtered by time, actor, action and entity; page with
    ``after_id``."""
    query = select(AuditRow).where(AuditRow.id > after_id).order_by(AuditRow.id).limit(limit)
    if since is not None:
        query = query.where(AuditRow.at > as_utc(since))
    for column, value in (
        (AuditRow.actor, actor),
        (AuditRow.action, action),
        (AuditRow.entity, entity),
        (AuditRow.entity_id, entity_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return [
        AuditOut(
            audit_id=r.id,
            at=as_utc(r.at),
            actor=r.actor,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            before=r.before,
            after=r.after,
        )
        for r in db.scalars(query)
    ]
