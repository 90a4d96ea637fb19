"""Re-scoring one loan with the loaded bundle, and the alerts a new score raises.

The bundle (``loanrecovery.bundle``) holds every model and rule; this module only turns
database rows into a typed one-account book (the rows passed the data contract when they
were imported, so they are not checked again) for ``Bundle.apply_one``, and stores what it
returns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from loanrecovery.bundle.results import AccountResult
from loanrecovery.modeling.scoring import BAND_NAMES
from loanrecovery.service import audit
from loanrecovery.service.alerts import raise_alerts
from loanrecovery.service.db.models import (
    Case,
    CollectionAction,
    Loan,
    PanelMonth,
    PlanItem,
    Score,
)

__all__ = ["Scorer", "latest_score", "latest_scores", "loan_row", "panel_rows", "history_rows"]

logger = logging.getLogger(__name__)


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


def latest_scores(session: Session, loan_ids: Sequence[str]) -> dict[str, Score]:
    """The newest score of each of ``loan_ids`` that has one (one query)."""
    if not loan_ids:
        return {}
    newest = (
        select(func.max(Score.id))
        .where(Score.loan_id.in_(loan_ids))
        .group_by(Score.loan_id)
        .scalar_subquery()
    )
    return {s.loan_id: s for s in session.scalars(select(Score).where(Score.id.in_(newest)))}


def panel_rows(session: Session, loan_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The stored panel rows (:data:`~loanrecovery.contract.trusted.PANEL_ROW`) of each loan,
    by month (one query)."""
    out: dict[str, list[tuple[Any, ...]]] = {i: [] for i in loan_ids}
    if not loan_ids:
        return out
    rows = session.execute(
        select(
            PanelMonth.loan_id,
            PanelMonth.month,
            PanelMonth.amount_due,
            PanelMonth.amount_paid,
            PanelMonth.days_past_due,
            PanelMonth.outstanding_balance,
        )
        .where(PanelMonth.loan_id.in_(loan_ids))
        .order_by(PanelMonth.loan_id, PanelMonth.month)
    )
    for row in rows:
        out[row[0]].append(tuple(row))
    return out


def history_rows(session: Session, loan_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The stored collection actions (:data:`~loanrecovery.contract.trusted.HISTORY_ROW`) of
    each loan (one query)."""
    out: dict[str, list[tuple[Any, ...]]] = {i: [] for i in loan_ids}
    if not loan_ids:
        return out
    rows = session.execute(
        select(
            CollectionAction.loan_id,
            CollectionAction.month,
            CollectionAction.action,
            CollectionAction.cost,
            CollectionAction.recovered_amount,
        )
        .where(CollectionAction.loan_id.in_(loan_ids))
        .order_by(CollectionAction.id)
    )
    for row in rows:
        out[row[0]].append(tuple(row))
    return out


class Scorer:
    """Applies a fitted bundle to loans read from the database (thread-safe: the bundle is
    read-only).

    The stored rows passed the data contract when they were imported, so they are typed as
    :meth:`Book.from_trusted` types them rather than checked again, and go through the
    bundle's one-account path (``Bundle.apply_trusted_many``: the one-account answers, the
    risk model and the policy applied to a chunk's loans at once).

    Parameters
    ----------
    bundle : loanrecovery.bundle.Bundle
        A fitted bundle.
    """

    def __init__(self, bundle: Any) -> None:
        self.bundle = bundle

    def prepare(self) -> Scorer:
        """Build the bundle's one-account path now (server start-up), not in a request."""
        self.bundle.prepare()
        return self

    @property
    def bundle_id(self) -> str:
        """The bundle's id (sha256 of its content)."""
        return str(self.bundle.manifest["bundle_id"])

    @property
    def as_of(self) -> int | None:
        """The month the bundle was fitted as of."""
        value = self.bundle.manifest.get("data", {}).get("as_of")
        return None if value is None else int(value)

    def score(self, session: Session, loan: Loan, *, actor: str) -> dict[str, Any]:
        """Score ``loan``, store the score and its plan item, raise alerts when it entered the
        watchlist or a higher risk band; returns the stored score's values."""
        return self.score_many(session, [loan], actor=actor)[loan.loan_id]

    def score_many(
        self,
        session: Session,
        loans: Sequence[Loan],
        *,
        actor: str,
        panels: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Score each of ``loans`` once (reading their rows in a few queries; ``panels`` when
        the caller holds them already), store scores, plan items, alerts and audit rows in
        the caller's transaction with bulk inserts; returns the stored scores' values by
        loan id."""
        ids = [loan.loan_id for loan in loans]
        if panels is None:
            panels = panel_rows(session, ids)
        histories = history_rows(session, ids)
        previous = latest_scores(session, ids)
        answers = self.bundle.apply_trusted_many(
            [loan_row(loan) for loan in loans],
            [panels.get(loan_id, ()) for loan_id in ids],
            [histories[loan_id] for loan_id in ids],
        )
        results = dict(zip(ids, answers, strict=True))
        scores = self._store(session, loans, results)
        watch: list[tuple[str, str]] = []
        rising: list[tuple[str, str]] = []
        changes = []
        for loan_id in ids:
            before, score = previous.get(loan_id), scores[loan_id]
            was_watched = before is not None and before.on_watchlist
            if score["on_watchlist"] and not was_watched:
                watch.append(
                    (loan_id, f"entered the watchlist (PD 6 months {score['pd_6m'] or 0:.1%})")
                )
            if before is not None and _band_rank(score["risk_band"]) > _band_rank(before.risk_band):
                rising.append(
                    (loan_id, f"risk band rose from {before.risk_band} to {score['risk_band']}")
                )
            changes.append(
                {
                    "entity_id": loan_id,
                    "before": None if before is None else _summary(_values(before)),
                    "after": _summary(score),
                }
            )
        raise_alerts(session, "watchlist", watch)
        raise_alerts(session, "risk_band", rising)
        audit.record_many(session, actor=actor, action="loan.scored", entity="loan", rows=changes)
        return scores

    def _store(
        self, session: Session, loans: Sequence[Loan], results: Mapping[str, AccountResult]
    ) -> dict[str, dict[str, Any]]:
        now = datetime.now(UTC)
        ids = [loan.loan_id for loan in loans]
        scores: dict[str, dict[str, Any]] = {}
        items = []
        for loan in loans:
            result = results[loan.loan_id]
            gain = _float(result.expected_gain)
            scores[loan.loan_id] = {
                "loan_id": loan.loan_id,
                "bundle_id": self.bundle_id,
                "as_of": self.as_of,
                "scored_at": now,
                "status": str(result.status),
                "segment": str(result.segment),
                "pd_3m": _float(result.pd_3m),
                "pd_6m": _float(result.pd_6m),
                "pd_12m": _float(result.pd_12m),
                "risk_band": None if result.risk_band is None else str(result.risk_band),
                "reasons": [str(r) for r in result.reasons],
                "recommended_action": result.recommended_action,
                "action_why": result.action_why,
                "expected_gain": gain,
                "on_watchlist": bool(result.on_watchlist),
            }
            if result.recommended_action:
                risk = (_float(result.pd_12m) or 0.0) * float(loan.outstanding)
                items.append(
                    {
                        "loan_id": loan.loan_id,
                        "action": str(result.recommended_action),
                        "why": str(result.action_why or ""),
                        "expected_gain": gain,
                        "priority": gain if gain is not None else risk,
                        "bundle_id": self.bundle_id,
                        "created_at": now,
                        "current": True,
                    }
                )
        if scores:
            session.execute(insert(Score), list(scores.values()))
        session.execute(
            update(PlanItem)
            .where(PlanItem.loan_id.in_(ids), PlanItem.current)
            .values(current=False)
            .execution_options(synchronize_session=False)
        )
        if items:
            session.execute(insert(PlanItem), items)
        for case in session.scalars(select(Case).where(Case.loan_id.in_(ids), Case.is_open)):
            result = results[case.loan_id]
            case.action, case.segment = result.recommended_action or None, str(result.segment)
        session.flush()
        return scores


def _values(score: Score) -> dict[str, Any]:
    return {name: getattr(score, name) for name in _SUMMARY}


_SUMMARY = ("bundle_id", "status", "segment", "pd_6m", "risk_band", "recommended_action",
            "on_watchlist")  # fmt: skip


def _summary(score: Mapping[str, Any]) -> dict[str, Any]:
    return {name: score[name] for name in _SUMMARY}
