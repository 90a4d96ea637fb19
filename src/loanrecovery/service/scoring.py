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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loanrecovery.bundle.results import AccountResult
from loanrecovery.contract.book import Book
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

    The stored rows passed the data contract when they were imported, so they are typed
    (:meth:`Book.from_trusted`) rather than checked again, and go through the bundle's
    one-account path (``Bundle.apply_one``).

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

    def result(
        self,
        loan: Loan,
        panel: Sequence[Sequence[Any]],
        history: Sequence[Sequence[Any]],
    ) -> AccountResult:
        """Every stage's answer for ``loan`` with its stored panel and history rows (empty
        tables count as absent, as ``apply_account`` reads them)."""
        book = Book.from_trusted(
            [loan_row(loan)],
            panel if len(panel) else None,
            history if len(history) else None,
            source=f"account {loan.loan_id}",
        )
        return self.bundle.apply_one(book)  # type: ignore[no-any-return]

    def score(self, session: Session, loan: Loan, *, actor: str) -> Score:
        """Score ``loan``, store the score and its plan item, raise alerts when it entered the
        watchlist or a higher risk band; returns the new score."""
        return self.score_many(session, [loan], actor=actor)[loan.loan_id]

    def score_many(
        self,
        session: Session,
        loans: Sequence[Loan],
        *,
        actor: str,
        panels: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    ) -> dict[str, Score]:
        """Score each of ``loans`` once (reading their rows in a few queries; ``panels`` when
        the caller holds them already), store scores, plan items, alerts and audit rows in
        the caller's transaction; returns the new scores by loan id."""
        ids = [loan.loan_id for loan in loans]
        if panels is None:
            panels = panel_rows(session, ids)
        histories = history_rows(session, ids)
        previous = latest_scores(session, ids)
        results = {
            loan.loan_id: self.result(loan, panels.get(loan.loan_id, ()), histories[loan.loan_id])
            for loan in loans
        }
        scores = self._store(session, loans, results)
        for loan in loans:
            before, score = previous.get(loan.loan_id), scores[loan.loan_id]
            self._alerts(session, loan, before, score)
            audit.record(
                session, actor=actor, action="loan.scored", entity="loan",
                entity_id=loan.loan_id, before=None if before is None else _summary(before),
                after=_summary(score),
            )  # fmt: skip
        return scores

    def _store(
        self, session: Session, loans: Sequence[Loan], results: Mapping[str, AccountResult]
    ) -> dict[str, Score]:
        now = datetime.now(UTC)
        ids = [loan.loan_id for loan in loans]
        scores: dict[str, Score] = {}
        for loan in loans:
            result = results[loan.loan_id]
            scores[loan.loan_id] = Score(
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
        session.add_all(scores.values())
        session.execute(
            update(PlanItem)
            .where(PlanItem.loan_id.in_(ids), PlanItem.current)
            .values(current=False)
            .execution_options(synchronize_session=False)
        )
        items = []
        for loan in loans:
            result = results[loan.loan_id]
            if not result.recommended_action:
                continue
            gain = _float(result.expected_gain)
            risk = (_float(result.pd_12m) or 0.0) * float(loan.outstanding)
            items.append(
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
        session.add_all(items)
        for case in session.scalars(select(Case).where(Case.loan_id.in_(ids), Case.is_open)):
            result = results[case.loan_id]
            case.action, case.segment = result.recommended_action or None, str(result.segment)
        session.flush()
        return scores

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
