"""A payment event as received, what became of it, and the refusal of a key reused for
another payment: the types the payment path (:mod:`~loanrecovery.service.intake`), the group
commit and the API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["PaymentIn", "PaymentOutcome", "ConflictingEvent"]


class ConflictingEvent(Exception):
    """An ``(source, event_id)`` already recorded for a different loan or amount."""

    def __init__(self, source: str, event_id: str, loan_id: str, amount: float) -> None:
        self.source, self.event_id, self.loan_id, self.amount = source, event_id, loan_id, amount
        super().__init__(
            f"event {event_id!r} from {source!r} was already recorded "
            f"for loan {loan_id} and amount {amount}"
        )


@dataclass(frozen=True)
class PaymentIn:
    """One payment event as received."""

    event_id: str
    loan_id: str
    amount: float
    paid_at: datetime
    source: str = "api"


@dataclass(frozen=True)
class PaymentOutcome:
    """What happened to an event: ``applied``, ``suspense`` or ``duplicate`` (with the
    original outcome in ``original``)."""

    status: str
    payment_id: int
    event_id: str
    source: str
    loan_id: str
    original: str | None = None
