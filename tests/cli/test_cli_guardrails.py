"""Guardrails on the command line: too many rejected rows stop with exit code 3 and the top
reasons, ``--accept-rejects`` / ``--max-reject-share`` go on, ``--decimal ,`` reads a
decimal-comma book, and an output folder holds one run's files with its ``run.json``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.conftest import make_loans
from typer.testing import CliRunner

from loanrecovery.cli import app

runner = CliRunner()


def _comma(value: float) -> str:
    return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


# The tests that pass the guardrail use tables without an outcome column: `fit` then stops
# at its next check ("no outcome to learn from", exit 2), which shows the guardrail let the
# book through without fitting a model (seconds, not a minute).
NEXT_CHECK = "no outcome to learn from"


@pytest.fixture(scope="module")
def comma_book(tmp_path_factory):
    """A 300-loan table written the German way: ';' between fields, ',' before decimals."""
    loans = make_loans(300, seed=5, with_target=False).drop(columns="Recovery_Status")
    text = loans.astype(object)
    for column in loans.columns[loans.dtypes == "float64"]:
        text[column] = [_comma(v) for v in loans[column]]
    path = tmp_path_factory.mktemp("comma") / "loans.csv"
    text.to_csv(path, sep=";", index=False)
    return path


def test_too_many_rejects_stop_with_exit_3_the_reasons_and_the_rejects(tmp_path):
    loans = make_loans(200, seed=7).astype(object)
    loans.loc[:79, "Interest_Rate"] = [_comma(v) for v in loans.loc[:79, "Interest_Rate"]]
    data = tmp_path / "loans.csv"
    loans.to_csv(data, index=False)
    out = tmp_path / "out"
    args = ["run", "--data", str(data), "--out", str(out)]
    done = runner.invoke(app, args)
    assert done.exit_code == 3, done.output
    assert "80 of 200 rows of the loans table rejected (40.0%)" in done.output
    first = ", ".join(repr(v) for v in loans.loc[:2, "Interest_Rate"])
    assert "Interest_Rate: decimal comma" in done.output and first in done.output
    assert "--accept-rejects" in done.output and "Traceback" not in done.output
    rejects = pd.read_csv(out / "rejects.csv")
    assert rejects["Row"].nunique() == 80
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "stopped: TooManyRejectsError"
    assert record["files"]["rejects"] == "rejects.csv"
    assert record["inputs"]["data"]["sha256"]
    # the same folder again: the earlier run's files are removed, and named
    again = runner.invoke(app, args)
    assert again.exit_code == 3
    assert "removed the earlier run's files" in again.output and "rejects.csv" in again.output


def test_an_output_folder_with_foreign_files_is_refused(comma_book, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me\n", encoding="utf-8")
    done = runner.invoke(app, ["run", "--data", str(comma_book), "--out", str(tmp_path)])
    assert done.exit_code == 2
    assert "mine.txt" in done.output and "refusing to mix" in done.output


def _partly_bad(tmp_path, share: float):
    loans = make_loans(200, seed=6, with_target=False).drop(columns="Recovery_Status")
    loans = loans.astype(object)
    bad = int(len(loans) * share)
    loans.loc[: bad - 1, "Age"] = "n/a"
    path = tmp_path / "loans.csv"
    loans.to_csv(path, index=False)
    return path


def test_the_limit_is_configurable_and_accept_rejects_goes_on(tmp_path):
    data = _partly_bad(tmp_path, 0.3)
    bundle = tmp_path / "b.bundle"
    base = ["fit", "--data", str(data), "--bundle", str(bundle)]
    stopped = runner.invoke(app, base)
    assert stopped.exit_code == 3
    assert "60 of 200 rows" in stopped.output and "'n/a'" in stopped.output
    assert not bundle.exists()
    raised = runner.invoke(app, [*base, "--max-reject-share", "0.35"])
    assert raised.exit_code == 2 and NEXT_CHECK in raised.output, raised.output
    accepted = runner.invoke(app, [*base, "--accept-rejects"])
    assert accepted.exit_code == 2 and NEXT_CHECK in accepted.output, accepted.output
    project = tmp_path / "loanrecovery.toml"
    project.write_text("[limits]\nmax_reject_share = 0.1\n", encoding="utf-8")
    config = runner.invoke(app, [*base, "--config", str(project), "--max-reject-share", "0.2"])
    assert config.exit_code == 3  # the option overrides the file, and 30% is above both


def test_decimal_comma_reads_the_book_right(comma_book, tmp_path):
    bundle = tmp_path / "b.bundle"
    done = runner.invoke(
        app,
        [
            "fit",
            "--data",
            str(comma_book),
            "--delimiter",
            ";",
            "--decimal",
            ",",
            "--bundle",
            str(bundle),
        ],
    )
    assert done.exit_code == 2 and NEXT_CHECK in done.output, done.output
    without = runner.invoke(
        app, ["fit", "--data", str(comma_book), "--delimiter", ";", "--bundle", str(bundle)]
    )
    assert without.exit_code == 2 and "no row passed the data contract" in without.output


def test_a_wrong_decimal_option_is_one_line_exit_2(comma_book, tmp_path):
    done = runner.invoke(
        app, ["fit", "--data", str(comma_book), "--decimal", ";", "--bundle", str(tmp_path / "b")]
    )
    assert done.exit_code == 2 and "--decimal: expected '.' or ','" in done.output


def test_evaluate_stops_on_too_many_rejected_rows(tmp_path):
    loans = make_loans(70, seed=8)
    data = tmp_path / "table.csv"
    broken = ",".join(["x"] * (loans.shape[1] + 2))  # more fields than the header: malformed
    data.write_text(loans.to_csv(index=False) + (broken + "\n") * 30, encoding="utf-8")
    done = runner.invoke(app, ["evaluate", "--data", str(data), "--target", "Default_Next_6M"])
    assert done.exit_code == 3, done.output
    assert "30 of 100 rows of the data table rejected" in done.output
    assert "malformed record" in done.output


def test_evaluate_refuses_decimal_commas_and_names_the_option(comma_book, tmp_path):
    table = pd.read_csv(comma_book, sep=";", dtype=str).assign(Bad=["1", "0"] * 150)
    data = tmp_path / "table.csv"
    table.to_csv(data, sep=";", index=False)
    args = ["evaluate", "--data", str(data), "--target", "Bad", "--delimiter", ";"]
    done = runner.invoke(app, args)
    assert done.exit_code == 2, done.output
    assert "decimal comma" in done.output and "--decimal ','" in done.output


def test_simulate_records_its_run_and_replaces_an_earlier_one(tmp_path):
    out = tmp_path / "book"
    args = ["simulate", "--loans", "30", "--months", "6", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["command"] == "simulate" and record["configuration"]["loans"] == 30
    assert set(record["files"].values()) == {
        "loans.csv",
        "payments.csv",
        "collections.csv",
        "truth.json",
    }
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "removed the earlier run's files" in again.output
