"""The default probabilities of ONE account, without building data frames.

:class:`AccountWarning` gives the ``P3``, ``P6`` and ``P12`` (chained, as
:class:`~loanrecovery.early_warning.horizon.HorizonClassifiers` chains them) that
:meth:`~loanrecovery.early_warning.watchlist_model.WatchlistModel.apply` gives a one-loan
book (None when the account is not on the watchlist: no panel row, or already 90+ days past
due at or before its latest month), with the same features
(:func:`~loanrecovery.early_warning.features.build_features` of its rows, gaps filled the
same way) computed from numpy arrays, and each horizon model's trees summed by a
:class:`~loanrecovery.modeling.flat_trees.FlatForest` (LightGBM without a compiler). It
skips what one account's answer does not use (the reasons, the survival view, the panel
segment). Built once per bundle; it never changes, so threads can share it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.contract.payments import month_index
from loanrecovery.delinquency import DEFAULT_DPD
from loanrecovery.early_warning.features import (
    EMPLOYMENT_TYPES,
    LOAN_TYPES,
    _dpd_features,
    _payment_features,
    _ratio,
    _scheduled_balance,
)
from loanrecovery.early_warning.last_rows import MAX_WIDTH, latest_panel_features
from loanrecovery.early_warning.watchlist_model import FEATURES, HORIZONS, WatchlistModel
from loanrecovery.modeling.flat_trees import FlatForest

__all__ = ["AccountWarning", "static_row"]

_AMOUNTS = ("Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance")

_NUMERIC = (
    "Age",
    "Monthly_Income",
    "Num_Dependents",
    "Loan_Amount",
    "Loan_Tenure",
    "Interest_Rate",
)


def _number(value: Any) -> float:
    if value is None or value is pd.NA:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _code(loan: Mapping[str, Any], col: str, levels: tuple[str, ...]) -> float:
    if col not in loan:
        return -1.0
    value = loan[col]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return -1.0
    text = str(value).strip()
    return float(levels.index(text)) if text in levels else -1.0


def static_row(loan: Mapping[str, Any]) -> dict[str, float]:
    """:func:`~loanrecovery.early_warning.features.static_features` of one loan row."""
    out = {col: _number(loan.get(col)) for col in _NUMERIC}
    out["Employment_Code"] = _code(loan, "Employment_Type", EMPLOYMENT_TYPES)
    collateral = _number(loan.get("Collateral_Value"))
    out["Secured"] = math.nan if math.isnan(collateral) else float(collateral > 0)
    out["Monthly_EMI"] = _number(loan.get("Monthly_EMI"))
    out["Loan_Type_Code"] = _code(loan, "Loan_Type", LOAN_TYPES)
    out["EMI_To_Income"] = float(
        _ratio(np.array([out["Monthly_EMI"]]), np.array([out["Monthly_Income"]]), np.nan)[0]
    )
    origination = math.nan
    if "Origination_Month" in loan:
        value = loan["Origination_Month"]
        number = _number(value)
        if math.isfinite(number) and number == round(number):
            origination = number
        elif value is not None:
            origination = float(month_index(pd.Series([value], dtype=object)).iloc[0])
    out["Origination_Month"] = origination
    return out


def _filled(
    month: np.ndarray, due: np.ndarray, paid: np.ndarray, dpd: np.ndarray, balance: np.ndarray
) -> tuple[np.ndarray, ...]:
    """``_fill_gaps`` of one loan: a row per missing month (nothing due or paid, days past
    due and balance carried forward) and the mask of the real rows."""
    step = np.diff(month, prepend=month[:1] - 1)
    step[0] = 1
    if (step <= 1).all():
        return month, due, paid, dpd, balance, np.ones(len(month), dtype=bool)
    width = np.maximum(step, 1)
    position = np.cumsum(width) - 1
    total = int(width.sum())
    filled_month = np.repeat(month, width) - (
        np.repeat(np.cumsum(width), width) - 1 - np.arange(total)
    )
    real = np.zeros(total, dtype=bool)
    real[position] = True
    out = []
    for values, carry in ((due, False), (paid, False), (dpd, True), (balance, True)):
        column = np.full(total, np.nan)
        column[position] = values
        if carry:
            valid = np.where(~np.isnan(column), np.arange(total), 0)
            column = column[np.maximum.accumulate(valid)]
        else:
            column[~real] = 0.0
        out.append(column)
    return (filled_month, *out, real)


class AccountWarning:
    """``P3`` of one account from a fitted :class:`WatchlistModel`.

    Parameters
    ----------
    model : WatchlistModel
    """

    def __init__(self, model: WatchlistModel) -> None:
        self.model = model
        self._horizons = sorted(model.horizons.models_)
        self._classifiers = [model.horizons.models_[h] for h in self._horizons]
        self._columns = [list(FEATURES).index(c) for c in model.horizons.feature_names_in_]
        rng = np.random.default_rng(0)
        probe = rng.normal(0.0, 20.0, size=(8, len(self._columns))).astype(np.float32)
        self._forests = [
            FlatForest([classifier.booster_], probe.astype(np.float64))
            for classifier in self._classifiers
        ]

    def features(
        self, loan: Mapping[str, Any], panel: Mapping[str, np.ndarray]
    ) -> np.ndarray | None:
        """:data:`FEATURES` of the account's latest panel row; None when it is not performing."""
        order = np.argsort(panel["Month"], kind="stable")
        month = panel["Month"][order].astype(np.int64)
        dpd = panel["Days_Past_Due"][order].astype(np.float64)
        if (dpd >= DEFAULT_DPD).any():
            return None
        month, due, paid, dpd, balance, real = _filled(
            month,
            panel["Amount_Due"][order].astype(np.float64),
            panel["Amount_Paid"][order].astype(np.float64),
            dpd,
            panel["Outstanding_Balance"][order].astype(np.float64),
        )
        static = static_row(loan)
        start = np.zeros(len(month), dtype=np.int64)
        orig = static["Origination_Month"]
        mob = month - orig if math.isfinite(orig) else np.arange(len(month), dtype=np.float64)
        mob = np.asarray(mob, dtype=np.float64)
        out: dict[str, Any] = {
            "Months_On_Book": mob,
            "Months_Remaining": static["Loan_Tenure"] - mob,
        }
        out.update(_payment_features(due, paid, real, start))
        out.update(_dpd_features(dpd, start))
        amount = static["Loan_Amount"]
        emi = static["Monthly_EMI"]
        sched = _scheduled_balance(
            np.full(len(mob), amount),
            np.full(len(mob), static["Interest_Rate"]),
            np.full(len(mob), emi),
            mob,
        )
        out["Balance_Vs_Schedule"] = _ratio(balance, sched, 1.0)
        out["Balance_To_Amount"] = _ratio(balance, np.full(len(mob), amount), np.nan)
        out["Due_To_EMI"] = _ratio(due, np.full(len(mob), emi), np.nan)
        last = len(month) - 1
        row = [static[c] if c in static else float(np.asarray(out[c])[last]) for c in FEATURES]
        return np.asarray(row, dtype=np.float64)

    def probabilities(
        self, loan: Mapping[str, Any], panel: Mapping[str, np.ndarray] | None
    ) -> dict[int, float] | None:
        """The account's probability of 90+ days past due within each fitted horizon (3, 6
        and, when fitted, 12 months), chained and then rounded to 4 decimals as in the
        watchlist's ``P3``, ``P6`` and ``P12`` columns (None if not listed)."""
        if panel is None or not len(panel["Month"]):
            return None
        row = self.features(loan, panel)
        if row is None:
            return None
        x = row[self._columns].astype(np.float32).astype(np.float64)
        out: dict[int, float] = {}
        previous: float | None = None
        for h, classifier, forest in zip(
            self._horizons, self._classifiers, self._forests, strict=True
        ):
            if forest.native:
                raw = float(forest.sums(x)[0])
                q = 1.0 / (1.0 + math.exp(-raw))
            else:
                proba = classifier.predict_proba(x[None, :].astype(np.float32))
                q = float(np.asarray(proba)[0, 1])
            p = q if previous is None else previous + (1.0 - previous) * q
            out[h] = p
            previous = p
        return {h: float(np.round(p, 4)) for h, p in out.items()}

    def features_many(
        self,
        loans: Sequence[Mapping[str, Any]],
        panels: Sequence[Mapping[str, np.ndarray] | None],
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`features` of each account, computed for all at once (the latest month's
        panel features of every account from its panel laid beside the others':
        :func:`~loanrecovery.early_warning.last_rows.latest_panel_features`).

        Returns the positions of the accounts that have a row (a panel row and no month at
        90+ days past due), ascending, and their rows, equal to :meth:`features` bit for bit
        (tested). An account whose panel the contract would not have accepted (a value not
        finite, a month twice) or longer than :data:`~loanrecovery.early_warning.last_rows.
        MAX_WIDTH` months goes through :meth:`features` itself.
        """
        if len(loans) != len(panels):
            raise ValueError(f"one panel per loan: {len(loans)} loans, {len(panels)} panels")
        given = [(i, p) for i, p in enumerate(panels) if p is not None and len(p["Month"])]
        rows: dict[int, np.ndarray] = {}
        if given:
            counts = np.array([len(p["Month"]) for _, p in given])
            account = np.repeat(np.arange(len(given)), counts)
            raw_month = np.concatenate([p["Month"] for _, p in given])
            order = np.lexsort((raw_month, account))  # stable, as features' argsort
            month = raw_month[order].astype(np.int64)
            columns = {
                c: np.concatenate([p[c] for _, p in given])[order].astype(np.float64)
                for c in _AMOUNTS
            }
            starts = np.r_[0, np.cumsum(counts)[:-1]]
            step = np.diff(month, prepend=month[:1] - 1)
            step[starts] = 1
            values = np.column_stack([raw_month[order].astype(np.float64), *columns.values()])
            irregular = ~np.isfinite(values).all(axis=1) | (step <= 0)
            alone = np.logical_or.reduceat(irregular, starts)
            alone |= month[starts + counts - 1] - month[starts] >= MAX_WIDTH
            for k in np.flatnonzero(alone):
                row = self.features(loans[given[k][0]], given[k][1])
                if row is not None:
                    rows[given[k][0]] = row
            defaulted = np.logical_or.reduceat(columns["Days_Past_Due"] >= DEFAULT_DPD, starts)
            keep = np.flatnonzero(~alone & ~defaulted)
            if len(keep):
                statics = [static_row(loans[given[k][0]]) for k in keep]
                static = {c: np.array([s[c] for s in statics]) for c in statics[0]}
                kept = np.isin(account, keep)
                renumbered = np.searchsorted(keep, account[kept])
                panel = latest_panel_features(
                    renumbered, month[kept], {c: v[kept] for c, v in columns.items()}, static
                )
                x = np.column_stack([static[c] if c in static else panel[c] for c in FEATURES])
                rows.update(zip((given[k][0] for k in keep), x, strict=True))
        which = np.array(sorted(rows), dtype=np.int64)
        matrix = np.array([rows[i] for i in which], dtype=np.float64)
        return which, matrix.reshape(len(which), len(FEATURES))

    def probabilities_many(
        self,
        loans: Sequence[Mapping[str, Any]],
        panels: Sequence[Mapping[str, np.ndarray] | None],
    ) -> list[dict[int, float] | None]:
        """:meth:`probabilities` of each account, in order: the features of all
        (:meth:`features_many`) and each horizon's trees summed once over their rows,
        chained and rounded as :meth:`probabilities` does (the same answers: tested)."""
        out: list[dict[int, float] | None] = [None] * len(loans)
        which, rows = self.features_many(loans, panels)
        if not len(which):
            return out
        x = np.ascontiguousarray(rows[:, self._columns].astype(np.float32).astype(np.float64))
        chained: list[np.ndarray] = []
        for classifier, forest in zip(self._classifiers, self._forests, strict=True):
            if forest.native:
                raw = forest.sums_many(x)[:, 0].tolist()
                q = np.array([1.0 / (1.0 + math.exp(-r)) for r in raw])
            else:
                q = np.asarray(classifier.predict_proba(x.astype(np.float32)))[:, 1]
            chained.append(q if not chained else chained[-1] + (1.0 - chained[-1]) * q)
        rounded = np.round(np.column_stack(chained), 4).tolist()
        for i, values in zip(which.tolist(), rounded, strict=True):
            out[i] = dict(zip(self._horizons, values, strict=True))
        return out

    def p3(self, loan: Mapping[str, Any], panel: Mapping[str, np.ndarray] | None) -> float | None:
        """The account's 3-month probability of 90+ days past due, to 4 decimals as in the
        watchlist (None if not listed)."""
        found = self.probabilities(loan, panel)
        return None if found is None else found[min(HORIZONS)]
