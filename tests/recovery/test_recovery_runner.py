"""End to end on a small simulated book: run_recovery, the report section and the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.recovery.compliance import check_plan
from loanrecovery.recovery.runner import POLICIES, EffectsFit, run_recovery
from loanrecovery.recovery.section import effect_statement, recovery_section
from loanrecovery.simulate import simulate_portfolio, write_book


@pytest.fixture(scope="module")
def book():
    return simulate_portfolio(3000, 30, 7, default_draws=8, outcome_draws=8)


@pytest.fixture(scope="module")
def result(book):
    n = int(((book.loans["Loan_Status"] == "Active") & (book.loans["Days_Past_Due"] >= 30)).sum())
    caps = {"Legal Action": max(1, n // 20), "Field Visit": max(1, n // 20)}
    return run_recovery(
        book.loans, book.collections, book.payments, budget=40.0 * n, capacities=caps, seed=1
    )


def test_plans_obey_limits_and_optimized_is_best_in_expectation(result) -> None:
    s = result.summary
    assert s["constraints_satisfied"]
    assert s["optimized"]["expected_net_recovery"] >= s["greedy"]["expected_net_recovery"] - 1e-6
    assert s["optimized"]["expected_net_recovery"] >= s["seed_rules"]["expected_net_recovery"]
    assert s["upper_bound"] >= s["optimized"]["expected_net_recovery"] - 1e-6
    for name in POLICIES:
        plan = result.plans[name]
        assert plan["Cost"].sum() <= s["budget"] + 1e-6
        assert list(plan["Loan_ID"]) == list(result.cases["Loan_ID"])
        assert set(plan["Action"]) <= {*result.catalogue.names, "None"}
        report = check_plan(
            plan,
            result.cases,
            result.catalogue,
            capacities=result.catalogue.capacities(
                {
                    "Legal Action": s["capacities"]["Legal Action"],
                    "Field Visit": s["capacities"]["Field Visit"],
                }
            ),
            budget=s["budget"],
        )
        assert report.satisfied, report.violations


def test_effects_and_insights_are_reported(result) -> None:
    effects = result.effects
    assert {"recovery_naive", "recovery_dr", "recovery_dr_low", "recovery_dr_high"} <= set(effects)
    assert (effects["recovery_dr_low"] <= effects["recovery_dr_high"]).all()
    assert any(line.startswith("Legal Action against Settlement Offer") for line in result.insights)


def test_section_renders_charts_and_tables(result) -> None:
    section = recovery_section(result)
    assert section.anchor == "recovery-strategies"
    assert section.html.count("data:image/png;base64,") == 2
    assert "original rules" in section.html and "Capacity use" in section.html
    assert "seed_rules" not in section.html  # plan names in words
    assert "upper bound" in section.html and "planned accounts" in section.html
    assert "agent call minutes per day x 22 / 12 per account" in section.html
    assert "set for this run (accounts)" in section.html  # Legal Action, Field Visit


def test_effects_without_evidence_say_so() -> None:
    assert effect_statement("recovery", 1314.0, -100.0, 3154.0).startswith("not enough evidence")
    assert effect_statement("recovery", 500.0, 100.0, 450.0).startswith("+500 recovery")
    assert effect_statement("cost", 7.0, 7.0, 7.0) == "+7 cost per account (95% interval +7 to +7)"


def test_cli_optimize_and_compare(book, tmp_path) -> None:
    data = tmp_path / "book"
    write_book(book, data)
    challenger = tmp_path / "challenger.toml"
    challenger.write_text(
        '[[rule]]\nname = "calls"\naction = "Call"\nrisk_above = 0.5\n\n'
        '[[rule]]\nname = "rest"\naction = "Automated Reminder"\n'
    )
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "optimize",
            "--data",
            str(data),
            "--out",
            str(out),
            "--capacity",
            "Legal Action=3",
            "--challenger",
            str(challenger),
            "--challenger-share",
            "0.3",
        ],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads((out / "optimize.json").read_text())
    for name in POLICIES:
        assert payload[name]["constraints_satisfied"]
        assert isinstance(payload[name]["true_net_recovery"], float)
    assert payload["gap"] <= 0.01
    # with a challenger arm the bound covers the champion arm only, and stdout says so
    assert payload["bound_scope"] == "champion arm"
    assert "upper bound (champion arm)" in " ".join(res.output.split())
    plan = (out / "plan.csv").read_text().splitlines()
    assert plan[0].startswith("Loan_ID,Action,Expected_Recovery,Cost,Expected_Net,Reason")
    res = runner.invoke(
        app,
        [
            "compare-strategies",
            "--plan",
            str(out / "plan.csv"),
            "--truth",
            str(data / "truth.json"),
            "--json",
            str(out / "cmp.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    cmp = json.loads((out / "cmp.json").read_text())
    assert cmp["n_challenger"] > 0 and 0.0 <= cmp["p_value"] <= 1.0


def test_cli_bad_capacity_is_one_line_error(tmp_path, book) -> None:
    data = tmp_path / "book"
    write_book(book, data)
    res = CliRunner().invoke(app, ["optimize", "--data", str(data), "--capacity", "Lawsuit"])
    assert res.exit_code == 2
    assert "expected ACTION=N" in res.output


def test_cli_optimize_takes_risk_scores_from_a_file(tmp_path, book) -> None:
    data = tmp_path / "book"
    write_book(book, data)
    scores = tmp_path / "scored_loans.csv"
    ids = book.loans["Loan_ID"].astype(str)
    scores.write_text("Loan_ID,Risk_Score\n" + "".join(f"{i},0.9\n" for i in ids))
    out = tmp_path / "out"
    args = ["optimize", "--data", str(data), "--out", str(out), "--scores", str(scores)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    plans = pd.read_csv(out / "plans_all.csv")
    assert (plans["Risk_Score"] == 0.9).all()
    rules = plans[plans["Policy"] == "seed_rules"]
    # every account is above the original 0.75 threshold: no automated reminders
    assert not (rules["Action"] == "Automated Reminder").any()

    scores.write_text("Loan_ID,Risk_Score\n" + f"{ids.iloc[0]},high\n")
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "'high' is not a risk score" in res.output and "Risk_Score" in res.output

    scores.write_text("Loan_ID,pd\n" + f"{ids.iloc[0]},0.5\n")
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "have no score" in res.output


def test_history_says_when_outcomes_are_still_open(book, result) -> None:
    from loanrecovery.recovery.runner import MIN_MATURE_ROWS, _history

    assert "outcome had closed by month" in result.summary["history"]
    assert result.summary["history"] in recovery_section(result).html
    early = book.loans.assign(Snapshot_Month=int(book.collections["Month"].min()) + 12)
    used, note = _history(book.collections, early, "collections")
    assert len(used) == len(book.collections)
    open_rows = int((book.collections["Month"] + 12 > early["Snapshot_Month"].max()).sum())
    assert f"{open_rows:,} of them with a 12-month outcome still open" in note
    assert f"fewer than {MIN_MATURE_ROWS:,}" in note and "understated" in note


def test_the_plan_segment_is_the_callers_risk_segment(book, result) -> None:
    # Without a risk stage the plan has no segments; the days-past-due bucket is its own column.
    for plan in result.plans.values():
        assert set(plan["Segment"]) == {"Unsegmented"}
        assert plan["DPD_Bucket"].str.fullmatch(r"(30-59|60-89|90\+)\|(un)?secured").all()
    ids = book.loans["Loan_ID"]
    segments = pd.Series(
        ["High Risk" if k % 2 else "Low Risk" for k in range(len(ids))], index=ids.to_numpy()
    )
    effects = EffectsFit(
        estimator=result.estimator,
        history_rows=result.history_rows,
        history_note=result.history_note,
    )
    given = run_recovery(
        book.loans, book.collections, book.payments, seed=1, effects=effects, segments=segments
    )
    expected = segments.reindex(given.cases["Loan_ID"]).to_numpy()
    for plan in given.plans.values():
        assert (plan["Segment"].to_numpy() == expected).all()
