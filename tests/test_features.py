"""Feature engineering: the write-up's ratios, never inf or NaN."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from loanrecovery.contract import validate_loans
from loanrecovery.features import CATEGORICAL_INPUTS, NUMERIC_INPUTS, LoanFeatures, safe_ratio


def test_ratios_match_the_write_up(loans):
    typed = validate_loans(loans.astype(str), source="x").accepted
    out = LoanFeatures().fit_transform(typed)
    expected = typed["Monthly_Income"] / typed["Monthly_EMI"]
    np.testing.assert_allclose(out["Income_to_EMI_Ratio"], np.minimum(expected, 1000))
    np.testing.assert_allclose(
        out["Utilization_Ratio"], typed["Outstanding_Loan_Amount"] / typed["Loan_Amount"]
    )
    assert {"Collateral_Cover", "EMI_Burden"} <= set(out.columns)


def test_never_uses_treatment_outcome_or_protected_columns(loans):
    out = LoanFeatures().fit_transform(loans)
    banned = ("Gender", "Recovery_Status", "Collection", "Legal_Action", "Default_Next", "_ID")
    assert not [c for c in out.columns if any(b in c for b in banned)]


def test_same_columns_whatever_levels_are_present(loans):
    a = LoanFeatures().fit(loans).transform(loans.head(3))
    b = LoanFeatures().fit(loans).transform(loans)
    assert list(a.columns) == list(b.columns)


def test_missing_columns_named(loans):
    with pytest.raises(ValueError, match="Monthly_EMI"):
        LoanFeatures().fit(loans.drop(columns="Monthly_EMI"))


def test_safe_ratio_edges():
    num = np.array([1.0, 0.0, 5.0, np.nan, np.inf, -3.0])
    den = np.array([0.0, 0.0, 2.0, 1.0, 1.0, 1.0])
    assert safe_ratio(num, den, cap=10).tolist() == [10.0, 0.0, 2.5, 0.0, 10.0, 0.0]


_number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(10**9), 10**9).map(float),
)


@given(
    data_frames(
        [column(c, elements=_number) for c in NUMERIC_INPUTS]
        + [
            column(c, elements=st.sampled_from([*levels, "other", None]))
            for c, levels in CATEGORICAL_INPUTS.items()
        ]
    )
)
def test_no_input_puts_inf_or_nan_in_features(frame):
    out = LoanFeatures().fit(frame).transform(frame) if len(frame) else None
    if out is not None:
        assert np.isfinite(out.to_numpy()).all()
        assert len(out) == len(frame)
