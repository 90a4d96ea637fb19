"""A trained scoring model: everything `score` needs, fit once by `train`.

:class:`LoanScoringModel` holds the column roles learned from the training table, the
champion (with its calibrator), the risk segments (bands of the PD fitted at training time on
the champion's out-of-fold PDs), the strategy policy, and the drift reference.
:func:`train_scoring_model` builds it; :meth:`LoanScoringModel.score` scores a raw table.
"""

from __future__ import annotations

import logging
import warnings
import weakref
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loanrecovery.actions import NO_ACTION
from loanrecovery.delinquency import FUTURE_TARGET
from loanrecovery.exceptions import DataFileError, DataQualityWarning
from loanrecovery.io import NULL_VALUES, read_parquet_folder, read_table
from loanrecovery.modeling.candidates import GBMScorer
from loanrecovery.modeling.champion import ChampionClassifier, combine
from loanrecovery.modeling.compiled_trees import CompiledTrees
from loanrecovery.modeling.dpd_column import DpdGuess, guess_dpd_column
from loanrecovery.modeling.drift import DriftReference
from loanrecovery.modeling.reasons import IN_DEFAULT_REASON, reason_codes
from loanrecovery.modeling.table import PreparedTable, coerce_features, settled_or_defaulted
from loanrecovery.segmentation import UNSEGMENTED, RiskSegmenter
from loanrecovery.strategy import assign_strategies, load_policy

__all__ = [
    "LoanScoringModel",
    "ScoreResult",
    "train_scoring_model",
    "score_band",
    "BAND_EDGES",
    "BAND_NAMES",
    "read_loans",
    "write_scores",
]

logger = logging.getLogger(__name__)

#: PD cut-offs of the score bands A (lowest risk) ... G.
BAND_EDGES = (0.01, 0.025, 0.05, 0.10, 0.20, 0.40)
BAND_NAMES = ("A", "B", "C", "D", "E", "F", "G")
#: Drift (PSI) is measured on at most this many evenly spaced loans of a scored file.
DRIFT_SAMPLE_ROWS = 200_000
#: Compiled trees of each GBM scored in this process (built at load time, never saved).
_COMPILED: weakref.WeakKeyDictionary[GBMScorer, CompiledTrees] = weakref.WeakKeyDictionary()
_COMPILED_PATHS: weakref.WeakKeyDictionary[GBMScorer, CompiledTrees] = weakref.WeakKeyDictionary()


def score_band(pd_: np.ndarray) -> np.ndarray:
    """Band letter of each PD: A < 1 % <= B < 2.5 % <= C < 5 % <= D < 10 % <= E < 20 % <= F
    < 40 % <= G."""
    index = np.searchsorted(np.asarray(BAND_EDGES), np.asarray(pd_, dtype=float), side="right")
    return np.asarray(BAND_NAMES, dtype=object)[index]


@dataclass
class ScoreResult:
    """Scored loans and what was noticed about the input."""

    table: pd.DataFrame
    drift: pd.DataFrame
    overall_psi: float
    unseen_columns: list[str]
    #: Bin counts behind ``drift`` (:meth:`DriftReference.bin_counts`), ``open`` False when
    #: every loan was settled and all of them were counted.
    drift_counts: dict[str, np.ndarray] | None = None
    drift_open: bool = True


class LoanScoringModel:
    """Everything needed to score a raw loan table (built by :func:`train_scoring_model`).

    Attributes
    ----------
    roles : dict
        Feature column -> role (``numeric``, ``numeric text`` or ``categorical``).
    input_columns : list of str
        Every column of the training table.
    id_columns : list of str
        Identifier columns copied to the scored output.
    champion : ChampionClassifier
    segmenter : RiskSegmenter or None
        Risk segments: bands of the PD fitted on the champion's out-of-fold PDs
        (``docs/segments.md``), applied on the PD it gives.
    policy : StrategyPolicy or None
    dpd_column : str or None
        Days-past-due feature given to the strategy policy.
    drift : DriftReference
    book_rules : bool
        Trained on the canonical layout's future target: as in ``run``, loans already 90+
        days past due score PD 1 and closed loans (nothing owed) PD 0, segment "Closed" and
        strategy "None"; neither counts towards drift (training left both out).
    """

    def __init__(
        self,
        roles: dict[str, str],
        input_columns: list[str],
        id_columns: list[str],
        champion: ChampionClassifier,
        segmenter: Any,
        policy: Any,
        dpd_column: str | None,
        drift: DriftReference,
        book_rules: bool = False,
    ) -> None:
        self.roles = roles
        self.input_columns = input_columns
        self.id_columns = id_columns
        self.champion = champion
        self.segmenter = segmenter
        self.policy = policy
        self.dpd_column = dpd_column
        self.drift = drift
        self.book_rules = book_rules

    @property
    def numeric_features(self) -> list[str]:
        """Feature columns read as numbers (checked value by value at scoring time)."""
        return [c for c in self.features if self.roles[c] in ("numeric", "numeric text")]

    @property
    def features(self) -> list[str]:
        """Feature columns, in the champion's order."""
        return [str(c) for c in self.champion.feature_names_in_]

    def check_columns(self, frame: pd.DataFrame, source: str = "data") -> list[str]:
        """Raise if a feature column is missing; return the columns the model has not seen."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataFileError(
                source,
                f"the model needs the column(s) {missing}, which are missing; the model was "
                f"trained on: {self.features}",
            )
        unseen = [str(c) for c in frame.columns if c not in set(self.input_columns)]
        if unseen:
            warnings.warn(
                f"{source}: column(s) not seen at training time are ignored: {unseen}",
                DataQualityWarning,
                stacklevel=2,
            )
        return unseen

    def features_of(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's feature frame from a raw table (same coercions as at training).

        Numeric columns that are already numbers take a vectorised path (float64, infinities
        as NaN); the others go through :func:`coerce_features`.
        """
        columns: dict[str, Any] = {}
        rest: dict[str, str] = {}
        for name in self.features:
            role = self.roles[name]
            values = frame[name]
            if role in ("numeric", "numeric text") and pd.api.types.is_numeric_dtype(values):
                if pd.api.types.is_bool_dtype(values) or isinstance(
                    values.dtype, pd.api.extensions.ExtensionDtype
                ):
                    rest[name] = role
                    continue
                numbers = np.array(values.to_numpy(), dtype=np.float64)
                numbers[np.isinf(numbers)] = np.nan
                columns[name] = numbers
            else:
                rest[name] = role
        if rest:
            coerced = coerce_features(frame, rest)
            columns.update({name: coerced[name] for name in rest})
            return pd.DataFrame({name: columns[name] for name in self.features}, index=frame.index)
        # All numeric: one float64 block (no per-column blocks to consolidate later).
        block = np.empty((len(self.features), len(frame)), dtype=np.float64)
        for row, name in enumerate(self.features):
            block[row] = columns[name]
        return pd.DataFrame(block.T, columns=self.features, index=frame.index, copy=False)

    def prepare(self, reasons: bool = False) -> LoanScoringModel:
        """Start compiling the GBM trees in the background (call before reading the loans).

        Optional: :meth:`score` compiles on first use otherwise. ``reasons`` compiles the
        trees for scoring with reason codes instead. The compiled code lives in memory only
        (never in the model file); without a C compiler LightGBM is used.
        """
        store = _COMPILED_PATHS if reasons else _COMPILED
        for model in self.champion.models_.values():
            if isinstance(model, GBMScorer) and model not in store:
                store[model] = CompiledTrees(model.booster_, contributions=reasons)
        return self

    def score_and_explain(self, X: pd.DataFrame, n_reasons: int) -> tuple[np.ndarray, Any]:
        """:meth:`ChampionClassifier.score_and_explain`, GBM paths from compiled code.

        A GBM's contributions are the sums of its leaves' path credits, so its score is
        their sum plus its expected value, as in :meth:`GBMScorer.score_and_contributions`.
        """
        self.prepare(reasons=True)
        champion = self.champion
        score = np.zeros(len(X))
        total = np.zeros((len(X), champion.n_features_in_))
        for name, weight in champion.weights_.items():
            model = champion.models_[name]
            part = None
            if isinstance(model, GBMScorer):
                table, offsets = model.path_table()
                part = _COMPILED_PATHS[model].leaf_sums(
                    self._gbm_matrix(model, X),
                    table.toarray(),
                    offsets,
                    partial(_gbm_contributions, model, X),
                )
            if part is None:
                part_score, part = model.score_and_contributions(X)
            else:
                part_score = part.sum(axis=1) + model.expected_value_
            score += weight * part_score
            total += weight * part
        reference = getattr(champion, "reason_reference_", None)  # absent in older files
        return score, reason_codes(total, X, n_reasons, reference)

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """The champion's log-odds score, GBM trees from compiled code when available."""
        self.prepare()
        scores = {}
        for name, model in self.champion.models_.items():
            if isinstance(model, GBMScorer):
                scores[name] = _COMPILED[model].predict(self._gbm_matrix(model, X))
            else:
                scores[name] = model.decision_function(X)
        return combine(scores, self.champion.weights_)

    def _gbm_matrix(self, model: GBMScorer, X: pd.DataFrame) -> np.ndarray:
        """The GBM's float32 matrix (directly from ``X`` when every feature is numeric)."""
        encoder = model.encoder_
        if encoder.categories_ or list(encoder.feature_names_in_) != list(X.columns):
            return model.encode(X)
        matrix = np.array(X.to_numpy(), dtype=np.float32, order="C")
        matrix[~np.isfinite(matrix)] = np.nan
        return matrix

    def score(
        self,
        frame: pd.DataFrame,
        *,
        n_reasons: int = 4,
        source: str = "data",
        drift_sample: bool = True,
    ) -> ScoreResult:
        """PD, score band, segment, strategy and reasons of every loan of ``frame``.

        Drift is measured on at most :data:`DRIFT_SAMPLE_ROWS` evenly spaced open loans, or
        on every open loan with ``drift_sample=False`` (a partition of a larger table, whose
        bin counts are merged with the other partitions').
        """
        unseen = self.check_columns(frame, source)
        X = self.features_of(frame)
        reasons = None
        if n_reasons > 0:
            raw, reasons = self.score_and_explain(X, n_reasons)
        else:
            raw = self.raw_score(X)
        pd_ = self.champion.calibrator_.predict(raw)
        if getattr(self, "book_rules", False):  # absent in model files from before it
            in_default, closed = settled_or_defaulted(frame)
        else:
            in_default = closed = np.zeros(len(frame), dtype=bool)
        settled = in_default | closed
        if settled.any():
            pd_ = np.where(in_default, 1.0, np.where(closed, 0.0, pd_))
        segment = np.where(closed, "Closed", self._segments(pd_))
        out: dict[str, Any] = {
            c: frame[c].to_numpy() for c in self.id_columns if c in frame.columns
        }
        out["pd"] = np.round(pd_, 6)
        # Text columns as categoricals: same values, written to CSV many times faster.
        band = np.searchsorted(np.asarray(BAND_EDGES), pd_, side="right")
        out["score_band"] = pd.Categorical.from_codes(
            band,  # type: ignore[arg-type]
            categories=pd.Index(BAND_NAMES),
        )
        out["segment"] = pd.Categorical(segment)
        if self.policy is not None:
            dpd = (
                X[self.dpd_column].fillna(0).to_numpy(dtype=float)
                if self.dpd_column is not None
                else None
            )
            strategy = assign_strategies(self.policy, pd_, segment, dpd)
            if closed.any():
                strategy = np.where(closed, NO_ACTION, strategy)
            out["strategy"] = pd.Categorical(strategy)
        table = pd.DataFrame(out, index=frame.index)
        if reasons is not None:
            if settled.any():
                reasons = reasons.copy()
                reasons.loc[settled, :] = ""
                reasons.iloc[np.flatnonzero(in_default), 0] = IN_DEFAULT_REASON
            table = pd.concat([table, reasons.set_axis(table.index)], axis=1)
        # Drift on the loans the model scores (all of them if every loan is settled).
        is_open = not settled.all()
        open_rows = np.flatnonzero(~settled) if is_open else np.arange(len(X))
        sample = open_rows[_drift_sample(len(open_rows))] if drift_sample else open_rows
        counts = self.drift.bin_counts(X.iloc[sample], pd_[sample])
        drift, overall = self.drift.compare_counts(counts)
        return ScoreResult(
            table=table,
            drift=drift,
            overall_psi=overall,
            unseen_columns=unseen,
            drift_counts=counts,
            drift_open=is_open,
        )

    def _segments(self, pd_: np.ndarray) -> np.ndarray:
        if self.segmenter is None:
            return np.full(len(pd_), UNSEGMENTED, dtype=object)
        return np.asarray(self.segmenter.predict(pd_), dtype=object)


def _gbm_contributions(model: GBMScorer, X: pd.DataFrame, n_rows: int) -> np.ndarray:
    """The GBM's own (LightGBM leaf) contributions of the first ``n_rows`` rows of ``X``."""
    return model.score_and_contributions(X.iloc[:n_rows])[1]


def _drift_sample(n_rows: int) -> np.ndarray:
    """Rows on which drift is measured: all up to ``DRIFT_SAMPLE_ROWS``, else evenly spaced.

    PSI compares bin shares; on 200,000 rows a share is known to within about 0.1 point,
    far below what moves a PSI band, and it saves a pass over every column of large files.
    """
    if n_rows <= DRIFT_SAMPLE_ROWS:
        return np.arange(n_rows)
    return np.linspace(0, n_rows - 1, DRIFT_SAMPLE_ROWS).astype(np.int64)


def dpd_column_of(prepared: PreparedTable, given: str | None = None) -> DpdGuess:
    """The days-past-due column of a prepared table's numeric features
    (:func:`~loanrecovery.modeling.dpd_column.guess_dpd_column`; ``given`` is ``--dpd-column``)."""
    numeric = [
        c for c in prepared.X.columns if not isinstance(prepared.X[c].dtype, pd.CategoricalDtype)
    ]
    return guess_dpd_column(numeric, given)


def train_scoring_model(
    prepared: PreparedTable,
    *,
    input_columns: list[str],
    id_columns: list[str],
    policy: Any = None,
    folds: int = 5,
    n_jobs: int = 2,
    random_state: int = 42,
    dpd: DpdGuess | None = None,
) -> LoanScoringModel:
    """Fit the champion, the risk segments of its out-of-fold PDs and the drift reference.

    Parameters
    ----------
    prepared : PreparedTable
    input_columns : list of str
        Every column of the training file (to tell unseen columns at scoring time).
    id_columns : list of str
        Identifier columns to copy into scored output.
    policy : StrategyPolicy, optional
        Strategy ladder (default: the built-in policy).
    folds, n_jobs, random_state : int
    dpd : DpdGuess, optional
        The days-past-due column (default: :func:`dpd_column_of` guesses it, never from a
        count of late payments).
    """
    X, y = prepared.X, prepared.y
    champion = ChampionClassifier(cv=folds, n_jobs=n_jobs, random_state=random_state).fit(X, y)
    pd_train = champion.predict_proba(X)[:, 1]
    oof = np.asarray(champion.oof_pd_, dtype=float)
    oof = np.where(np.isfinite(oof), oof, pd_train)
    segmenter = RiskSegmenter().fit(oof, np.asarray(y, dtype=float))
    dpd_column = (dpd if dpd is not None else dpd_column_of(prepared)).column
    roles = {str(c): prepared.roles[c] for c in X.columns}
    return LoanScoringModel(
        roles=roles,
        input_columns=[str(c) for c in input_columns],
        id_columns=[str(c) for c in id_columns],
        champion=champion,
        segmenter=segmenter,
        policy=policy if policy is not None else load_policy(),
        dpd_column=dpd_column,
        drift=DriftReference().fit(X, pd_train),
        book_rules=prepared.target.column == FUTURE_TARGET,
    )


def read_loans(path: str | Path, delimiter: str | None = None) -> pd.DataFrame:
    """Read loans to score: the multi-threaded pyarrow reader for plain UTF-8 CSV, Parquet
    and Parquet folders (part files read in name order), and
    :func:`loanrecovery.io.read_table` (encodings, delimiters, malformed rows, clear
    file-level errors) for anything else or when a ``delimiter`` is given. Both read
    the same texts as missing."""
    path = Path(path)
    if path.is_dir():
        return read_parquet_folder(path).to_pandas()
    if not path.is_file():
        raise DataFileError(path, "file not found")
    if delimiter is not None:
        return read_table(path, delimiter=delimiter)
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            frame = pq.read_table(path).to_pandas()
        else:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
                convert_options=pacsv.ConvertOptions(
                    strings_can_be_null=True, null_values=list(NULL_VALUES)
                ),
            )
            frame = table.to_pandas()
    except (pa.ArrowException, OSError, UnicodeError, ValueError):
        return read_table(path)
    if frame.shape[1] <= 1 or len(frame) == 0:
        return read_table(path)
    return frame


def write_scores(table: pd.DataFrame, path: str | Path) -> None:
    """Write scored loans as CSV (pyarrow writer)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    pacsv.write_csv(arrow, path)
