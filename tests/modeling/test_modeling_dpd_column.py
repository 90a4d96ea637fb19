"""The days-past-due column of any table: never a count of late payments; an uncertain guess
says so and can be confirmed or overridden."""

from __future__ import annotations

import pytest

from loanrecovery.exceptions import OptionError
from loanrecovery.modeling.dpd_column import guess_dpd_column

# The columns of a well-known public credit table: three counts of late payments.
GIVE_ME_SOME_CREDIT = [
    "RevolvingUtilizationOfUnsecuredLines",
    "age",
    "NumberOfTime30-59DaysPastDueNotWorse",
    "DebtRatio",
    "MonthlyIncome",
    "NumberOfOpenCreditLinesAndLoans",
    "NumberOfTimes90DaysLate",
    "NumberRealEstateLoansOrLines",
    "NumberOfTime60-89DaysPastDueNotWorse",
    "NumberOfDependents",
]


def test_counts_of_late_payments_are_never_taken_for_days_past_due():
    guess = guess_dpd_column(GIVE_ME_SOME_CREDIT)
    assert guess.column is None
    assert set(guess.passed_over) == {
        "NumberOfTime30-59DaysPastDueNotWorse",
        "NumberOfTimes90DaysLate",
        "NumberOfTime60-89DaysPastDueNotWorse",
    }
    assert "none found" in guess.describe() and "counts of late payments" in guess.describe()


@pytest.mark.parametrize("name", ["Days_Past_Due", "DPD", "days past due", "current_dpd"])
def test_an_exact_name_is_a_certain_guess(name):
    guess = guess_dpd_column(["Age", "NumberOfTimes90DaysLate", name])
    assert guess.column == name and guess.certain
    assert guess.describe() == (
        f"days-past-due column: {name}; not taken (counts of late payments): "
        "NumberOfTimes90DaysLate"
    )


def test_a_column_that_only_mentions_it_is_an_uncertain_guess_printed_with_how_to_confirm():
    guess = guess_dpd_column(["Age", "max_days_late"])
    assert guess.column == "max_days_late" and not guess.certain
    assert "uncertain" in guess.describe() and "--dpd-column 'max_days_late'" in guess.describe()


def test_the_option_confirms_overrides_or_says_none():
    columns = ["Age", "max_days_late", "arrears_days"]
    assert guess_dpd_column(columns, "arrears_days").column == "arrears_days"
    assert guess_dpd_column(columns, "arrears_days").certain
    assert guess_dpd_column(columns, "none").column is None
    with pytest.raises(OptionError, match="--dpd-column: 'nope' is not"):
        guess_dpd_column(columns, "nope")
