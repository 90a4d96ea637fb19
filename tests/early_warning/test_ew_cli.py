"""The ``early-warning`` command: files written, bad input as one line and exit code 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from loanrecovery.cli import app

Book = tuple[pd.DataFrame, pd.DataFrame]


def _write(folder: Path, loans: pd.DataFrame, payments: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    loans.to_csv(folder / "loans.csv", index=False)
    payments.to_csv(folder / "payments.csv", index=False)


def _canonical(loans: pd.DataFrame) -> pd.DataFrame:
    """Add the canonical snapshot columns the loan contract requires."""
    return loans.assign(
        Outstanding_Loan_Amount=loans["Loan_Amount"] * 0.5,
        Payment_History="On-Time",
        Num_Missed_Payments=0,
        Days_Past_Due=0,
    )


def test_command_writes_watchlist_json_and_rejects(
    tmp_path: Path, book_factory: Callable[..., Book]
) -> None:
    loans, payments = book_factory(n_loans=250, n_months=20, seed=2)
    bad = payments.iloc[[0]].assign(Amount_Paid=-5.0, Month=99)
    _write(tmp_path / "data", _canonical(loans), pd.concat([payments, bad]))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "early-warning",
            "--data",
            str(tmp_path / "data"),
            "--json",
            str(tmp_path / "m.json"),
            "--out",
            str(out),
            "--alert-budget",
            "0.2",
        ],
    )
    assert res.exit_code == 0, res.output
    watch = pd.read_csv(out / "watchlist.csv")
    assert {"Loan_ID", "P3", "P6", "Expected_Months_To_Default", "Segment", "Reasons"} <= set(
        watch.columns
    )
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["alert_budget"] == 0.2
    rejects = pd.read_csv(out / "payment_rejects.csv")
    assert len(rejects) == 1 and "negative" in rejects.loc[0, "Reason"]


def test_missing_payments_file_is_one_line_exit_2(
    tmp_path: Path, book_factory: Callable[..., Book]
) -> None:
    loans, _ = book_factory(n_loans=20, n_months=5, seed=2)
    (tmp_path / "data").mkdir()
    _canonical(loans).to_csv(tmp_path / "data" / "loans.csv", index=False)
    res = CliRunner().invoke(app, ["early-warning", "--data", str(tmp_path / "data")])
    assert res.exit_code == 2
    assert "payments.csv" in res.output
    assert "Traceback" not in res.output
