"""Reason codes in plain words from per-feature contributions to the log-odds score.

A loan's reasons are the features with the largest contributions to its score, risk-raising
first, each written by the reason catalogue (:mod:`loanrecovery.modeling.reason_text`):
``"95 days past due"``, ``"instalment takes 48% of monthly income"``, ``"salaried borrower
(lowers risk)"``. The one-hot columns of a categorical count as one reason (their
contributions are summed), and a reason that would contradict its value ("not past due"
raising risk) is never shown: the next one takes its place. Contributions add up, with the
model's expected value, to the loan's log-odds score (see
:mod:`loanrecovery.modeling.candidates`), so the reasons are the model's own account of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.delinquency import DEFAULT_DPD
from loanrecovery.modeling.reason_text import (
    LOWERS_SUFFIX,
    ReasonGroup,
    Values,
    readable_name,
    reason_groups,
)

__all__ = ["readable_name", "reason_codes", "rank_reason_groups", "IN_DEFAULT_REASON"]

#: The reason given to a loan already in default instead of the model's reasons.
IN_DEFAULT_REASON = f"Already {DEFAULT_DPD}+ days past due (in default)"


def _values_index(X: pd.DataFrame, group: ReasonGroup) -> tuple[list[Values], np.ndarray]:
    """The distinct value combinations of a group's columns and each row's index into them."""
    cols = list(group.columns)
    if len(cols) == 1:
        codes, distinct = pd.factorize(X.iloc[:, cols[0]], use_na_sentinel=False)
        return [(u,) for u in np.asarray(distinct, dtype=object)], np.asarray(codes)
    matrix = X.iloc[:, cols].to_numpy(dtype=float)
    uniques, index = np.unique(matrix, axis=0, return_inverse=True)
    return [tuple(row) for row in uniques], np.asarray(index).ravel()


def rank_reason_groups(grouped: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` reason groups of each row, in the order reasons are shown: raising reasons
    first (largest first), then lowering ones (largest move first).

    Parameters
    ----------
    grouped : ndarray of shape (n_rows, n_groups)
        Each group's contribution to each row's score (0 where the reason is not allowed).
    k : int
        Reasons per row, ``1 <= k <= n_groups``.

    Returns
    -------
    ndarray of shape (n_rows, k)
        Group indexes.
    """
    lift = float(np.abs(grouped).max(initial=0.0)) + 1.0
    key = np.where(grouped > 0, grouped + lift, np.where(grouped < 0, -grouped, -1.0))
    if k < grouped.shape[1]:
        top = np.argpartition(-key, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(-key, top, axis=1).argsort(axis=1, kind="stable")
        return np.asarray(np.take_along_axis(top, order, axis=1))
    return np.argsort(-key, axis=1, kind="stable")


def reason_codes(
    contributions: np.ndarray,
    X: pd.DataFrame,
    n_reasons: int = 4,
    reference: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The ``n_reasons`` largest contributions of each row, in words.

    Parameters
    ----------
    contributions : ndarray of shape (n_rows, n_features)
        Per-feature moves of the log-odds score, columns in the order of ``X``.
    X : DataFrame
        The features (for the values quoted in the reasons).
    n_reasons : int, default=4
    reference : dict, optional
        :func:`loanrecovery.modeling.reason_text.fit_reference` of the training data: where
        a value sits in the training population, and the direction of each column.

    Returns
    -------
    DataFrame
        Columns ``reason_1`` ... ``reason_n``: most risk-raising first; reasons that lower
        risk (ending in ``" (lowers risk)"``) follow when fewer than ``n_reasons`` raise it;
        empty when nothing else had an effect.
    """
    n_rows = len(X)
    groups = [g for g in reason_groups(X, reference) if g.columns]
    grouped = np.zeros((n_rows, len(groups)))
    texts: list[np.ndarray] = []
    indexes: list[np.ndarray] = []
    for g, group in enumerate(groups):
        grouped[:, g] = contributions[:, list(group.columns)].sum(axis=1)
        values, index = _values_index(X, group)
        up = np.fromiter((group.allows(v, True) for v in values), bool, len(values))
        down = np.fromiter((group.allows(v, False) for v in values), bool, len(values))
        texts.append(np.array([group.describe(v) for v in values], dtype=object))
        indexes.append(index)
        allowed = np.where(grouped[:, g] > 0, up[index], down[index])
        grouped[~allowed, g] = 0.0
    k = int(min(n_reasons, len(groups)))
    out: dict[str, np.ndarray] = {}
    if k > 0:
        top = rank_reason_groups(grouped, k)
        rows = np.arange(n_rows)
        for rank in range(k):
            column = np.full(n_rows, "", dtype=object)
            chosen = top[:, rank]
            effect = grouped[rows, chosen]
            for g in np.unique(chosen):
                hit = np.flatnonzero((chosen == g) & (effect != 0))
                if hit.size == 0:
                    continue
                text = texts[g][indexes[g][hit]]
                column[hit] = np.where(effect[hit] > 0, text, text + LOWERS_SUFFIX)
            out[f"reason_{rank + 1}"] = column
    for rank in range(k, n_reasons):
        out[f"reason_{rank + 1}"] = np.full(n_rows, "", dtype=object)
    return pd.DataFrame(out, index=X.index)
