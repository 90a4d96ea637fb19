"""Re-scoring one loan with the loaded bundle, and the alerts a new score raises.

The bundle (``loanrecovery.bundle``) holds every model and rule; this module only turns
database rows into the layout ``Bundle.apply_account`` reads, and stores what it returns.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loanrecovery.modeling.scoring import BAND_NAMES
from loanrecovery.service import audit
from loanrecovery.service.alerts import raise_alert
from loanrecovery.service.db.models import (
    Case,
    CollectionAction,
    Loan,
    PanelMonth,
    PlanItem,
    Score,
)

__all__ = ["Scorer", "latest_score", "loan_row"]

logger = logging.getLogger(__name__)

_PANEL = ["Loan_ID", "Month", "Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance"]
_HISTORY = ["Loan_ID", "Month", "Action", "Cost", "Recovered_Amount"]


def _band_rank(band: str | None) -> int:
    """Place of a risk band in the core's order (A safest); -1 when unknown."""
    return BAND_NAMES.index(band) if band in BAND_NAMES else -1


def loan_row(loan: Loan) -> dict[str, Any]:
    """The loan as one row of the loans.csv layout, with its current balance and days past
    due."""
    row = dict(loan.data)
    row["Loan_ID"] = loan.loan_id
    row["Outstanding_Loan_Amount"] = loan.outstanding
    row["Days_Past_Due"] = int(loan.days_past_due)
    return row


def latest_score(session: Session, loan_id: str) -> Score | None:
    """The loan's newest score, or None."""
    return session.scalar(
        select(Score).where(Score.loan_id == loan_id).order_by(Score.id.desc()).limit(1)
    )


def _float(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


class Scorer:
    """Applies a fitted bundle to one loan at a time (thread-safe: the bundle is read-only).

    Parameters
    ----------
    bundle : loanrecovery.bundle.Bundle
        A fitted bundle.
    """

    def __init__(self, bundle: Any) -> None:
        self.bundle = bundle

    @property
    def bundle_id(self) -> str:
        """The bundle's id (sha256 of its content)."""
        return str(self.bundle.manifest["bundle_id"])

    @property
    def as_of(self) -> int | None:
        """The month the bundle was fitted as of."""
        value = self.bundle.manifest.get("data", {}).get("as_of")
        return None if value is None else int(value)

    def _inputs(self, session: Session, loan: Loan) -> tuple[pd.DataFrame, pd.DataFrame]:
        panel = session.execute(
            select(
                PanelMonth.loan_id,
                PanelMonth.month,
                PanelMonth.amount_due,
                PanelMonth.amount_paid,
                PanelMonth.days_past_due,
                PanelMonth.outstanding_balance,
            )
            .where(PanelMonth.loan_id == loan.loan_id)
            .order_by(PanelMonth.month)
        ).all()
        history = session.execute(
            select(
                CollectionAction.loan_id,
                CollectionAction.month,
                CollectionAction.action,
                CollectionAction.cost,
                CollectionAction.recovered_amount,
            ).where(CollectionAction.loan_id == loan.loan_id)
        ).all()
        return (
            pd.DataFrame([tuple(r) for r in panel], columns=_PANEL),
            pd.DataFrame([tuple(r) for r in history], columns=_HISTORY),
        )

    def score(self, session: Session, loan: Loan, *, actor: str) -> Score:
        """Score ``loan``, store the score and its plan item, raise alerts when it entered the
        watchlist or a higher risk band; returns the new score."""
        panel, history = self._inputs(session, loan)
        result = self.bundle.apply_account(
            loan_row(loan),
            payments=panel if len(panel) else None,
            collections=history if len(history) else None,
        )
        previous = latest_score(session, loan.loan_id)
        score = self._store(session, loan, result)
        self._alerts(session, loan, previous, score)
        audit.record(
            session, actor=actor, action="loan.scored", entity="loan", entity_id=loan.loan_id,
            before=None if previous is None else _summary(previous), after=_summary(score),
        )  # fmt: skip
        return score

    def _store(self, session: Session, loan: Loan, result: Any) -> Score:
        now = datetime.now(UTC)
        score = Score(
            loan_id=loan.loan_id,
            bundle_id=self.bundle_id,
            as_of=self.as_of,
            scored_at=now,
            status=str(result.status),
            segment=str(result.segment),
            pd_3m=_float(result.pd_3m),
            pd_6m=_float(result.pd_6m),
            pd_12m=_float(result.pd_12m),
            risk_band=None if result.risk_band is None else str(result.risk_band),
            reasons=[str(r) for r in result.reasons],
            recommended_action=result.recommended_action,
            action_why=result.action_why,
            expected_gain=_float(result.expected_gain),
            on_watchlist=bool(result.on_watchlist),
        )
        session.add(score)
        session.execute(
            update(PlanItem)
            .where(PlanItem.loan_id == loan.loan_id, PlanItem.current)
            .values(current=False)
        )
        if result.recommended_action:
            gain = _float(result.expected_gain)
            risk = (_float(result.pd_12m) or 0.0) * float(loan.outstanding)
            session.add(
                PlanItem(
                    loan_id=loan.loan_id,
                    action=str(result.recommended_action),
                    why=str(result.action_why or ""),
                    expected_gain=gain,
                    priority=gain if gain is not None else risk,
                    bundle_id=self.bundle_id,
                    created_at=now,
                    current=True,
                )
            )
        session.execute(
            update(Case)
            .where(Case.loan_id == loan.loan_id, Case.is_open)
            .values(action=result.recommended_action or None, segment=str(result.segment))
        )
        session.flush()
        return score

    @staticmethod
    def _alerts(session: Session, loan: Loan, previous: Score | None, score: Score) -> None:
        was_watched = previous is not None and previous.on_watchlist
        if score.on_watchlist and not was_watched:
            raise_alert(
                session, loan_id=loan.loan_id, kind="watchlist",
                message=f"entered the watchlist (PD 6 months {score.pd_6m or 0:.1%})",
            )  # fmt: skip
        if previous is not None and _band_rank(score.risk_band) > _band_rank(previous.risk_band):
            raise_alert(
                session, loan_id=loan.loan_id, kind="risk_band",
                message=f"risk band rose from {previous.risk_band} to {score.risk_band}",
            )  # fmt: skip


def _summary(score: Score) -> dict[str, Any]:
    return {
        "bundle_id": score.bundle_id,
        "status": score.status,
        "segment": score.segment,
        "pd_6m": score.pd_6m,
        "risk_band": score.risk_band,
        "recommended_action": score.recommended_action,
        "on_watchlist": score.on_watchlist,
    }
