"""End to end on a small book: the JSON layout, the watchlist, the report section."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from loanrecovery.early_warning import (
    EarlyWarningDataError,
    EarlyWarningResult,
    early_warning_section,
    no_panel_section,
    run_early_warning,
)

Book = tuple[pd.DataFrame, pd.DataFrame]


@pytest.fixture(scope="module")
def result(small_book: Book) -> EarlyWarningResult:
    loans, payments = small_book
    return run_early_warning(loans, payments, alert_budget=0.10, random_state=7)


def test_metrics_have_the_layout_of_the_issue(result: EarlyWarningResult) -> None:
    m = json.loads(json.dumps(result.metrics))  # JSON-serialisable
    assert set(m) == {
        "horizons",
        "lead_time",
        "concordance",
        "alert_budget",
        "alert_min_probability",
        "alerts",
        "model_choice",
        "seconds",
    }
    alerts = m["alerts"]
    assert alerts["listed"] == len(result.watchlist)
    assert 0 <= alerts["used"] == int(result.watchlist["Alert"].sum()) <= alerts["budget"]
    assert set(m["horizons"]) == {"3", "6"}
    for h in m["horizons"].values():
        for entry in (h, h["baseline_rule"], h["baseline_static"]):
            assert set(entry) >= {"auc", "recall_at_budget", "precision_at_budget"}
            assert 0 <= entry["recall_at_budget"] <= 1
    assert set(m["lead_time"]) == {"share_flagged_3m_before", "share_flagged_6m_before"}
    assert 0.5 < m["concordance"] <= 1
    assert m["alert_budget"] == 0.10


def test_history_beats_static_terms_on_a_book_with_warning_signs(
    result: EarlyWarningResult,
) -> None:
    h3 = result.metrics["horizons"]["3"]
    assert h3["auc"] > h3["baseline_static"]["auc"]
    assert h3["recall_at_budget"] > h3["baseline_rule"]["recall_at_budget"]


def test_watchlist_holds_only_performing_loans_at_the_latest_month(
    result: EarlyWarningResult, small_book: Book
) -> None:
    _, payments = small_book
    w = result.watchlist
    last = payments["Month"].max()
    assert (w["Month"] == last).all()
    assert (w["Days_Past_Due"] < 90).all()
    assert w["Rank"].tolist() == list(range(1, len(w) + 1))
    assert (np.diff(w["P3"].to_numpy()) <= 1e-12).all()
    assert (w["P6"] >= w["P3"]).all()
    # The budget is a cap: the top 10% at most, and only those with P3 >= 0.05.
    slots = int(np.ceil(0.10 * len(w)))
    expected = (w["Rank"] <= slots) & (w["P3"] >= 0.05)
    assert (w["Alert"] == expected).all() and w["Alert"].sum() <= slots
    assert (w.loc[w["Alert"], "Reasons"].str.len() > 0).all()
    # Early warning has no segmenter of its own: without the risk stage's segments, none.
    assert set(w["Segment"]) == {"Unsegmented"}


def test_same_input_same_output(
    book_factory: Callable[..., Book],
) -> None:
    loans, payments = book_factory(n_loans=250, n_months=20, seed=5)
    a = run_early_warning(loans, payments, refit_for_watchlist=False)
    b = run_early_warning(loans, payments, refit_for_watchlist=False)
    pd.testing.assert_frame_equal(a.watchlist, b.watchlist)
    drop = {"seconds"}
    assert {k: v for k, v in a.metrics.items() if k not in drop} == {
        k: v for k, v in b.metrics.items() if k not in drop
    }


def test_short_panel_and_bad_budget_are_user_errors(book_factory: Callable[..., Book]) -> None:
    loans, payments = book_factory(n_loans=50, n_months=8, seed=1)
    with pytest.raises(EarlyWarningDataError, match="needs at least"):
        run_early_warning(loans, payments)
    with pytest.raises(EarlyWarningDataError, match="alert budget"):
        run_early_warning(loans, payments, alert_budget=1.5)


def test_section_renders_the_figures(result: EarlyWarningResult) -> None:
    section = early_warning_section(result)
    assert section.anchor == "early-warning"
    assert section.html.count("data:image/png;base64,") == 3
    assert "baseline" not in section.title.lower()
    assert "simple rule" in section.html and "borrower and loan terms" in section.html
    assert "needs a monthly payment panel" in no_panel_section().html


def test_reasons_read_as_plain_words() -> None:
    from loanrecovery.early_warning.watchlist import describe_reason

    assert describe_reason("Missed_3", 2.0) == "2 missed payments in the last 3 months"
    assert describe_reason("Pay_Ratio_6", 0.4) == "paid 40% of what was due over the last 6 months"
    assert describe_reason("DPD", 60.0) == "60 days past due"
    assert describe_reason("Employment_Code", 1.0) == "Self-Employed employment"
    assert describe_reason("Months_Since_Full", 99.0) == "no full payment on record"
