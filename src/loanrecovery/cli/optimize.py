"""``loanrecovery optimize`` and ``loanrecovery compare-strategies``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from loanrecovery.checks import (
    dumps_json,
    finite_option,
    output_dir,
    output_file,
    parse_capacities,
    read_json_file,
    seed_option,
    write_rejects,
)
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.contract import (
    ValidationResult,
    read_panel,
    validate_collections,
    validate_loans,
)
from loanrecovery.exceptions import DataFileError, NoValidRowsError
from loanrecovery.io import read_table
from loanrecovery.recovery.challenger import compare_strategies, expected_outcomes
from loanrecovery.recovery.runner import (
    BOUND_ALL_ACCOUNTS,
    POLICIES,
    recovery_json,
    run_recovery,
)
from loanrecovery.recovery.section import recovery_section_html


def _read_book(
    data: Path, out: Path
) -> tuple[ValidationResult, ValidationResult, pd.DataFrame | None, dict | None]:
    if not data.is_dir():
        raise DataFileError(data, "not a directory; expected loans.csv and collections.csv in it")
    for name in ("loans.csv", "collections.csv"):
        if not (data / name).is_file():
            raise DataFileError(
                data / name, "file not found (optimize needs loans.csv and collections.csv)"
            )
    loans = validate_loans(read_table(data / "loans.csv"), source=str(data / "loans.csv"))
    _no_rows(loans, out / "loan_rejects.csv")
    as_of = None
    if "Snapshot_Month" in loans.accepted.columns:
        as_of = int(pd.to_numeric(loans.accepted["Snapshot_Month"], errors="coerce").max())
    collections = validate_collections(
        read_table(data / "collections.csv"),
        source=str(data / "collections.csv"),
        loan_ids=loans.accepted["Loan_ID"],
        as_of=as_of,
    )
    _no_rows(collections, out / "collection_rejects.csv")
    payments = None
    if (data / "payments.csv").is_file():
        panel = read_panel(data / "payments.csv", loans.accepted)
        if len(panel.rejects):
            write_rejects(panel.rejects, out / "payment_rejects.csv")
            console.print(
                f"{len(panel.rejects)} of {panel.n_rows_in} payment rows rejected: "
                f"{out / 'payment_rejects.csv'}"
            )
        payments = panel.accepted.drop(columns="Row")
    truth = None
    if (data / "truth.json").is_file():  # evaluation only: the true_net_recovery figure
        truth = read_json_file(data / "truth.json", "truth")
    return loans, collections, payments, truth


def _no_rows(check: ValidationResult, path: Path) -> None:
    """Every row rejected: write the rejects, then stop with one line naming them."""
    if check.n_accepted == 0:
        write_rejects(check.rejects, path)
        raise NoValidRowsError(check.source, check.rejects, written=path)


#: Score columns accepted by ``--scores``: ``run``'s scored_loans.csv, then ``score``'s output.
SCORE_COLUMNS = ("Risk_Score", "pd")


def read_risk_scores(path: Path) -> pd.Series:
    """Risk score per Loan_ID from ``run``'s ``scored_loans.csv`` or ``score``'s output.

    Raises
    ------
    DataFileError
        No Loan_ID or score column, a score that is not a number in [0, 1] (the first such
        row is named), or a Loan_ID given twice.
    """
    frame = read_table(path, as_text=True)
    if "Loan_ID" not in frame.columns:
        raise DataFileError(path, f"no Loan_ID column; found {list(frame.columns)}")
    column = next((c for c in SCORE_COLUMNS if c in frame.columns), None)
    if column is None:
        raise DataFileError(
            path, f"no score column; expected one of {list(SCORE_COLUMNS)}", column="Loan_ID"
        )
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values < 0) | (values > 1)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise DataFileError(
            path,
            f"row {row + 2}: {frame[column].iloc[row]!r} is not a risk score; expected a number "
            "from 0 to 1",
            column=column,
        )
    ids = frame["Loan_ID"].astype(str)
    if ids.duplicated().any():
        first = ids[ids.duplicated()].iloc[0]
        raise DataFileError(path, f"Loan_ID {first!r} appears more than once", column="Loan_ID")
    return pd.Series(values.to_numpy(float), index=ids.to_numpy(), name=column)


@app.command("optimize")
@handle_errors
def optimize(
    data: Path = typer.Option(
        ..., "--data", help="Directory with loans.csv, collections.csv (and payments.csv)."
    ),
    budget: float = typer.Option(None, "--budget", min=0, help="Total cost limit (USD)."),
    capacity: str = typer.Option(
        None, "--capacity", help="Capacities, e.g. 'Legal Action=20,Field Visit=50'."
    ),
    policy: Path = typer.Option(None, "--policy", help="Rule ladder of seed_rules (TOML)."),
    catalogue: Path = typer.Option(None, "--catalogue", help="Action catalogue (TOML)."),
    challenger: Path = typer.Option(None, "--challenger", help="Challenger rule ladder (TOML)."),
    challenger_share: float = typer.Option(0.1, "--challenger-share", min=0.0, max=0.9),
    scores: Path = typer.Option(
        None,
        "--scores",
        help="Risk scores for the original rules: run's scored_loans.csv (Risk_Score) or "
        "score's output (pd). Default: a logistic proxy fit on loans.csv.",
    ),
    seed: int = typer.Option(42, "--seed", min=0, help="Seed of models and arm assignment."),
    json_path: Path = typer.Option(
        None, "--json", help="JSON summary (default OUT/optimize.json)."
    ),
    out: Path = typer.Option(Path("recovery_out"), "--out", help="Output directory."),
) -> None:
    """Estimate action effects and write the optimized plan against the original rules."""
    finite_option(budget, "--budget", minimum=0)
    capacities = parse_capacities(capacity)
    seed_option(seed)
    output_dir(out, "--out", [data / "loans.csv", data / "collections.csv"])
    if json_path is not None:
        output_file(json_path, "--json", [data / "loans.csv", data / "collections.csv"])
    loan_check, history_check, payments, truth = _read_book(data, out)
    risk = None
    if scores is not None:
        risk = read_risk_scores(scores)
        delinquent = loan_check.accepted.loc[
            pd.to_numeric(loan_check.accepted["Days_Past_Due"], errors="coerce").fillna(0) >= 30,
            "Loan_ID",
        ].astype(str)
        missing = delinquent[~delinquent.isin(risk.index)]
        if len(missing):
            raise DataFileError(
                scores,
                f"{len(missing)} delinquent loan(s) have no score, e.g. {missing.iloc[0]!r}; "
                "expected a score for every loan of loans.csv",
                column="Loan_ID",
            )
    result = run_recovery(
        loan_check.accepted,
        history_check.accepted,
        payments,
        budget=budget,
        capacities=capacities,
        policy_path=policy,
        catalogue_path=catalogue,
        challenger_path=challenger,
        challenger_share=challenger_share if challenger else 0.0,
        risk_score=risk,
        seed=seed,
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, check in (("loan", loan_check), ("collection", history_check)):
        if check.n_rejected:
            check.rejects.to_csv(out / f"{name}_rejects.csv", index=False)
            console.print(
                f"{check.n_rejected} of {check.n_rows_in} rows of {check.source} rejected: "
                f"{out / f'{name}_rejects.csv'}"
            )
    plan = result.plans["optimized"]
    plan.to_csv(out / "plan.csv", index=False)
    pd.concat(result.plans.values()).to_csv(out / "plans_all.csv", index=False)
    result.effects.to_csv(out / "effects.csv", index=False)
    payload = recovery_json(result, truth)
    json_path = json_path or out / "optimize.json"
    json_path.write_text(dumps_json(payload), encoding="utf-8")
    (out / "recovery_section.html").write_text(recovery_section_html(result), encoding="utf-8")
    table = Table(title=f"{len(result.cases)} delinquent loans")
    for col in ("plan", "expected net", "cost", "true net", "constraints"):
        table.add_column(col)
    for name in POLICIES:
        row = payload[name]
        true = row.get("true_net_recovery")
        table.add_row(
            name,
            f"{row['expected_net_recovery']:,.0f}",
            f"{row['cost']:,.0f}",
            "-" if true is None else f"{true:,.0f}",
            str(row["constraints_satisfied"]),
        )
    console.print(table)
    console.print(f"effects estimated from {result.history_note}")
    scope = "" if payload["bound_scope"] == BOUND_ALL_ACCOUNTS else f" ({payload['bound_scope']})"
    console.print(
        f"upper bound{scope} {payload['upper_bound']:,.0f}, gap {payload['gap']:.2e}, "
        f"{payload['seconds']:.1f} s -> {out}/plan.csv, {json_path}"
    )


@app.command("compare-strategies")
@handle_errors
def compare(
    plan: Path = typer.Option(..., "--plan", help="plan.csv written by optimize (with Arm)."),
    outcomes: Path = typer.Option(None, "--outcomes", help="Loan_ID, Recovered_Amount, Cost."),
    truth: Path = typer.Option(
        None,
        "--truth",
        help="Simulated book's truth.json: play the "
        "assigned actions out with the simulator's expected outcomes.",
    ),
    detect_lift: float = typer.Option(
        0.05, "--detect-lift", min=0.001, help="Relative lift for the sample-size figure."
    ),
    json_path: Path = typer.Option(None, "--json", help="Write the result as JSON."),
) -> None:
    """Test the challenger arm against the champion on known outcomes."""
    if json_path is not None:
        output_file(json_path, "--json", [plan, outcomes, truth])
    frame = read_table(plan)
    if "Arm" not in frame.columns:
        raise DataFileError(plan, "no 'Arm' column; run optimize with --challenger", column="Arm")
    if outcomes is not None:
        realised = read_table(outcomes)
        source = str(outcomes)
    elif truth is not None:
        realised = expected_outcomes(frame, read_json_file(truth, "truth"), source=str(truth))
        source = str(truth)
    else:
        raise DataFileError(plan, "give --outcomes FILE or --truth truth.json")
    test = compare_strategies(frame, realised, detect_lift=detect_lift, source=source)
    payload = test.as_dict()
    console.print(
        f"challenger {test.mean_challenger:,.0f} vs champion {test.mean_champion:,.0f} net per "
        f"account: lift {test.lift:+.1%} (95% CI {test.lift_low:+.1%} to {test.lift_high:+.1%}), "
        f"p = {test.p_value:.3g}; {test.sample_size_per_arm:,} accounts per arm detect "
        f"{detect_lift:.0%} lift (80% power)"
    )
    if json_path is not None:
        json_path.write_text(dumps_json(payload), encoding="utf-8")
