"""Horizon classifiers: P(90+ DPD within the next ``h`` months) per loan-month.

One gradient-boosting classifier (LightGBM, log-loss, no class re-weighting so that the
probabilities stay on the scale of the observed default rates) per horizon, trained on
performing loan-months whose target is known.

The horizons are chained, so that a longer horizon never has a lower probability and no
probability is clipped. The first horizon's model gives ``P(default within h1)``; the model of
each later horizon ``h_k`` is fitted only on the loan-months that did not default within the
previous horizon ``h_(k-1)`` and gives the conditional ``Q_k = P(default in months
h_(k-1)+1 .. h_k | none within h_(k-1))``. Then::

    P(default within h_k) = P(default within h_(k-1)) + (1 - P(default within h_(k-1))) * Q_k

which is at least ``P(default within h_(k-1))`` because ``Q_k`` is a probability. A later
horizon whose labelled loan-months hold a single class (a panel too short to see it) is left
out, and its probability is not given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["HorizonClassifiers"]

logger = logging.getLogger(__name__)


class HorizonClassifiers(BaseEstimator):
    """Gradient-boosting classifiers of default within each horizon.

    Parameters
    ----------
    horizons : tuple of int, default=(3, 6)
        Horizons in months; targets are read from columns ``Y_<h>``.
    n_estimators : int, default=150
        Boosting rounds per horizon.
    learning_rate : float, default=0.08
        Shrinkage.
    num_leaves : int, default=31
        Leaves per tree.
    min_child_samples : int, default=200
        Minimum loan-months per leaf (keeps the trees from chasing single loans).
    max_train_rows : int or None, default=200_000
        Train on at most this many loan-months: every default-bound loan-month is kept and
        the others are sampled (seeded) and weighted up by the inverse of their sampling
        rate, so that the probabilities keep the scale of the data; ``None`` uses every row.
    random_state : int, default=42
        Seed.
    n_jobs : int, default=2
        LightGBM threads.

    Attributes
    ----------
    models_ : dict of int to LGBMClassifier
        One fitted classifier per horizon.
    feature_names_in_ : ndarray of str
        Feature columns seen at fit time.
    base_rates_ : dict of int to float
        Observed default rate of each horizon's training rows (for a chained horizon, the
        conditional rate among the loan-months that survived the previous horizon).
    """

    def __init__(
        self,
        horizons: tuple[int, ...] = (3, 6),
        n_estimators: int = 150,
        learning_rate: float = 0.08,
        num_leaves: int = 31,
        min_child_samples: int = 200,
        max_train_rows: int | None = 200_000,
        random_state: int = 42,
        n_jobs: int = 2,
    ) -> None:
        self.horizons = horizons
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_train_rows = max_train_rows
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: pd.DataFrame, targets: pd.DataFrame) -> HorizonClassifiers:
        """Fit one classifier per horizon on the rows whose target is known.

        Parameters
        ----------
        X : DataFrame
            Numeric feature columns.
        targets : DataFrame
            Columns ``Y_<h>`` (1, 0 or NaN = unknown, skipped), aligned with ``X``.

        Returns
        -------
        self
        """
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.models_: dict[int, lgb.LGBMClassifier] = {}
        self.base_rates_: dict[int, float] = {}
        values = X.to_numpy(dtype=np.float32)
        previous: int | None = None
        for h in sorted(self.horizons):
            y = targets[f"Y_{h}"].to_numpy(dtype=np.float64)
            if previous is not None:
                # Chained: only the loan-months seen surviving the previous horizon.
                y = np.where(targets[f"Y_{previous}"].to_numpy(dtype=np.float64) == 0, y, np.nan)
            rows, weight = self._training_rows(y)
            if previous is not None and len(np.unique(y[rows])) < 2:
                logger.warning(
                    "horizon %d left out: %d labelled loan-months beyond month %d hold a "
                    "single class",
                    h,
                    len(rows),
                    previous,
                )
                continue
            if len(np.unique(y[rows])) < 2:
                raise ValueError(
                    f"horizon {h}: the training loan-months hold a single class "
                    f"({len(rows)} rows); early warning needs defaults and non-defaults"
                )
            model = lgb.LGBMClassifier(
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                num_leaves=self.num_leaves,
                min_child_samples=self.min_child_samples,
                subsample=0.8,
                subsample_freq=1,
                colsample_bytree=0.8,
                reg_lambda=1.0,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
                deterministic=True,
                force_row_wise=True,
                max_bin=63,
                verbose=-1,
            )
            model.fit(values[rows], y[rows].astype(np.int32), sample_weight=weight)
            self.models_[h] = model
            self.base_rates_[h] = float(np.mean(y[rows]))
            logger.info("horizon %d: fitted on %d loan-months", h, len(rows))
            previous = h
        return self

    def _training_rows(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        known = np.flatnonzero(~np.isnan(y))
        cap = self.max_train_rows
        if cap is None or len(known) <= cap:
            return known, np.ones(len(known))
        pos = known[y[known] == 1]
        neg = known[y[known] == 0]
        rng = np.random.default_rng(self.random_state)
        n_keep = min(max(cap - len(pos), 1), len(neg))
        keep = rng.choice(neg, size=n_keep, replace=False)
        rows = np.sort(np.concatenate([pos, keep]))
        weight = np.where(y[rows] == 1, 1.0, len(neg) / n_keep)
        return rows, weight

    def _check_X(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "models_")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"Feature names seen at fit time, yet now missing: {missing}")
        return X[list(self.feature_names_in_)].to_numpy(dtype=np.float32)

    def predict_proba_horizons(self, X: pd.DataFrame) -> pd.DataFrame:
        """Probability of 90+ DPD within each horizon.

        Parameters
        ----------
        X : DataFrame
            Feature columns (at least those seen at fit time).

        Returns
        -------
        DataFrame
            Columns ``P_<h>`` of the fitted horizons, indexed like ``X``. A longer horizon is
            chained onto the shorter one (module docstring), so ``P_6 >= P_3`` without
            clipping, as it must be for nested events.
        """
        values = self._check_X(X)
        out = pd.DataFrame(index=X.index)
        previous: np.ndarray | None = None
        for h in sorted(self.models_):
            q = np.asarray(self.models_[h].predict_proba(values))[:, 1]
            p = q if previous is None else previous + (1.0 - previous) * q
            out[f"P_{h}"] = p
            previous = p
        return out

    def contributions(self, X: pd.DataFrame, horizon: int) -> pd.DataFrame:
        """Per-feature contributions (log-odds, TreeSHAP) to one horizon's prediction.

        Parameters
        ----------
        X : DataFrame
            Feature columns.
        horizon : int
            One of the fitted horizons (for a chained horizon, the contributions are those
            of its conditional model).

        Returns
        -------
        DataFrame
            One column per feature, indexed like ``X`` (the bias term is dropped).
        """
        values = self._check_X(X)
        contrib = self.models_[horizon].predict_proba(values, pred_contrib=True)
        names: Sequence[str] = list(self.feature_names_in_)
        return pd.DataFrame(np.asarray(contrib)[:, :-1], index=X.index, columns=list(names))
