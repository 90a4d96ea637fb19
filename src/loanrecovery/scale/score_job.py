"""``score --engine dask``: a trained model applied partition by partition.

Each partition of the loans' Parquet folder is checked (:func:`check_rows`), scored
(:meth:`LoanScoringModel.score`, reasons when asked) and written as
``scores.parquet/<part>.parquet`` with its rejects in ``rejects.parquet/<part>.parquet``.
Drift is measured on every open loan of each partition as bin counts; the counts are added
up at the end, so the PSI is the one of the whole table read at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.io import parquet_parts
from loanrecovery.modeling.drift import merge_bin_counts
from loanrecovery.modeling.model_file import load_model
from loanrecovery.modeling.scoring import read_loans
from loanrecovery.modeling.table_checks import check_rows
from loanrecovery.scale.jobs import (
    RECORDS_DIR,
    JobReport,
    cached_load,
    input_identity,
    prepare_job,
    run_partitions,
    text_columns,
    write_json_atomic,
    write_parquet_atomic,
)

__all__ = ["ScaleScoreResult", "score_partitioned", "score_partition", "SCORE_OUTPUTS"]

logger = logging.getLogger(__name__)

#: The output folders of a partitioned ``score``.
SCORE_OUTPUTS = ["scores.parquet", "rejects.parquet"]


@dataclass
class ScaleScoreResult:
    """What a partitioned ``score`` did: counts, drift, the partitions written."""

    report: JobReport
    rows_in: int
    scored: int
    rejected: int
    drift: pd.DataFrame
    overall_psi: float
    out: Path


def _load(path: Path) -> Any:
    return load_model(path)[0]


def score_partition(
    name: str, payload: bytes, *, data: str, out: str, reasons: int, strict: bool
) -> dict[str, Any]:
    """Score one partition (runs on a worker): outputs, rejects and record written."""
    model = cached_load(payload, _load, ".model")
    model.prepare(reasons=reasons > 0)
    frame = read_loans(Path(data) / f"{name}.parquet")
    rows_in = len(frame) + len(frame.attrs.get("malformed_rows", []))
    checked = check_rows(frame, model.numeric_features, strict=strict)
    if checked.n_rejected:
        frame = frame.loc[checked.keep].reset_index(drop=True)
    target = Path(out)
    rejects_path = target / "rejects.parquet" / f"{name}.parquet"
    write_parquet_atomic(text_columns(checked.rejects), rejects_path)
    record: dict[str, Any] = {
        "partition": name,
        "rows_in": rows_in,
        "scored": len(frame),
        "rejected": int(checked.n_rejected),
        "drift_open": False,
        "drift_counts": None,
    }
    if len(frame):
        result = model.score(frame, n_reasons=reasons, source=name, drift_sample=False)
        write_parquet_atomic(result.table, target / "scores.parquet" / f"{name}.parquet")
        record["drift_open"] = bool(result.drift_open)
        counts = result.drift_counts or {}
        record["drift_counts"] = {k: np.asarray(v).tolist() for k, v in counts.items()}
    if record["scored"] + record["rejected"] != rows_in:
        raise AssertionError(
            f"{name}: {rows_in} rows in, {record['scored']} scored + {record['rejected']} rejected"
        )
    write_json_atomic(record, target / RECORDS_DIR / f"{name}.json")
    return record


def _merged_counts(records: list[dict[str, Any]]) -> dict[str, np.ndarray] | None:
    """Bin counts of the open loans of every partition (of every loan when none is open)."""
    with_counts = [r for r in records if r.get("drift_counts")]
    if not with_counts:
        return None
    chosen = [r for r in with_counts if r["drift_open"]] or with_counts
    return merge_bin_counts(
        [{k: np.asarray(v, dtype=float) for k, v in r["drift_counts"].items()} for r in chosen]
    )


def score_partitioned(
    client: Any,
    data: Path,
    model_path: Path,
    out: Path,
    *,
    reasons: int = 4,
    strict: bool = False,
    on_done: Callable[[str, dict[str, Any]], None] | None = None,
) -> ScaleScoreResult:
    """Score a Parquet folder of loans partition by partition on ``client``'s cluster.

    Parameters
    ----------
    client : distributed.Client
    data : Path
        A Parquet folder (``part-*.parquet``); ``out`` and ``data`` must be on storage that
        every worker sees at the same path.
    model_path : Path
        A model file written by ``train``.
    out : Path
        Output folder: ``scores.parquet/``, ``rejects.parquet/``, ``_partitions/``,
        ``drift.csv`` and ``score.json``.
    reasons : int, default 4
    strict : bool, default False
    on_done : callable, optional
        Called as each partition is written (``on_done(name, record)``).

    Returns
    -------
    ScaleScoreResult
    """
    parts = parquet_parts(data)
    model, card = load_model(model_path)  # checks the file before any task is sent
    payload = model_path.read_bytes()
    names = [p.stem for p in parts]
    identity = {
        "command": "score",
        "model": card.get("model_sha256"),
        "inputs": input_identity(parts),
        "reasons": reasons,
        "strict": strict,
    }
    prepare_job(out, identity, SCORE_OUTPUTS)
    shared = client.scatter(payload, broadcast=True)
    report = run_partitions(
        client,
        score_partition,
        names,
        out,
        shared,
        {"data": str(data), "out": str(out), "reasons": reasons, "strict": strict},
        on_done=on_done,
    )
    records = list(report.records.values())
    rows_in, scored, rejected = (report.total(k) for k in ("rows_in", "scored", "rejected"))
    if scored + rejected != rows_in:
        raise AssertionError(f"{rows_in} rows in, {scored} scored + {rejected} rejected")
    counts = _merged_counts(records)
    if counts is None:
        drift, overall = pd.DataFrame(columns=["feature", "psi", "band"]), float("nan")
    else:
        drift, overall = model.drift.compare_counts(counts)
    drift.to_csv(out / "drift.csv", index=False)
    write_json_atomic(
        {
            "partitions": len(names),
            "resumed": len(report.resumed),
            "rows_in": rows_in,
            "scored": scored,
            "rejected": rejected,
            "overall_psi": overall,
        },
        out / "score.json",
    )
    return ScaleScoreResult(
        report=report,
        rows_in=rows_in,
        scored=scored,
        rejected=rejected,
        drift=drift,
        overall_psi=overall,
        out=out,
    )
