"""Candidate default-risk models, each giving an additive log-odds score.

* :class:`GBMScorer` - LightGBM with early stopping on an inner validation split, refit on
  all rows with the number of trees found; contributions by path attribution (below).
* :class:`ScorecardModel` - a logistic scorecard on optimal bins (optbinning): every feature
  is binned, each bin gets its weight of evidence (WoE) and a logistic regression weighs them.
* :class:`BaselineForest` - the original write-up's random forest (no log-odds contributions).

``decision_function`` returns the log-odds score. ``contributions`` returns, per row and
feature, how much that feature moved the score away from ``expected_value_``; the row's
contributions plus ``expected_value_`` equal its score exactly:

* GBM: for every tree, the path of the row from the root to its leaf; each split moves the
  tree's output from the parent node's value to the child's, and the move is credited to the
  split's feature (Saabas path attribution). Over all trees the moves add up to
  ``score - sum(root values)``.
* Scorecard: ``coef_j * (WoE_j(x_j) - mean training WoE_j)``.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from loanrecovery.modeling.encoding import FrameEncoder, fitted_frame, validate_xy
from loanrecovery.modeling.forest import baseline_forest

__all__ = ["GBMScorer", "ScorecardModel", "BaselineForest", "check_binary_target"]

logger = logging.getLogger(__name__)


def check_binary_target(y: object, estimator: BaseEstimator) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary target; return ``(classes, y as 0/1)``."""
    y_array = np.asarray(y)
    kind = type_of_target(y_array, raise_unknown=True)
    if kind not in {"binary"}:
        if kind.startswith("continuous"):
            raise ValueError(f"Unknown label type: {kind}; {type(estimator).__name__} needs 0/1")
        raise ValueError(
            f"Only binary classification is supported; the target type is {kind!r} "
            f"(classes {np.unique(y_array)[:10].tolist()})"
        )
    classes, y01 = np.unique(y_array, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of 2 classes, but the data contains only "
            f"one class: {classes.tolist()}"
        )
    return classes, y01.astype(np.int64)


def _positive_share(value: np.ndarray) -> np.ndarray:
    """Share of the positive class in tree node values (``(nodes, 1, 2)`` or ``(1, 2)``)."""
    value = np.asarray(value, dtype=float)
    total = value.sum(axis=-1)
    share = np.divide(value[..., 1], total, out=np.zeros_like(total), where=total > 0)
    return share.reshape(-1) if share.ndim > 1 else share


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


class BinaryNanTags:
    """scikit-learn tags of our binary classifiers: missing values allowed, two classes only."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.allow_nan = True
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = False
        return tags


class _EncodedInput:
    """Fit-time input handling shared by the models that see the frame as one matrix."""

    def _fit_encoder(self, X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X`` and ``y``, learn the classes and the frame encoder; return the
        encoded matrix and the 0/1 target."""
        frame, y = validate_xy(X, y)
        self.classes_, y01 = check_binary_target(y, self)  # type: ignore[arg-type]
        self.encoder_ = FrameEncoder().fit(frame)
        self.feature_names_in_ = self.encoder_.feature_names_in_
        self.n_features_in_ = len(self.feature_names_in_)
        return self.encoder_.transform(frame), y01


class _ScoreClassifier(BinaryNanTags, ClassifierMixin, BaseEstimator):
    """Shared predict / predict_proba for models whose ``decision_function`` is log-odds."""

    def predict_proba(self, X: object) -> np.ndarray:
        """Probability of each class (columns in the order of ``classes_``)."""
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: object) -> np.ndarray:
        """Class with log-odds above 0."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]


class GBMScorer(_EncodedInput, _ScoreClassifier):
    """LightGBM gradient boosting with early stopping on an inner validation split.

    Parameters
    ----------
    learning_rate : float, optional
        Default 0.02 below ``small_data_rows`` rows and 0.05 above: on Give Me Some Credit
        0.05 cost 0.0002 of out-of-fold AUC (0.8661 against 0.8663) for about 2.5 times
        fewer trees, hence faster training, scoring and reason codes.
    num_leaves : int, default=16
    min_child_samples : int, default=100
        Never above 5 % of the rows; on small tables (below ``small_data_rows``) at most 1 %
        of the rows (at least 5).
    feature_fraction, bagging_fraction : float, default=0.75, 0.8
    reg_lambda : float, default=10.0
    max_rounds : int, default=3000
    early_stopping : int, default=150
        Rounds without improvement of the inner validation log loss before stopping.
    validation_fraction : float, default=0.15
    refit : bool, default=True
        Refit on all rows with the number of trees found (times ``refit_factor``).
    refit_factor : float, default=1.1
    monotone : bool, default=False
        Constrain each numeric feature's effect to one direction (its sign of correlation).
    small_data_rows : int, default=10000
        Below this many rows, trees use randomised thresholds (extra trees) and L2 = 1, which
        measurably reduces overfitting on tables of about a thousand loans.
    n_jobs : int, default=2
    random_state : int, default=42

    Attributes
    ----------
    encoder_ : FrameEncoder
    booster_ : lightgbm.Booster
    n_trees_ : int
    expected_value_ : float
        Sum of the trees' root values: the score a row gets before any split.
    """

    def __init__(
        self,
        learning_rate: float | None = None,
        num_leaves: int = 16,
        min_child_samples: int = 100,
        feature_fraction: float = 0.75,
        bagging_fraction: float = 0.8,
        reg_lambda: float = 10.0,
        max_rounds: int = 3000,
        early_stopping: int = 150,
        validation_fraction: float = 0.15,
        refit: bool = True,
        refit_factor: float = 1.1,
        monotone: bool = False,
        small_data_rows: int = 10_000,
        n_jobs: int = 2,
        random_state: int = 42,
    ) -> None:
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.reg_lambda = reg_lambda
        self.max_rounds = max_rounds
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.refit_factor = refit_factor
        self.monotone = monotone
        self.small_data_rows = small_data_rows
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _params(self, n_rows: int, n_features: int) -> dict[str, Any]:
        small = n_rows < self.small_data_rows
        if small:
            # Small tables: smaller leaves allowed, randomised thresholds and light L2.
            min_child = int(max(5, min(self.min_child_samples, n_rows / 100)))
        else:
            min_child = int(max(5, min(self.min_child_samples, 0.05 * n_rows)))
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate or (0.02 if small else 0.05),
            "num_leaves": self.num_leaves,
            "min_child_samples": min_child,
            "min_data_per_group": min(100, min_child),
            "cat_smooth": 10.0,
            "feature_fraction": self.feature_fraction if n_features > 1 else 1.0,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": 1.0 if small else self.reg_lambda,
            "extra_trees": small,
            "num_threads": self.n_jobs,
            "verbose": -1,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "min_data_in_bin": 3,
        }

    def _monotone(self, matrix: np.ndarray, y: np.ndarray, categorical: list[int]) -> list[int]:
        signs = []
        for j in range(matrix.shape[1]):
            column = matrix[:, j]
            ok = np.isfinite(column)
            if j in categorical or ok.sum() < 3 or np.nanstd(column) == 0:
                signs.append(0)
                continue
            corr = pd.Series(column[ok]).corr(pd.Series(y[ok].astype(float)), method="spearman")
            signs.append(int(np.sign(corr)) if np.isfinite(corr) else 0)
        return signs

    def fit(self, X: object, y: object) -> GBMScorer:
        """Fit on a feature frame (numeric and ``category`` columns) and a binary target."""
        matrix, y01 = self._fit_encoder(X, y)
        params = self._params(len(y01), matrix.shape[1])
        if self.monotone:
            params["monotone_constraints"] = self._monotone(
                matrix, y01, self.encoder_.categorical_indices_
            )
            params["monotone_constraints_method"] = "advanced"
        categorical: list[int] = list(self.encoder_.categorical_indices_)
        n_minor = int(min(np.bincount(y01, minlength=2)))
        can_stop = n_minor >= 10 and len(y01) >= 50
        if can_stop:
            fit_idx, val_idx = train_test_split(
                np.arange(len(y01)),
                test_size=self.validation_fraction,
                stratify=y01,
                random_state=self.random_state,
            )
            train_set = lgb.Dataset(
                matrix[fit_idx], y01[fit_idx], categorical_feature=categorical, free_raw_data=True
            )
            valid_set = lgb.Dataset(
                matrix[val_idx], y01[val_idx], categorical_feature=categorical, reference=train_set
            )
            booster = lgb.train(
                params,
                train_set,
                self.max_rounds,
                valid_sets=[valid_set],
                callbacks=[lgb.early_stopping(self.early_stopping, verbose=False)],
            )
            best = max(1, booster.best_iteration or booster.current_iteration())
        else:
            booster, best = None, max(1, min(self.max_rounds, 100))
        if booster is None or self.refit:
            rounds = int(np.ceil(best * (self.refit_factor if can_stop else 1.0)))
            full = lgb.Dataset(matrix, y01, categorical_feature=categorical)
            booster = lgb.train(params, full, rounds)
        else:
            booster = booster.model_from_string(booster.model_to_string(num_iteration=best))
        self.booster_ = booster
        self.n_trees_ = booster.num_trees()
        self._build_paths()
        logger.info("GBM: %d trees (early stopping at %d)", self.n_trees_, best)
        return self

    # -- serialisation: the booster is kept as its text model -------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "booster_" in state:
            state["booster_"] = state["booster_"].model_to_string()
        state.pop("_leaf_table", None)
        state.pop("_leaf_offsets", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("booster_"), str):
            state = dict(state)
            state["booster_"] = lgb.Booster(model_str=state["booster_"])
        self.__dict__.update(state)
        if "booster_" in state:
            # Rebuilt here, at load time, so that scoring never changes a loaded model.
            self._build_paths()

    def path_table(self) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Per leaf, the score moves credited to each feature along its path, and the
        offset of each tree's first leaf (what :meth:`score_and_contributions` sums)."""
        check_is_fitted(self, "booster_")
        return self._leaf_table, self._leaf_offsets

    def encode(self, X: object) -> np.ndarray:
        """The float matrix the booster scores (categoricals encoded as at fit time)."""
        return self._matrix(X)

    # -- scoring -------------------------------------------------------------------------------
    def _matrix(self, X: object) -> np.ndarray:
        check_is_fitted(self, "booster_")
        frame = fitted_frame(self, X)
        return self.encoder_.transform(frame)

    def decision_function(self, X: object) -> np.ndarray:
        """Log-odds score of each row."""
        matrix = self._matrix(X)
        return np.asarray(self.booster_.predict(matrix, raw_score=True), dtype=float)

    def _build_paths(self) -> None:
        """Per leaf, the score moves credited to each feature along its path (sparse)."""
        dump = self.booster_.dump_model()
        n_features = self.n_features_in_
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        offsets = []
        base = 0.0
        offset = 0
        for tree in dump["tree_info"]:
            offsets.append(offset)
            root = tree["tree_structure"]
            if "leaf_value" in root:
                base += float(root["leaf_value"])
                offset += 1
                continue
            base += float(root["internal_value"])
            stack: list[tuple[dict[str, Any], float, dict[int, float]]] = [
                (root, float(root["internal_value"]), {})
            ]
            while stack:
                node, value, credit = stack.pop()
                for side in ("left_child", "right_child"):
                    child = node[side]
                    child_value = float(child.get("leaf_value", child.get("internal_value", 0.0)))
                    moved = dict(credit)
                    feature = int(node["split_feature"])
                    moved[feature] = moved.get(feature, 0.0) + child_value - value
                    if "leaf_index" in child:
                        for f, v in moved.items():
                            rows.append(offset + int(child["leaf_index"]))
                            cols.append(f)
                            vals.append(v)
                    else:
                        stack.append((child, child_value, moved))
            offset += int(tree["num_leaves"])
        self._leaf_table = sparse.csr_matrix(
            (np.asarray(vals), (np.asarray(rows), np.asarray(cols))), shape=(offset, n_features)
        )
        self._leaf_offsets = np.asarray(offsets, dtype=np.int64)
        self.expected_value_ = base

    def contributions(self, X: object, *, chunk_rows: int = 50_000) -> np.ndarray:
        """Per row and feature, the move of the log-odds score credited to the feature.

        Each row's contributions plus ``expected_value_`` equal ``decision_function``.
        """
        return self.score_and_contributions(X, chunk_rows=chunk_rows)[1]

    def score_and_contributions(
        self, X: object, *, chunk_rows: int = 50_000
    ) -> tuple[np.ndarray, np.ndarray]:
        """Log-odds score and contributions from a single pass through the trees."""
        matrix = self._matrix(X)
        contributions = np.empty((len(matrix), self.n_features_in_), dtype=float)
        n_trees = len(self._leaf_offsets)
        for start in range(0, len(matrix), chunk_rows):
            part = matrix[start : start + chunk_rows]
            leaves = np.asarray(self.booster_.predict(part, pred_leaf=True), dtype=np.int64)
            leaves = leaves.reshape(len(part), n_trees) + self._leaf_offsets
            indicator = sparse.csr_matrix(
                (
                    np.ones(leaves.size, dtype=float),
                    leaves.ravel(),
                    np.arange(0, leaves.size + 1, n_trees),
                ),
                shape=(len(part), self._leaf_table.shape[0]),
            )
            contributions[start : start + len(part)] = (indicator @ self._leaf_table).toarray()
        score = contributions.sum(axis=1) + self.expected_value_
        return score, contributions

    @property
    def feature_importances_(self) -> np.ndarray:
        """Total gain of each feature, normalised to sum to 1."""
        check_is_fitted(self, "booster_")
        gain = np.asarray(self.booster_.feature_importance("gain"), dtype=float)
        return gain / gain.sum() if gain.sum() > 0 else gain


class ScorecardModel(_ScoreClassifier):
    """Logistic scorecard on optimal bins (optbinning), with WoE kept as plain tables.

    Parameters
    ----------
    max_n_bins : int, default=10
    C : float, default=1.0
        Inverse L2 strength of the logistic regression.
    random_state : int, default=42

    Attributes
    ----------
    bins_ : dict
        Column -> ``("numeric", splits, woe_per_bin, woe_missing)`` or
        ``("categorical", {category: woe}, woe_other)``.
    coef_ : ndarray
    intercept_ : float
    expected_value_ : float
    """

    def __init__(self, max_n_bins: int = 10, C: float = 1.0, random_state: int = 42) -> None:
        self.max_n_bins = max_n_bins
        self.C = C
        self.random_state = random_state

    def _fit_bins(self, name: str, values: pd.Series, y: np.ndarray) -> tuple[Any, ...]:
        # Imported here on purpose (not a cycle): optbinning loads OR-Tools, about 2 s of
        # import time, and only fitting a scorecard needs it; scoring with a saved model
        # and every command that fits no scorecard never pay for it.
        from optbinning import OptimalBinning

        is_cat = isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object
        if is_cat:
            text = values.astype(str).where(values.notna(), "<missing>").to_numpy()
            optb = OptimalBinning(
                name=name, dtype="categorical", max_n_bins=self.max_n_bins, cat_cutoff=0.02
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                optb.fit(text, y)
                woe = -optb.transform(text, metric="woe")
            table = pd.Series(woe).groupby(text).mean().to_dict()
            return ("categorical", {str(k): float(v) for k, v in table.items()}, 0.0)
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        optb = OptimalBinning(name=name, dtype="numerical", max_n_bins=self.max_n_bins)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optb.fit(numbers, y)
        splits = np.asarray(optb.splits, dtype=float)
        probe = np.concatenate([[-np.inf], splits]) if splits.size else np.array([0.0])
        # WoE of each bin: optbinning's sign is log(good/bad); ours is log-odds of "bad".
        per_bin = -np.asarray(optb.transform(probe, metric="woe"), dtype=float)
        woe_missing = float(-optb.transform(np.array([np.nan]), metric="woe")[0])
        return ("numeric", splits, per_bin, woe_missing)

    def _woe(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(frame), len(self.feature_names_in_)))
        for j, name in enumerate(self.feature_names_in_):
            spec = self.bins_[name]
            values = frame[name]
            if spec[0] == "numeric":
                _, splits, per_bin, woe_missing = spec
                numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
                index = np.searchsorted(splits, numbers, side="right")
                col = per_bin[np.minimum(index, len(per_bin) - 1)]
                out[:, j] = np.where(np.isnan(numbers), woe_missing, col)
            else:
                _, table, other = spec
                text = values.astype(str).where(values.notna(), "<missing>")
                out[:, j] = text.map(table).astype(float).fillna(other).to_numpy()
        return out

    def fit(self, X: object, y: object) -> ScorecardModel:
        """Bin every feature, then fit the logistic regression on the WoE values."""
        frame, y = validate_xy(X, y)
        frame.columns = [str(c) for c in frame.columns]
        self.classes_, y01 = check_binary_target(y, self)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.bins_ = {name: self._fit_bins(name, frame[name], y01) for name in frame.columns}
        woe = self._woe(frame)
        self.woe_mean_ = woe.mean(axis=0)
        model = LogisticRegression(C=self.C, max_iter=1000)
        model.fit(woe, y01)
        self.coef_ = model.coef_.ravel().copy()
        self.intercept_ = float(model.intercept_[0])
        self.expected_value_ = float(self.intercept_ + self.coef_ @ self.woe_mean_)
        return self

    def _frame(self, X: object) -> pd.DataFrame:
        return fitted_frame(self, X, fitted="coef_", str_columns=True)

    def contributions(self, X: object) -> np.ndarray:
        """``coef_j * (WoE_j - mean WoE_j)`` per row and feature."""
        return self.score_and_contributions(X)[1]

    def score_and_contributions(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """Log-odds score and contributions."""
        woe = self._woe(self._frame(X))
        contributions = (woe - self.woe_mean_) * self.coef_
        return contributions.sum(axis=1) + self.expected_value_, contributions

    def decision_function(self, X: object) -> np.ndarray:
        """Log-odds score of each row."""
        woe = self._woe(self._frame(X))
        return np.asarray(woe @ self.coef_ + self.intercept_, dtype=float)


class BaselineForest(_EncodedInput, BinaryNanTags, ClassifierMixin, BaseEstimator):
    """The original write-up's forest, on any feature frame.

    :func:`loanrecovery.modeling.forest.baseline_forest` (the parameters of
    :data:`loanrecovery.modeling.forest.ORIGINAL_FOREST`) on the frame with categories as codes and
    missing values as the training median (both learned at fit time).

    Parameters
    ----------
    n_estimators : int, default=150
        Number of trees (fewer only to make tests fast).
    n_jobs : int, default=2
    random_state : int, default=42
    """

    def __init__(self, n_estimators: int = 150, n_jobs: int = 2, random_state: int = 42) -> None:
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: object, y: object) -> BaselineForest:
        """Fit the forest."""
        matrix, y01 = self._fit_encoder(X, y)
        medians = np.nanmedian(np.where(np.isfinite(matrix), matrix, np.nan), axis=0)
        self.medians_ = np.nan_to_num(medians)
        self.forest_ = baseline_forest(
            self.random_state, n_estimators=self.n_estimators, n_jobs=self.n_jobs
        ).fit(self._impute(matrix), y01)
        return self

    def _impute(self, matrix: np.ndarray) -> np.ndarray:
        missing = np.isnan(matrix)
        if missing.any():
            matrix = np.where(missing, self.medians_, matrix)
        return matrix

    def predict_proba(self, X: object) -> np.ndarray:
        """Probability of each class."""
        check_is_fitted(self, "forest_")
        frame = fitted_frame(self, X)
        return np.asarray(self.forest_.predict_proba(self._impute(self.encoder_.transform(frame))))

    def predict(self, X: object) -> np.ndarray:
        """Most probable class."""
        best = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[best]

    def decision_function(self, X: object) -> np.ndarray:
        """Log-odds of the forest's probability (for ranking and calibration)."""
        return _logit(self.predict_proba(X)[:, 1])

    @property
    def expected_value_(self) -> float:
        """The log-odds score before any feature's contribution (the trees' mean root)."""
        check_is_fitted(self, "forest_")
        roots = [_positive_share(t.tree_.value[0]) for t in self.forest_.estimators_]
        return float(_logit(np.array([np.mean(roots)]))[0])

    def contributions(self, X: object) -> np.ndarray:
        """Per row and feature, the move of the log-odds score credited to the feature.

        Each row's contributions plus ``expected_value_`` equal ``decision_function``.
        """
        return self.score_and_contributions(X)[1]

    def score_and_contributions(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """Log-odds score and per-feature contributions (path attribution, then log-odds).

        Along each tree's path, the change of the positive share at a split is credited to
        the split's feature (the credits add up to the forest's probability minus its mean
        root); each row's credits are then rescaled so that they add up to its log-odds
        score minus :attr:`expected_value_`.
        """
        check_is_fitted(self, "forest_")
        matrix = self._impute(self.encoder_.transform(fitted_frame(self, X)))
        n_rows = len(matrix)
        credit = np.zeros((n_rows, self.n_features_in_))
        for tree in self.forest_.estimators_:
            t = tree.tree_
            share = _positive_share(t.value)
            parent = np.full(t.node_count, -1)
            inner = np.flatnonzero(t.children_left >= 0)
            parent[t.children_left[inner]] = inner
            parent[t.children_right[inner]] = inner
            child = np.flatnonzero(parent >= 0)
            table = sparse.csr_matrix(
                (share[child] - share[parent[child]], (child, t.feature[parent[child]])),
                shape=(t.node_count, self.n_features_in_),
            )
            credit += (tree.decision_path(matrix.astype(np.float32)) @ table).toarray()
        credit /= len(self.forest_.estimators_)
        score = self.decision_function(X)
        base = self.expected_value_
        p0 = 1.0 / (1.0 + np.exp(-base))
        moved = credit.sum(axis=1)
        slope = np.where(
            np.abs(moved) > 1e-9, (score - base) / np.where(moved == 0, 1.0, moved), 0.0
        )
        slope = np.where(np.abs(moved) > 1e-9, slope, 1.0 / (p0 * (1 - p0)))
        contributions = credit * slope[:, None]
        # rows whose probability did not move from the root: spread the (tiny) rest evenly
        rest = score - base - contributions.sum(axis=1)
        contributions += rest[:, None] / self.n_features_in_
        return score, contributions

    @property
    def feature_importances_(self) -> np.ndarray:
        """The forest's impurity importances."""
        check_is_fitted(self, "forest_")
        return np.asarray(self.forest_.feature_importances_)
