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

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.bundle.results import AccountResult
from loanrecovery.modeling.scoring import BAND_NAMES
from loanrecovery.service import audit
from loanrecovery.service import chunk_sql as sql
from loanrecovery.service.alerts import raise_alerts
from loanrecovery.service.db.models import (
    Case,
    LoanFacts,
    Score,
)

__all__ = ["Scorer", "latest_score", "loan_row", "panel_rows", "history_rows"]

logger = logging.getLogger(__name__)


def _band_rank(band: str | None) -> int:
    """Place of a risk band in the core's order (A safest); -1 when unknown."""
    return BAND_NAMES.index(band) if band in BAND_NAMES else -1


def loan_row(loan: LoanFacts) -> dict[str, Any]:
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


def panel_rows(session: Session, loan_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The stored panel rows (:data:`~loanrecovery.contract.trusted.PANEL_ROW`) of each loan,
    by month (one query)."""
    out: dict[str, list[tuple[Any, ...]]] = {i: [] for i in loan_ids}
    if loan_ids:
        for row in sql.run(session, sql.PANEL, {"ids": list(loan_ids)}):
            out[row[0]].append(tuple(row))
    return out


def history_rows(session: Session, loan_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The stored collection actions (:data:`~loanrecovery.contract.trusted.HISTORY_ROW`) of
    each loan (one query)."""
    out: dict[str, list[tuple[Any, ...]]] = {i: [] for i in loan_ids}
    if loan_ids:
        for row in sql.run(session, sql.HISTORY, {"ids": list(loan_ids)}):
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

    def score(self, session: Session, loan: LoanFacts, *, actor: str) -> dict[str, Any]:
        """Score ``loan``, store the score and its plan item, raise alerts when it entered the
        watchlist or a higher risk band; returns the stored score's values."""
        return self.score_many(session, [loan], actor=actor)[loan.loan_id]

    def score_many(
        self,
        session: Session,
        loans: Sequence[LoanFacts],
        *,
        actor: str,
        panels: Mapping[str, Sequence[Sequence[Any]]] | None = None,
        cases: Mapping[str, Case] | None = None,
        audit_rows: list[dict[str, Any]] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Score each of ``loans`` once (reading their rows in a few queries; ``panels`` and
        their open ``cases`` when the caller holds them already), store scores, plan items,
        alerts and audit rows in the caller's transaction with bulk inserts; returns the
        stored scores' values by loan id.

        ``audit_rows``: a list the ``loan.scored`` audit rows are appended to (the caller
        inserts them with its own) instead of being inserted here."""
        ids = [loan.loan_id for loan in loans]
        if panels is None:
            panels = panel_rows(session, ids)
        # collection actions only where they can change the answer (delinquent accounts)
        stored = history_rows(
            session,
            [loan.loan_id for loan in loans if self.bundle.reads_history(loan.days_past_due)],
        )
        histories = {loan_id: stored.get(loan_id, []) for loan_id in ids}
        previous = {row.loan_id: row for row in sql.run(session, sql.LATEST_SCORES, {"ids": ids})}
        answers = self.bundle.apply_trusted_many(
            [loan_row(loan) for loan in loans],
            [panels.get(loan_id, ()) for loan_id in ids],
            [histories[loan_id] for loan_id in ids],
        )
        results = dict(zip(ids, answers, strict=True))
        scores = self._store(session, loans, results, cases)
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
        if audit_rows is None:
            audit.record_many(
                session, actor=actor, action="loan.scored", entity="loan", rows=changes
            )
        else:
            audit_rows.extend(
                audit.row_values(actor=actor, action="loan.scored", entity="loan", changes=changes)
            )
        return scores

    def _store(
        self,
        session: Session,
        loans: Sequence[LoanFacts],
        results: Mapping[str, AccountResult],
        cases: Mapping[str, Case] | None,
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
        sql.run(session, sql.INSERT_SCORES, list(scores.values()))
        sql.run(session, sql.RETIRE_PLAN, {"ids": ids})
        sql.run(session, sql.INSERT_PLAN, items)
        if cases is None:
            cases = {case.loan_id: case for case in session.scalars(sql.OPEN_CASES, {"ids": ids})}
        for case in cases.values():
            result = results[case.loan_id]
            case.action, case.segment = result.recommended_action or None, str(result.segment)
        return scores


def _values(score: Any) -> dict[str, Any]:
    return {name: getattr(score, name) for name in _SUMMARY}


_SUMMARY = ("bundle_id", "status", "segment", "pd_6m", "risk_band", "recommended_action",
            "on_watchlist")  # fmt: skip


def _summary(score: Mapping[str, Any]) -> dict[str, Any]:
    return {name: score[name] for name in _SUMMARY}
