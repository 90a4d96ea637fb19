"""What ``evaluate`` and ``train`` do beyond parsing options: read and prepare a loan
table, and describe a trained model in its card (the metrics it is published with).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from loanrecovery.contract.numbers import read_decimal_columns
from loanrecovery.exceptions import DataQualityWarning, OptionError
from loanrecovery.io import read_table
from loanrecovery.modeling.metrics import cross_fitted_flags, pd_metrics
from loanrecovery.modeling.model_file import file_fingerprint
from loanrecovery.modeling.scoring import LoanScoringModel
from loanrecovery.modeling.table import PreparedTable, prepare_table
from loanrecovery.modeling.validation import stratified_splits

__all__ = ["prepare_file", "model_card", "read_table_with_decimal"]


def read_table_with_decimal(
    path: str | Path, *, delimiter: str | None = None, decimal: str = "."
) -> pd.DataFrame:
    """Read a table of any layout; with ``decimal=","`` every column is read as text and its
    number columns parsed with the decimal comma
    (:func:`~loanrecovery.contract.numbers.read_decimal_columns`; refused values are warned
    about as a :class:`~loanrecovery.exceptions.DataQualityWarning`)."""
    if decimal == ".":
        return read_table(path, delimiter=delimiter)
    if decimal != ",":
        raise OptionError("--decimal", f"expected '.' or ',', got {decimal!r}")
    frame, refused = read_decimal_columns(
        read_table(path, delimiter=delimiter, as_text=True), decimal=decimal
    )
    for name, count in refused.items():
        warnings.warn(
            f"{path}: numeric column {name!r}: {count} values are not numbers written with "
            f"{decimal!r} as the decimal mark; read as missing",
            DataQualityWarning,
            stacklevel=2,
        )
    return frame


def prepare_file(
    path: str | Path,
    *,
    target: str,
    positive: str | None = None,
    negative: tuple[str, ...] = (),
    id_columns: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    allow_protected: bool = False,
    time_col: str | None = None,
    delimiter: str | None = None,
    strict: bool = False,
    decimal: str = ".",
) -> tuple[pd.DataFrame, PreparedTable]:
    """Read a loan table and prepare it (roles, target, leak guard).

    Data-quality findings are issued as
    :class:`~loanrecovery.exceptions.DataQualityWarning` (the command line prints them).

    Parameters
    ----------
    path : str or Path
        CSV or Parquet file.
    target, positive, negative, id_columns, drop, allow_protected, time_col
        As in :func:`~loanrecovery.modeling.table.prepare_table`.
    delimiter : str, optional
        CSV delimiter (default: detected).
    strict : bool, default=False
        Reject rows with a value that is not a finite number in a numeric column.
    decimal : {".", ","}, default="."
        The decimal mark of the file's numbers (:func:`read_table_with_decimal`).

    Returns
    -------
    frame : DataFrame
        The table as read.
    prepared : PreparedTable
        Features and the 0/1 target.

    Raises
    ------
    DataFileError
        The file cannot be read, or the target is unusable.
    """
    frame = read_table_with_decimal(path, delimiter=delimiter, decimal=decimal)
    prepared = prepare_table(
        frame,
        target=target,
        positive=positive,
        negative=negative,
        id_columns=id_columns,
        drop=drop,
        allow_protected=allow_protected,
        time_col=time_col,
        source=str(path),
        strict=strict,
    )
    return frame, prepared


def model_card(
    model: LoanScoringModel,
    prepared: PreparedTable,
    frame: pd.DataFrame,
    *,
    data: str | Path,
    folds: int,
) -> dict[str, Any]:
    """The card saved with a trained model: its data, target, features and metrics.

    The metrics are the champion's out-of-fold PDs scored on the champion's own folds
    (same seed), each loan flagged with a cut-off chosen on the other folds, so no loan is
    flagged by a cut-off chosen on it.

    Parameters
    ----------
    model : LoanScoringModel
        Trained by :func:`~loanrecovery.modeling.scoring.train_scoring_model` on ``prepared``.
    prepared : PreparedTable
        The table it was trained on.
    frame : DataFrame
        That table as read (for its size).
    data : str or Path
        The file it was read from (fingerprinted).
    folds : int
        Folds the champion was chosen with.

    Returns
    -------
    dict
        JSON-ready card (see :func:`~loanrecovery.modeling.model_file.save_model`).
    """
    champion = model.champion
    splits = stratified_splits(prepared.y, folds, champion.random_state)
    flags = cross_fitted_flags(prepared.y, champion.oof_pd_, splits.pairs)
    metrics = pd_metrics(prepared.y, champion.oof_pd_, flags=flags)
    return {
        "data": file_fingerprint(data) | {"rows": int(len(frame)), "columns": int(frame.shape[1])},
        "target": {
            "column": prepared.target.column,
            "positive": prepared.target.positive,
            "negative": prepared.target.negative,
            "rows_used": int(len(prepared.y)),
            "rows_excluded": int(prepared.n_excluded),
            "positive_rate": float(prepared.y.mean()),
        },
        "features": {c: model.roles[c] for c in model.features},
        "excluded_columns": prepared.excluded,
        "leaks": prepared.leaks,
        "champion": champion.champion_,
        "weights": champion.weights_,
        "calibration": champion.calibrator_.method_,
        "candidates_auc": champion.cv_auc_,
        "metrics": metrics | {"validation": f"{folds}-fold out-of-fold, calibration cross-fitted"},
        "segments": None if model.segmenter is None else model.segmenter.describe(),
        "days_past_due_column": model.dpd_column,
        "policy": getattr(model.policy, "name", None),
        "score_meaning": "reasons are contributions to the champion's log-odds score before "
        "calibration; they add up, with the expected value, to that score",
    }
