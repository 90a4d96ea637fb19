"""No risk signal, no risk thresholds: when the risk model's AUC interval includes 0.5 the
bundle plans with the days-past-due-and-segment ladder, stores that choice, and says so."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from tests.conftest import make_loans

from loanrecovery.bundle import load_bundle, save_bundle
from loanrecovery.bundle.account import CLOSED_RULE
from loanrecovery.bundle.fit import _strategy_policy
from loanrecovery.config import Config
from loanrecovery.contract.book import validate_book
from loanrecovery.pipeline import run_pipeline
from loanrecovery.report.render import render_report
from loanrecovery.risk_signal import (
    auc_interval,
    no_signal_policy,
    risk_signal,
    uses_risk_thresholds,
)
from loanrecovery.strategy import assign_strategies, load_policy, parse_policy


def _fit(auc: float, n: int = 400, rate: float = 0.2):
    return SimpleNamespace(
        risk=SimpleNamespace(metrics={"roc_auc": auc, "n_train": n, "positive_rate": rate})
    )


def test_the_signal_is_the_auc_interval_lying_above_one_half():
    assert risk_signal({"roc_auc": 0.53, "n_train": 400, "positive_rate": 0.2}).has_signal is False
    strong = risk_signal({"roc_auc": 0.75, "n_train": 400, "positive_rate": 0.2})
    assert strong.has_signal and strong.low > 0.5
    assert strong.describe().startswith("ROC AUC 0.750 (95% CI 0.")
    assert risk_signal({}).has_signal is False  # not measured: no shown signal
    low, high = auc_interval(0.53, 80, 320)
    assert low < 0.5 < high


def test_the_fallback_ladder_uses_no_risk_threshold_and_is_valid():
    ladder = no_signal_policy()
    assert not uses_risk_thresholds(ladder) and uses_risk_thresholds(load_policy())
    Config(policy=ladder)  # every action is in the built-in catalogue
    dpd = np.array([0, 10, 35, 35, 65, 120], dtype=float)
    segment = np.array(["Low Risk", "Low Risk", "Low Risk", "High Risk", "Low Risk", "Low Risk"])
    for risk in (np.zeros(6), np.ones(6)):  # the risk score changes nothing
        assert assign_strategies(ladder, risk, segment, dpd).tolist() == [
            "Automated Reminder",
            "SMS",
            "SMS",
            "Call",
            "Settlement Offer",
            "Legal Notice",
        ]


def test_no_signal_replaces_a_threshold_policy_and_records_why():
    config, record = _strategy_policy(Config(), _fit(0.52))
    assert config.policy.name == no_signal_policy().name
    assert record["fallback"] is True and record["risk_signal"]["has_signal"] is False
    assert record["replaced_policy"] == Config().policy.name
    assert "includes 0.5" in record["note"] and "not used" in record["note"]


def test_a_signal_or_a_policy_without_thresholds_is_kept():
    config, record = _strategy_policy(Config(), _fit(0.8))
    assert config.policy == Config().policy and record["fallback"] is False
    dpd_only = parse_policy(
        '[[rule]]\nname = "late"\naction = "Call"\ndpd_at_least = 30\n'
        '[[rule]]\nname = "rest"\naction = "SMS"\n'
    )
    config, record = _strategy_policy(Config(policy=dpd_only), _fit(0.5))
    assert config.policy == dpd_only and record["fallback"] is False


# ~30 s on a shared 2-core machine: one pipeline run (fit, apply, report) on a 300-loan book.
def test_a_book_without_signal_is_planned_by_days_past_due_and_segment(tmp_path):
    loans = make_loans(300, seed=11)
    rng = np.random.default_rng(0)
    loans["Default_Next_6M"] = (rng.random(len(loans)) < 0.25).astype(int)  # pure noise
    book = validate_book(loans, source="noise")
    result = run_pipeline(book)
    bundle, report = result.bundle, result.fit_report
    signal = bundle.manifest["strategy"]["risk_signal"]
    if signal["ci_low"] is not None and signal["ci_low"] > 0.5:  # pragma: no cover
        pytest.skip(f"noise happened to show a signal: {signal}")
    note = report.strategy_fallback
    assert note and "includes 0.5" in note
    assert result.limits[0] == note and result.policy.name == no_signal_policy().name
    page = render_report(result)  # in the data limits and above the strategy table
    assert page.count("includes 0.5 (chance), so the risk-score thresholds") == 2
    loaded = load_bundle(save_bundle(bundle, tmp_path / "noise.bundle"))
    assert loaded.manifest["strategy"]["fallback"] is True
    assert loaded.config.policy.name == no_signal_policy().name
    applied = loaded.apply(book)
    fallback_rules = {rule.name for rule in no_signal_policy().rules}
    assert set(applied.strategy_rules) - {CLOSED_RULE} <= fallback_rules
    assert (applied.strategy_rules != CLOSED_RULE).any()
    assert math.isfinite(signal["roc_auc"])
