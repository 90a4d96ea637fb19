"""The whole pipeline on a small table: four outputs, rows conserved, no leakage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from loanrecovery.config import Config
from loanrecovery.contract.book import validate_book
from loanrecovery.pipeline import SCORED_LEADING_COLUMNS, PipelineResult
from loanrecovery.pipeline import run_pipeline as _run_pipeline
from loanrecovery.report.files import write_outputs
from loanrecovery.segmentation import SEGMENT_NAMES


def run_pipeline(loans: pd.DataFrame, *, source: str) -> PipelineResult:
    return _run_pipeline(validate_book(loans, source=source), Config())


def test_outputs_and_row_conservation(tmp_path, loans):
    frame = loans.astype(str)
    frame.loc[3, "Age"] = "old"
    frame.loc[8, "Loan_ID"] = "LN_1"
    result = run_pipeline(frame, source="loans.csv")
    paths = write_outputs(result, tmp_path)
    scored = pd.read_csv(paths["scored"])
    rejects = pd.read_csv(paths["rejects"])
    assert len(scored) + len(rejects) == len(loans)
    assert list(scored.columns[:4]) == SCORED_LEADING_COLUMNS
    assert scored["Loan_ID"].is_unique
    assert scored["Risk_Score"].between(0, 1).all()
    segmenter = result.bundle.risk.segmenter
    assert set(scored["Segment"]) - {"Closed"} == set(segmenter.names_)
    assert segmenter.names_ == SEGMENT_NAMES[segmenter.n_segments_]
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["rows"] == {"in": len(loans), "scored": len(scored), "rejected": 2}
    assert set(metrics["insights"]) == {
        "high_income_high_utilization",
        "three_plus_missed_payments",
        "recovery_by_collection_method",
        "reminders_by_segment",
    }
    html = paths["report"].read_text()
    assert html.count("data:image/png;base64,") >= 4
    assert "<script" not in html and "http://" not in html  # self-contained


def test_treatment_columns_do_not_change_scores(loans):
    base = run_pipeline(loans, source="a")
    shuffled = loans.copy()
    rng = np.random.default_rng(1)
    for column in (
        "Collection_Attempts",
        "Collection_Method",
        "Legal_Action_Taken",
        "Recovery_Status",
        "Gender",
    ):
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
    other = run_pipeline(shuffled, source="b")
    np.testing.assert_allclose(base.risk.scores, other.risk.scores, rtol=1e-12)
    np.testing.assert_array_equal(base.segments, other.segments)


def test_same_input_same_output(tmp_path, loans):
    a = write_outputs(run_pipeline(loans, source="x"), tmp_path / "a")
    b = write_outputs(run_pipeline(loans, source="x"), tmp_path / "b")
    for key in ("scored", "rejects"):
        assert a[key].read_bytes() == b[key].read_bytes()


def test_original_style_data_states_its_limits(loans):
    result = run_pipeline(loans.drop(columns="Default_Next_6M"), source="orig.csv")
    text = " ".join(result.limits)
    assert "No time axis" in text
    assert "payment history" in text
    assert "Signal: out-of-fold ROC AUC" in text


def test_segments_are_reported_with_their_bad_rates(loans):
    result = run_pipeline(loans, source="x")
    segmenter = result.bundle.risk.segmenter
    ladder = result.metrics()["segments"]["ladder"]
    assert [s["name"] for s in ladder["segments"]] == list(segmenter.names_)
    assert [s["loans"] for s in ladder["segments"]] == segmenter.counts_.tolist()
    assert list(result.segment_table.index) == list(segmenter.names_)
    # Fewer than four segments is said in the limits, with how many and why.
    assert (segmenter.note_ in result.limits) == (segmenter.n_segments_ < 4)
    if segmenter.n_segments_ < 4:
        assert "intervals of their observed bad rates overlapped" in segmenter.note_
