"""Cut-offs never chosen on the rows they flag; `score` treats settled loans as `run` does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.modeling.conftest import make_table

from loanrecovery.modeling.drift import merge_bin_counts
from loanrecovery.modeling.evaluate import evaluate_table
from loanrecovery.modeling.metrics import cross_fitted_flags
from loanrecovery.modeling.reasons import IN_DEFAULT_REASON
from loanrecovery.modeling.scoring import train_scoring_model
from loanrecovery.modeling.table import prepare_table
from loanrecovery.modeling.validation import stratified_splits
from loanrecovery.simulate import simulate_portfolio


def test_a_folds_flags_do_not_depend_on_its_own_labels() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    pd_ = np.clip(0.3 * y + rng.random(400) * 0.7, 0, 1)
    splits = stratified_splits(y, 4, 0)
    flags = cross_fitted_flags(y, pd_, splits.pairs)
    _, test_idx = splits.pairs[0]
    flipped = y.copy()
    flipped[test_idx] = 1 - flipped[test_idx]
    again = cross_fitted_flags(flipped, pd_, splits.pairs)
    np.testing.assert_array_equal(again[test_idx], flags[test_idx])
    assert set(np.unique(flags)) <= {0, 1}


def test_out_of_time_cut_offs_come_from_the_earlier_part() -> None:
    frame = make_table(n=1500, seed=2)
    frame["Year"] = 2000 + np.arange(len(frame)) * 10 // len(frame)
    prepared = prepare_table(
        frame, target="TARGET_LABEL_BAD=1", id_columns=("Loan_ID",), time_col="Year"
    )
    result = evaluate_table(prepared, folds=2, time_column="Year")
    for metrics in (result.metrics, result.baseline):
        assert "earlier part" in metrics["threshold_rule"]
        # a cut-off that separates, not one that flags every loan
        assert 0.0 < metrics["threshold"] < 1.0
        assert metrics["recall"] < 1.0


@pytest.fixture(scope="module")
def book_loans() -> pd.DataFrame:
    return simulate_portfolio(1500, 18, seed=5, default_draws=16, outcome_draws=2).loans


def test_score_gives_settled_loans_the_run_treatment(book_loans: pd.DataFrame) -> None:
    prepared = prepare_table(book_loans, target="Default_Next_6M", id_columns=("Loan_ID",))
    assert prepared.target.n_not_modelled > 0
    model = train_scoring_model(
        prepared, input_columns=list(book_loans.columns), id_columns=["Loan_ID"], folds=2
    )
    result = model.score(book_loans, n_reasons=2)
    table = result.table
    dpd = book_loans["Days_Past_Due"].to_numpy()
    closed = (book_loans["Outstanding_Loan_Amount"] <= 0).to_numpy() & (dpd <= 0)
    in_default = dpd >= 90
    assert in_default.any() and closed.any()
    assert (table.loc[in_default, "pd"] == 1.0).all()
    assert (table.loc[in_default, "reason_1"] == IN_DEFAULT_REASON).all()
    assert (table.loc[closed, "pd"] == 0.0).all()
    assert (table.loc[closed, "segment"] == "Closed").all()
    assert (table.loc[closed, "strategy"] == "None").all()
    assert (table.loc[closed, "reason_1"] == "").all()
    open_rows = ~in_default & ~closed
    assert (table.loc[open_rows, "pd"] < 1.0).all()
    assert (table.loc[open_rows, "segment"] != "Closed").all()
    # Scoring the training book itself: the open loans match the training population.
    assert result.overall_psi < 0.1


def test_psi_from_merged_partition_counts_equals_the_whole_table(
    book_loans: pd.DataFrame,
) -> None:
    prepared = prepare_table(book_loans, target="Default_Next_6M", id_columns=("Loan_ID",))
    model = train_scoring_model(
        prepared, input_columns=list(book_loans.columns), id_columns=["Loan_ID"], folds=2
    )
    whole = model.score(book_loans, n_reasons=0)
    parts = [
        model.score(part.reset_index(drop=True), n_reasons=0, drift_sample=False)
        for part in np.array_split(book_loans, 3)
    ]
    merged = merge_bin_counts([p.drift_counts for p in parts if p.drift_open])
    drift, overall = model.drift.compare_counts(merged)
    assert overall == whole.overall_psi
    pd.testing.assert_frame_equal(drift, whole.drift)
