"""``loanrecovery optimize`` and ``loanrecovery compare-strategies``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from loanrecovery.checks import output_dir, output_file, read_json_file, write_rejects
from loanrecovery.cli import _book_options as opts
from loanrecovery.cli._app import app, console, handle_errors, stage_status
from loanrecovery.cli.run import say_removed
from loanrecovery.config import Config, load_config, parse_capacities
from loanrecovery.contract.book import Book, read_book
from loanrecovery.exceptions import DataFileError, NoValidRowsError
from loanrecovery.io import read_table
from loanrecovery.jsonable import to_jsonable
from loanrecovery.recovery.catalogue import load_catalogue
from loanrecovery.recovery.challenger import compare_strategies, expected_outcomes
from loanrecovery.recovery.features import planned_loans
from loanrecovery.recovery.runner import (
    BOUND_ALL_ACCOUNTS,
    POLICIES,
    RecoveryResult,
    recovery_json,
    run_recovery,
)
from loanrecovery.recovery.section import recovery_section_html
from loanrecovery.report.files import write_json
from loanrecovery.report.run_folder import RunFolder
from loanrecovery.strategy import load_policy


def _read_book(data: Path) -> tuple[Book, dict | None]:
    if not data.is_dir():
        raise DataFileError(data, "not a directory; expected loans.csv and collections.csv in it")
    book = read_book(data)
    if book.collections is None:
        raise DataFileError(
            data / "collections.csv",
            "file not found (optimize needs loans.csv and collections.csv)",
        )
    truth = None
    if (data / "truth.json").is_file():  # evaluation only: the true_net_recovery figure
        truth = read_json_file(data / "truth.json", "truth")
    return book, truth


#: Score columns accepted by ``--scores``: ``run``'s scored_loans.csv, then ``score``'s output.
SCORE_COLUMNS = ("Risk_Score", "pd")


#: Segment columns read from ``--scores``: ``run``'s scored_loans.csv, then ``score``'s output.
SEGMENT_COLUMNS = ("Segment", "segment")


def read_segments(path: Path) -> pd.Series | None:
    """Risk segment per Loan_ID from the ``--scores`` file, when it has a segment column (so
    the plan's policy reads the same segments as the run that wrote it)."""
    frame = read_table(path, as_text=True)
    column = next((c for c in SEGMENT_COLUMNS if c in frame.columns), None)
    if column is None or "Loan_ID" not in frame.columns:
        return None
    return pd.Series(frame[column].astype(str).to_numpy(), index=frame["Loan_ID"].astype(str))


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
    budget: opts.BudgetOption = None,
    capacity: opts.CapacityOption = None,
    policy: Path = typer.Option(None, "--policy", help="Rule ladder of seed_rules (TOML)."),
    catalogue: Path = typer.Option(None, "--catalogue", help="Action catalogue (TOML)."),
    challenger: Path = typer.Option(None, "--challenger", help="Challenger rule ladder (TOML)."),
    challenger_share: float = typer.Option(
        0.1, "--challenger-share", min=0.0, max=0.9, help="Share of accounts for the challenger."
    ),
    scores: Path = typer.Option(
        None,
        "--scores",
        help="Risk scores for the original rules: run's scored_loans.csv (Risk_Score) or "
        "score's output (pd), with its risk segment (Segment/segment) when present. Default: a "
        "logistic proxy fit on loans.csv, and no segments (Unsegmented).",
    ),
    seed: opts.SeedOption = None,
    config: opts.ConfigOption = None,
    json_path: Path = typer.Option(
        None, "--json", help="JSON summary (default OUT/optimize.json)."
    ),
    out: Path = typer.Option(
        Path("out/optimize"),
        "--out",
        help="Output folder; it holds this run's files only (with run.json).",
    ),
) -> None:
    """Estimate action effects and write the optimized plan against the original rules."""
    settings = load_config(config).with_overrides(
        policy=None if policy is None else load_policy(policy),
        catalogue=None if catalogue is None else load_catalogue(catalogue),
        challenger=None if challenger is None else load_policy(challenger),
        budget=budget,
        capacities=parse_capacities(capacity),
        challenger_share=challenger_share if challenger else None,
        seed=seed,
    )
    output_dir(out, "--out", [data / "loans.csv", data / "collections.csv"])
    if json_path is not None:
        output_file(json_path, "--json", [data / "loans.csv", data / "collections.csv"])
    inputs = {"data": data, "policy": policy, "catalogue": catalogue, "scores": scores}
    with RunFolder(out, "optimize", inputs=inputs) as folder:
        folder.config = settings.to_dict()
        say_removed(folder)
        _optimize(folder, data, settings, scores, json_path)


def _optimize(
    folder: RunFolder, data: Path, settings: Config, scores: Path | None, json_path: Path | None
) -> None:
    out = folder.out
    book, truth = _read_book(data)
    folder.details["tables"] = book.counts()
    history = book.collections
    for name, frame in (("loans", book.loans), ("collections", history)):
        if frame is None or len(frame) == 0:
            # Every row rejected: write the rejects, then stop with one line naming them.
            written = write_rejects(
                book.rejects[name], folder.add(f"{name}_rejects", out / f"{name[:-1]}_rejects.csv")
            )
            raise NoValidRowsError(
                book.sources.get(name, name), book.rejects[name], written=written
            )
    assert history is not None  # checked by _read_book
    risk, segments = None, None
    if scores is not None:
        risk = read_risk_scores(scores)
        segments = read_segments(scores)
        delinquent = book.loans.loc[planned_loans(book.loans), "Loan_ID"].astype(str)
        missing = delinquent[~delinquent.isin(risk.index)]
        if len(missing):
            raise DataFileError(
                scores,
                f"{len(missing)} delinquent loan(s) have no score, e.g. {missing.iloc[0]!r}; "
                "expected a score for every loan of loans.csv",
                column="Loan_ID",
            )
    with stage_status("estimating action effects and optimizing the plan"):
        result = _recover(book, history, settings, risk, segments)
    _write(folder, book, result, truth, json_path)


def _recover(
    book: Book, history: pd.DataFrame, settings: Config, risk: Any, segments: pd.Series | None
) -> RecoveryResult:
    return run_recovery(
        book.loans,
        history,
        book.payments,
        risk_score=risk,
        segments=segments,
        **settings.plan_options(),
    )


def _write(
    folder: RunFolder, book: Book, result: RecoveryResult, truth: Any, json_path: Path | None
) -> None:
    out = folder.out
    out.mkdir(parents=True, exist_ok=True)
    counts = book.counts()
    for kind, name in (("loans", "loan"), ("collections", "collection"), ("payments", "payment")):
        rejects = book.rejects.get(kind)
        if rejects is None:
            continue
        if len(rejects):
            rejects.to_csv(folder.add(f"{name}_rejects", out / f"{name}_rejects.csv"), index=False)
            console.print(
                f"{counts[kind]['rejected']} of {counts[kind]['in']} rows of "
                f"{book.sources.get(kind, kind)} rejected: {out / f'{name}_rejects.csv'}"
            )
    plan = result.plans["optimized"]
    plan.to_csv(folder.add("plan", out / "plan.csv"), index=False)
    pd.concat(result.plans.values()).to_csv(folder.add("plans", out / "plans_all.csv"), index=False)
    result.effects.to_csv(folder.add("effects", out / "effects.csv"), index=False)
    payload = recovery_json(result, truth)
    json_path = folder.add("summary", json_path or out / "optimize.json")
    write_json(to_jsonable(payload), json_path)
    folder.add("section", out / "recovery_section.html").write_text(
        recovery_section_html(result), encoding="utf-8"
    )
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
        write_json(to_jsonable(payload), json_path)
