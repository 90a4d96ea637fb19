"""Provider status callbacks: HMAC-signed, de-duplicated by the provider's event id; they
move a message along (sent, delivered, failed, bounced) and a reply of STOP (or another
keyword of the profile) records the opt-out for that medium and queues the one confirmation
the law allows.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.policy import Decision, Profile
from loanrecovery.comms.records import record_decision, record_request
from loanrecovery.comms.templates import render, sync_templates
from loanrecovery.service.db.models import CommMessage, CommStatusEvent

__all__ = ["sign", "verify", "StatusUpdate", "apply_status", "STATUSES", "keyword_of"]

#: Statuses a provider may report, in order of progress.
STATUSES = ("queued", "sent", "delivered", "failed", "bounced")
_RANK = {"queued": 0, "sending": 1, "held": 1, "sent": 2, "delivered": 3, "failed": 3, "bounced": 3}


def sign(secret: str, body: bytes) -> str:
    """The signature header value of a callback body: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is the body's HMAC under ``secret`` (constant time; an empty
    secret verifies nothing)."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(secret, body), signature.strip())


def keyword_of(profile: Profile, reply: str | None) -> str | None:
    """The opt-out keyword a reply is (whole reply, any case), or None."""
    if not reply:
        return None
    text = " ".join(reply.strip().upper().split())
    return text if text in profile.keywords else None


@dataclass(frozen=True)
class StatusUpdate:
    """One callback, validated by the API schema."""

    provider: str
    event_id: str
    message_key: str
    status: str | None
    reply: str | None


def apply_status(
    session: Session, profile: Profile, update: StatusUpdate, *, actor: str
) -> tuple[str, CommMessage | None]:
    """Apply a callback in the caller's transaction; returns (``applied`` | ``duplicate``,
    the message). The event is stored first under its unique key, so a repeat is dropped
    even when two arrive at once.

    Raises
    ------
    CommsInputError
        If the message key is unknown.
    """
    message = session.scalar(
        select(CommMessage).where(CommMessage.key == update.message_key).with_for_update()
    )
    if message is None:
        raise CommsInputError(f"message_key {update.message_key!r} is unknown")
    keyword = keyword_of(profile, update.reply)
    now = datetime.now(UTC)
    event = CommStatusEvent(provider=update.provider, event_id=update.event_id,
                            message_id=message.id, status=update.status or "reply",
                            keyword=keyword, received_at=now)  # fmt: skip
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        return "duplicate", message
    if update.status and _RANK[update.status] >= _RANK.get(message.status, 0):
        message.status = update.status
        message.updated_at = now
        if message.sent_at is None and update.status in ("sent", "delivered"):
            message.sent_at = now
    if keyword is not None:
        record_request(session, message.borrower_id, "opt_out", medium=message.medium,
                       source="reply", actor=actor, keyword=keyword, at=now)  # fmt: skip
        _confirm(session, profile, message, now)
    return "applied", message


def _confirm(session: Session, profile: Profile, message: CommMessage, now: datetime) -> None:
    """Queue the one confirmation of the opt-out (the worker re-checks it at send time)."""
    kind = profile.confirmation_kind
    key = f"{kind}:{message.borrower_id}:{message.medium}:{now:%Y%m%dT%H%M%S%f}"
    sync_templates(session)
    rendered = render(
        session,
        profile,
        name=kind,
        channel=message.channel,
        language=message.language,
        context={"loan_id": message.loan_id or ""},
    )
    decision = Decision(True, profile.keyword_rule, "confirmation of an opt-out reply")
    record_decision(session, profile, decision, key=key, borrower_id=message.borrower_id,
                    loan_id=message.loan_id, case_id=message.case_id, kind=kind,
                    channel=message.channel, rendered=rendered, at=now)  # fmt: skip
