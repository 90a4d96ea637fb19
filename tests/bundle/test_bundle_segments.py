"""One meaning of Segment: the risk stage's segment is the plan's, the watchlist's and the
policy's, so one policy gives one answer whether it is read in `run` or inside the plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loanrecovery.strategy import explain_strategies

TOP = ("High Risk", "Critical Risk")


def _by_loan(result) -> pd.Series:
    return pd.Series(result.risk.segments, index=result.book.loans["Loan_ID"].to_numpy())


@pytest.fixture(scope="module")
def applied(fitted, sim_book):
    """The bundle applied as `apply` does, and as `run` does (out-of-fold PDs, the fit's
    watchlist)."""
    bundle, report = fitted
    early = report.early_warning
    as_run = bundle.apply(
        sim_book,
        risk_scores=report.risk.risk.scores,
        watchlist=None if early is None else early.watchlist,
    )
    return {"apply": bundle.apply(sim_book), "run": as_run}


@pytest.mark.parametrize("how", ["apply", "run"])
def test_the_high_risk_rule_matches_inside_the_plan_as_in_run(fitted, applied, how):
    bundle, _ = fitted
    result = applied[how]
    policy = bundle.config.policy
    rule = next(r for r in policy.rules if r.segments is not None and set(r.segments) == set(TOP))
    loans = result.book.loans
    row = pd.Series(np.arange(len(loans)), index=loans["Loan_ID"].to_numpy())
    cases = result.recovery.cases
    rows = row.reindex(cases["Loan_ID"]).to_numpy()
    # The plan's Segment is the risk segment of the same loan, not a days-past-due bucket.
    np.testing.assert_array_equal(cases["Segment"].to_numpy(), result.risk.segments[rows])
    for plan in result.recovery.plans.values():
        np.testing.assert_array_equal(plan["Segment"].to_numpy(), result.risk.segments[rows])
        assert plan["DPD_Bucket"].str.fullmatch(r"(30-59|60-89|90\+)\|(un)?secured").all()
    # The rule is alive inside the plan: it matches delinquent loans of the top segments.
    risk, dpd = result.risk.scores[rows], cases["Days_Past_Due"].to_numpy(float)
    in_plan = rule.matches(risk, cases["Segment"].to_numpy(), dpd)
    assert in_plan.any()
    assert set(cases.loc[in_plan, "Segment"]) <= set(TOP)
    np.testing.assert_array_equal(in_plan, rule.matches(risk, result.risk.segments[rows], dpd))
    # One policy, one answer: the rule the plan's ladder reads is the one `run` reports.
    ladder_rules = explain_strategies(policy, risk, cases["Segment"].to_numpy(), dpd)
    np.testing.assert_array_equal(ladder_rules, result.strategy_rules[rows])


@pytest.mark.parametrize("how", ["apply", "run"])
def test_the_watchlist_uses_the_risk_segment(applied, how):
    result = applied[how]
    watchlist = result.watchlist
    assert watchlist is not None and len(watchlist)
    segment = _by_loan(result)
    segment.index = segment.index.astype(str)
    expected = segment.reindex(watchlist["Loan_ID"].astype(str)).to_numpy()
    np.testing.assert_array_equal(watchlist["Segment"].to_numpy(), expected)


def test_run_segments_follow_the_out_of_fold_pds(fitted, applied):
    bundle, report = fitted
    result = applied["run"]
    np.testing.assert_array_equal(result.risk.segments, report.risk.segments)
    expected = bundle.risk.segments_of(report.risk.risk.scores, result.risk.closed)
    np.testing.assert_array_equal(result.risk.segments, expected)
