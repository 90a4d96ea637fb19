"""A person's decision on a message held in doubt.

A message is ``held`` when a worker crashed between handing it to a channel and recording
the answer, and the channel cannot say whether it arrived (``comms.worker``). Nothing is sent
on a guess; a manager checks (the provider's console, the borrower) and decides:

``arrived``
    it did reach the borrower: the message becomes ``sent`` (it counts as a contact);
``resend``
    it did not: the message is queued again with its idempotency key and goes through the
    contact policy again when the worker claims it;
``cancel``
    it is not to be sent: the message becomes ``failed`` with the manager's reason.

Each decision is one transaction with its audit row; only a held message can be decided.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.records import describe
from loanrecovery.service import audit
from loanrecovery.service.db.models import CommMessage

__all__ = ["HELD_DECISIONS", "HeldDecision", "NotHeld", "held_messages", "decide_held"]

HeldDecision = Literal["arrived", "resend", "cancel"]
#: What a manager can decide about a held message.
HELD_DECISIONS: tuple[HeldDecision, ...] = ("arrived", "resend", "cancel")


class NotHeld(CommsInputError):
    """The message exists but is not held (it was decided already, or never in doubt)."""


def held_messages(session: Session, *, limit: int = 100) -> list[CommMessage]:
    """Held messages, oldest first."""
    return list(
        session.scalars(
            select(CommMessage)
            .where(CommMessage.status == "held")
            .order_by(CommMessage.updated_at, CommMessage.id)
            .limit(limit)
        )
    )


def decide_held(
    session: Session,
    message_id: int,
    decision: HeldDecision,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> CommMessage:
    """Apply ``decision`` to the held message ``message_id`` in the caller's transaction.

    Raises
    ------
    CommsInputError
        No such message, or an unknown decision.
    NotHeld
        The message is not held.
    """
    if decision not in HELD_DECISIONS:
        raise CommsInputError(f"decision {decision!r} is not one of {', '.join(HELD_DECISIONS)}")
    row = session.get(CommMessage, message_id, with_for_update=True)
    if row is None:
        raise CommsInputError(f"no message {message_id}")
    if row.status != "held":
        raise NotHeld(f"message {message_id} is {row.status}, not held: nothing to decide")
    moment = now or datetime.now(UTC)
    before = describe(row)
    row.updated_at, row.claimed_until = moment, None
    if decision == "arrived":
        row.status = "sent"
        row.sent_at = row.sent_at or moment
        row.last_error = f"held, then confirmed as arrived by {actor}"
    elif decision == "resend":
        row.status = "queued"
        row.next_attempt_at = moment
        row.last_error = f"held, then released to be sent again by {actor}"
    else:
        row.status = "failed"
        row.last_error = f"held, then cancelled by {actor}" + (f": {note}" if note else "")
    audit.record(
        session, actor=actor, action=f"message.held_{decision}", entity="message",
        entity_id=row.id, before=before, after=describe(row) | {"note": note[:200]},
    )  # fmt: skip
    return row
