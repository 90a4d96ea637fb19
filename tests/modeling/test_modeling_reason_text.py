"""The reason catalogue: plain sentences, no raw names, no reason contradicting its value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import make_loans

from loanrecovery.features import LoanFeatures
from loanrecovery.modeling import ChampionClassifier
from loanrecovery.modeling.reason_text import fit_reference, readable_name
from loanrecovery.modeling.reasons import reason_codes

#: A raw column name (word_word), a one-hot ("=level 1") or a bare "name value" of a flag.
RAW = re.compile(r"[A-Za-z]_[A-Za-z]|=|\b[01]\.0\b")


def assert_plain(texts: pd.DataFrame) -> None:
    """Every reason is a sentence: no raw column name, no "=... 1", no empty gap before text."""
    for row in texts.itertuples(index=False):
        values = list(row)
        for text in values:
            assert not RAW.search(text), text
        filled = [bool(t) for t in values]
        assert filled == sorted(filled, reverse=True), values  # no empty reason before a filled one


def test_readable_name_humanizes() -> None:
    assert readable_name("NumberOfTime30-59DaysPastDueNotWorse") == (
        "Number of time 30 59 days past due not worse"
    )
    assert readable_name("revol_util") == "Revol util"


@pytest.fixture(scope="module")
def loan_features() -> tuple[pd.DataFrame, np.ndarray]:
    loans = make_loans(n=900, seed=4)
    X = LoanFeatures().fit(loans).transform(loans)
    y = (loans["Days_Past_Due"].to_numpy() > 60) | (
        np.random.default_rng(1).random(len(loans)) < 0.15
    )
    return X, y.astype(int)


def test_canonical_features_read_as_sentences(loan_features) -> None:  # type: ignore[no-untyped-def]
    X, y = loan_features
    model = ChampionClassifier(cv=2, n_jobs=1, candidates=("scorecard",)).fit(X, y)
    reasons = model.explain(X, n_reasons=4)
    assert_plain(reasons)
    text = " | ".join(reasons.to_numpy().ravel())
    assert "days past due" in text
    # a value on the safe side never raises risk, a risky one never lowers it
    for row, values in zip(X.itertuples(index=False), reasons.to_numpy(), strict=True):
        for reason in values:
            lowers = reason.endswith("(lowers risk)")
            if reason.startswith(("not past due", "no missed payments")):
                assert lowers, reason
            if reason.startswith("no collateral"):
                assert not lowers, reason
            if re.match(r"\d+ days past due", reason):
                assert not lowers, reason
        del row


def test_one_hot_columns_are_one_reason() -> None:
    X = pd.DataFrame(
        {
            "Employment_Type=Salaried": [0.0, 1.0],
            "Employment_Type=Unemployed": [1.0, 0.0],
            "Days_Past_Due": [0.0, 45.0],
            "Num_Missed_Payments": [3.0, 0.0],
        }
    )
    contributions = np.array([[0.2, 0.5, 0.9, 0.3], [-0.4, 0.0, 0.6, 0.1]])
    reasons = reason_codes(contributions, X, n_reasons=3)
    # row 0: DPD 0 "raises" is refused; the employment group (0.7) comes first
    assert list(reasons.iloc[0]) == ["unemployed borrower", "3 missed payments", ""]
    # row 1: salaried lowers risk; 0 missed payments cannot raise it
    assert list(reasons.iloc[1]) == ["45 days past due", "salaried borrower (lowers risk)", ""]


def test_affordability_and_collateral_sentences() -> None:
    X = pd.DataFrame(
        {
            "Income_to_EMI_Ratio": [2.0833, 10.0],
            "EMI_Burden": [0.48, 0.1],
            "Collateral_Value": [0.0, 5e5],
            "Collateral_Cover": [0.0, 1.25],
        }
    )
    contributions = np.array([[0.3, 0.2, 0.1, 0.4], [-0.3, -0.1, -0.2, -0.2]])
    reasons = reason_codes(contributions, X, n_reasons=2)
    assert list(reasons.iloc[0]) == [
        "instalment takes 48% of monthly income",
        "no collateral",
    ]
    assert list(reasons.iloc[1]) == [
        "instalment takes 10% of monthly income (lowers risk)",
        "collateral covers 125% of the balance (lowers risk)",
    ]


def test_foreign_columns_are_humanized_and_placed_in_the_population() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"RevolvingUtilization": rng.random(500), "grade_code": rng.random(500)})
    y = (train["RevolvingUtilization"] + 0.3 * rng.random(500) > 0.9).to_numpy().astype(int)
    reference = fit_reference(train, y)
    assert reference["RevolvingUtilization"][0] == 1.0  # higher is riskier in training
    X = pd.DataFrame({"RevolvingUtilization": [0.97, 0.05], "grade_code": [0.5, 0.5]})
    reasons = reason_codes(np.array([[0.8, 0.0], [0.8, 0.0]]), X, 1, reference)
    first = reasons.iloc[0, 0]
    assert first.startswith("Revolving utilization 0.97, high: above 9")
    assert first.endswith("% of training loans")
    # a low utilization cannot raise risk when training says higher is riskier
    assert reasons.iloc[1, 0] == ""


@given(
    dpd=st.lists(st.sampled_from([0.0, 0.0, 15.0, 60.0, 120.0]), min_size=1, max_size=30),
    seed=st.integers(0, 10_000),
)
def test_days_past_due_never_contradicts(dpd: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"Days_Past_Due": dpd, "Age": rng.integers(20, 70, len(dpd)).astype(float)})
    contributions = rng.normal(size=(len(dpd), 2))
    reasons = reason_codes(contributions, X, n_reasons=2)
    for value, row in zip(dpd, reasons.to_numpy(), strict=True):
        for reason in row:
            if "past due" in reason:
                assert (value > 0) == (not reason.endswith("(lowers risk)")), (value, reason)
