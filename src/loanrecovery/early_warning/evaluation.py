"""Out-of-time evaluation: AUC, recall and precision at an alert budget, baselines, lead time.

The *alert budget* is the share of performing accounts a collections team can work in a
month. Each month the ``ceil(budget * n_performing)`` highest-scoring performing accounts
are flagged (ties broken by ``Loan_ID`` so that the same input gives the same flags).
Recall is the share of the month-rows that default within the horizon that were flagged;
precision the share of flagged month-rows that did.

Baselines
---------
``baseline_rule``
    Flag anyone who missed a payment in the last 3 months; when that is more than the budget,
    those with the most missed payments, then the highest days past due, come first.
``baseline_static``
    The foundation's snapshot model without history features: its RandomForest
    (:func:`loanrecovery.modeling.forest.baseline_forest`) on the static loan and borrower columns,
    trained on the same loan-months and target.
``baseline_snapshot`` (an extra, stronger baseline)
    The same forest on the canonical loan row as it stood that month: static columns plus
    that month's days past due, missed payments so far, payment and balance. It knows the
    loan's current state but no window or trend of its history.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from loanrecovery.early_warning.features import STATIC_FEATURES
from loanrecovery.features import CATEGORICAL_INPUTS, NUMERIC_INPUTS, LoanFeatures
from loanrecovery.modeling.forest import baseline_forest

__all__ = [
    "choose_cutoff",
    "flag_at_budget",
    "budget_metrics",
    "rule_score",
    "StaticBaseline",
    "SnapshotBaseline",
    "lead_time",
    "lead_months",
    "lead_time_by_warning",
]


def choose_cutoff(months: np.ndarray, *, test_months: int = 12, max_horizon: int = 6) -> int:
    """Last training month of the out-of-time split.

    The test window is the last ``test_months`` months (fewer on short panels, so that the
    training side keeps at least ``max_horizon + 3`` months of labelled history).

    Parameters
    ----------
    months : ndarray
        Months of the panel.
    test_months : int
        Wanted length of the test window.
    max_horizon : int
        Longest horizon; a test window shorter than it has no labelled rows.

    Returns
    -------
    int
        The cut-off month ``C``: models learn from months whose outcome is known by ``C``
        and are tested on months after ``C``.

    Raises
    ------
    ValueError
        If the panel is too short for an out-of-time split.
    """
    first, last = int(np.min(months)), int(np.max(months))
    span = last - first + 1
    need = 2 * max_horizon + 4
    if span < need:
        raise ValueError(
            f"the payment panel spans {span} months ({first}..{last}); an out-of-time test "
            f"of a {max_horizon}-month horizon needs at least {need} months"
        )
    window = min(test_months, span - (max_horizon + 3))
    window = max(window, max_horizon + 1)
    return last - window


def flag_at_budget(
    score: np.ndarray, month: np.ndarray, loan_id: np.ndarray, budget: float
) -> np.ndarray:
    """Flag the top ``ceil(budget * n)`` scores of each month (NaN scores never flagged).

    Parameters
    ----------
    score : ndarray
        Higher = riskier. NaN = not eligible.
    month : ndarray
        Month of each row.
    loan_id : ndarray
        Tie-breaker.
    budget : float
        Share of each month's rows that may be flagged, in (0, 1].

    Returns
    -------
    ndarray of bool
    """
    frame = pd.DataFrame({"s": score, "m": month, "id": loan_id})
    frame["s"] = frame["s"].fillna(-np.inf)
    order = frame.sort_values(["m", "s", "id"], ascending=[True, False, True], kind="stable")
    rank = order.groupby("m", sort=False).cumcount().to_numpy()
    size = order.groupby("m", sort=False)["s"].transform("size").to_numpy()
    cap = np.ceil(budget * size - 1e-9)
    flagged_sorted = (rank < cap) & np.isfinite(order["s"].to_numpy())
    flagged = np.zeros(len(frame), dtype=bool)
    flagged[order.index.to_numpy()] = flagged_sorted
    return flagged


def budget_metrics(
    score: np.ndarray, y: np.ndarray, month: np.ndarray, loan_id: np.ndarray, budget: float
) -> dict[str, float]:
    """AUC, recall and precision at the budget of one score on labelled rows.

    Parameters
    ----------
    score, y, month, loan_id : ndarray
        Aligned arrays; ``y`` is 0/1.
    budget : float
        Alert budget.

    Returns
    -------
    dict
        ``auc``, ``recall_at_budget``, ``precision_at_budget`` (NaN when undefined).
    """
    flagged = flag_at_budget(score, month, loan_id, budget)
    s = np.where(np.isnan(score), -1.0, score)
    pos = y == 1
    auc = float(roc_auc_score(y, s)) if 0 < pos.sum() < len(y) else math.nan
    recall = float(flagged[pos].mean()) if pos.any() else math.nan
    precision = float(y[flagged].mean()) if flagged.any() else math.nan
    return {"auc": auc, "recall_at_budget": recall, "precision_at_budget": precision}


def rule_score(features: pd.DataFrame) -> np.ndarray:
    """The rule baseline's score: NaN (never flagged) unless a payment was missed in 3 months.

    Parameters
    ----------
    features : DataFrame
        Needs ``Missed_3`` and ``DPD``.

    Returns
    -------
    ndarray
        ``Missed_3 + DPD / 10_000`` for flagged rows, NaN otherwise.
    """
    missed = features["Missed_3"].to_numpy(dtype=np.float64)
    dpd = features["DPD"].to_numpy(dtype=np.float64)
    return np.where(missed > 0, missed + np.minimum(dpd, 9_999) / 10_000, np.nan)


class _ForestBaseline:
    """The foundation's RandomForest (:func:`~loanrecovery.modeling.forest.baseline_forest`)
    on a sample.

    Parameters
    ----------
    max_train_rows : int, default=20_000
        Seeded sample of training loan-months (a forest of 150 trees on every loan-month of
        a large book would dominate the run time without changing its ranking much).
    random_state : int, default=42
        Seed of the forest and of the sample.
    """

    def __init__(self, max_train_rows: int = 20_000, random_state: int = 42) -> None:
        self.max_train_rows = max_train_rows
        self.random_state = random_state

    def _matrix(self, frame: pd.DataFrame, *, fit: bool) -> pd.DataFrame:
        raise NotImplementedError

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> _ForestBaseline:
        """Fit on rows with a known 0/1 target.

        Parameters
        ----------
        frame : DataFrame
            Input rows (see the subclass).
        y : ndarray
            0/1 targets.

        Returns
        -------
        self
        """
        rng = np.random.default_rng(self.random_state)
        rows = np.arange(len(frame))
        if len(rows) > self.max_train_rows:
            rows = np.sort(rng.choice(rows, size=self.max_train_rows, replace=False))
        X = self._matrix(frame.iloc[rows], fit=True)
        self.model_ = baseline_forest(self.random_state)
        self.model_.fit(X, np.asarray(y)[rows].astype(int))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Score of default (class-balanced, so a ranking rather than a probability)."""
        return np.asarray(self.model_.predict_proba(self._matrix(frame, fit=False))[:, 1])


class StaticBaseline(_ForestBaseline):
    """``baseline_static``: the foundation's forest on static loan and borrower columns only.

    Input rows are loan-month features; only
    :data:`~loanrecovery.early_warning.features.STATIC_FEATURES` are read.
    """

    def _matrix(self, frame: pd.DataFrame, *, fit: bool) -> pd.DataFrame:
        return frame[list(STATIC_FEATURES)].astype(float).fillna(-1.0)


class SnapshotBaseline(_ForestBaseline):
    """The foundation's snapshot model applied each month: static columns plus that month's state.

    :class:`loanrecovery.features.LoanFeatures` on the loan table as it stood that month
    (:func:`~loanrecovery.early_warning.snapshot.snapshot_rows`: days past due, missed
    payments so far, that month's payment, balance), without any window or trend.
    """

    def _matrix(self, frame: pd.DataFrame, *, fit: bool) -> pd.DataFrame:
        data = _with_contract_columns(frame)
        if fit:
            self.features_ = LoanFeatures().fit(data)
        return self.features_.transform(data)


def _with_contract_columns(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in (*NUMERIC_INPUTS, *CATEGORICAL_INPUTS) if c not in frame.columns]
    if not missing:
        return frame
    return frame.assign(**{c: np.nan for c in missing})


def _defaults_after(default_month: pd.Series, month: int) -> pd.Series:
    """The default months (first 90+ DPD) that fall after ``month``, per ``Loan_ID``."""
    defaults = default_month.dropna()
    return defaults[defaults > month]


def _out_of_time_alerts(flags: pd.DataFrame, defaults: pd.Series, cutoff: int) -> pd.DataFrame:
    """Flagged loan-months after ``cutoff`` of the loans in ``defaults``, with their default
    month ``D``: the alerts a lead time can be measured from."""
    hits = flags.loc[flags["Flagged"] & (flags["Month"] > cutoff), ["Loan_ID", "Month"]]
    return hits.assign(D=hits["Loan_ID"].map(defaults)).dropna(subset=["D"])


def lead_time(
    flags: pd.DataFrame, default_month: pd.Series, cutoff: int, leads: tuple[int, ...] = (3, 6)
) -> dict[str, dict[str, float]]:
    """Share of the test window's defaults flagged at least ``k`` months before default.

    A default of month ``D`` (first 90+ DPD) counts for lead ``k`` when ``D - k > cutoff``,
    so that a flag ``k`` months ahead falls inside the out-of-time window; it is *flagged*
    when the loan was on the alert list in some month ``t`` with ``cutoff < t <= D - k``.

    Parameters
    ----------
    flags : DataFrame
        ``Loan_ID``, ``Month``, ``Flagged`` for the scored out-of-time loan-months.
    default_month : Series
        First 90+ DPD month per ``Loan_ID`` (NaN if none).
    cutoff : int
        Last training month.
    leads : tuple of int
        Lead times in months.

    Returns
    -------
    dict
        ``{k: {"share": float, "n_defaults": int, "n_flagged": int}}``.
    """
    defaults = _defaults_after(default_month, cutoff)
    hits = _out_of_time_alerts(flags, defaults, cutoff)
    out: dict[str, dict[str, float]] = {}
    for k in leads:
        eligible = defaults[defaults - k > cutoff]
        early = hits.loc[hits["Month"] <= hits["D"] - k]
        n_flagged = int(early["Loan_ID"].isin(eligible.index).groupby(early["Loan_ID"]).any().sum())
        n = len(eligible)
        out[str(k)] = {
            "share": n_flagged / n if n else math.nan,
            "n_defaults": n,
            "n_flagged": n_flagged,
        }
    return out


def lead_months(flags: pd.DataFrame, default_month: pd.Series, cutoff: int) -> pd.Series:
    """Months between the first out-of-time flag and the default, per test-window default.

    Parameters
    ----------
    flags : DataFrame
        ``Loan_ID``, ``Month``, ``Flagged`` for the scored out-of-time loan-months.
    default_month : Series
        First 90+ DPD month per ``Loan_ID`` (NaN if none); only defaults after ``cutoff``
        are measured.
    cutoff : int
        Last training month.

    Returns
    -------
    Series
        Indexed by the ``Loan_ID`` of each default after ``cutoff``; NaN when the loan was
        never flagged before its default month.
    """
    defaults = _defaults_after(default_month, cutoff)
    hits = _out_of_time_alerts(flags, defaults, cutoff)
    hits = hits.loc[hits["Month"] < hits["D"]]
    first = hits.groupby("Loan_ID")["Month"].min()
    return (defaults - first.reindex(defaults.index)).rename("Lead_Months")


def lead_time_by_warning(
    flags: pd.DataFrame,
    default_month: pd.Series,
    cutoff: int,
    features: pd.DataFrame,
    *,
    lead: int = 3,
) -> dict[str, dict[str, float]]:
    """Lead-time share split into *sudden* and *gradual* defaults.

    A default of month ``D`` is *sudden* when, ``lead`` months before it, the loan was current
    (0 days past due) with no missed or partial payment in the 6 months before: nothing in its
    history could warn (a job loss, for example). The others are *gradual*.

    Parameters
    ----------
    flags : DataFrame
        ``Loan_ID``, ``Month``, ``Flagged`` for the scored out-of-time loan-months.
    default_month : Series
        First 90+ DPD month per ``Loan_ID`` (NaN if none); only defaults after
        ``cutoff + lead`` count.
    cutoff : int
        Last training month.
    features : DataFrame
        Loan-month features (``Loan_ID``, ``Month``, ``DPD``, ``Missed_6``, ``Partial_6``).
    lead : int
        Lead time in months.

    Returns
    -------
    dict
        ``{"sudden": {...}, "gradual": {...}}`` each with ``n_defaults``, ``n_flagged`` and
        ``share`` (flagged at least ``lead`` months ahead).
    """
    defaults = _defaults_after(default_month, cutoff + lead)
    probe = pd.DataFrame({"Loan_ID": defaults.index, "Month": (defaults - lead).to_numpy()})
    state = probe.merge(
        features[["Loan_ID", "Month", "DPD", "Missed_6", "Partial_6"]],
        on=["Loan_ID", "Month"],
        how="left",
    ).set_index("Loan_ID")
    sudden = (state["DPD"] == 0) & (state["Missed_6"] == 0) & (state["Partial_6"] == 0)
    out: dict[str, dict[str, float]] = {}
    for name, ids in (("sudden", sudden[sudden].index), ("gradual", sudden[~sudden].index)):
        part = lead_time(flags, defaults.loc[ids], cutoff, (lead,))[str(lead)]
        out[name] = part
    return out
