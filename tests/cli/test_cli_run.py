"""`loanrecovery run` end to end, and bad input: exit code 2, one line on stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from loanrecovery.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    result = runner.invoke(
        app, ["simulate", "--loans", "600", "--months", "24", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_run_on_simulated_book_writes_four_outputs(small_book, tmp_path):
    result = runner.invoke(app, ["run", "--data", str(small_book), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"scored_loans.csv", "rejects.csv", "metrics.json", "report.html"} <= names
    scored = pd.read_csv(tmp_path / "scored_loans.csv")
    loans = pd.read_csv(small_book / "loans.csv")
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert len(scored) + len(rejects) == len(loans)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["target"]["column"] == "Default_Next_6M"
    assert "report.html" in result.output
    # with a payment panel: the watchlist and the early-warning section
    watchlist = pd.read_csv(tmp_path / "watchlist.csv")
    assert len(watchlist) and watchlist["Loan_ID"].isin(loans["Loan_ID"]).all()
    assert set(metrics["early_warning"]["horizons"]) == {"3", "6"}
    assert 'id="early-warning"' in (tmp_path / "report.html").read_text()


def test_main_py_runs_like_run(small_book, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "main.py",
            "--data",
            str(small_book / "loans.csv"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").is_file()


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("header.csv", b"Loan_ID,Age\n", "header but no data rows"),
        ("binary.csv", bytes(range(256)) * 4, "binary data"),
        ("semi.csv", b"Loan_ID;Age;Monthly_EMI\nLN_1;3;4\n", "separated by ';'"),
        ("cols.csv", b"Loan_ID,Age\nLN_1,30\n", "required columns missing"),
    ],
)
def test_file_level_problems_exit_2_with_one_line(tmp_path, name, content, message):
    path = _write(tmp_path / name, content)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loanrecovery",
            "run",
            "--data",
            str(path),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0] and str(path) in lines[0]
    assert "Traceback" not in done.stderr


def test_missing_file_exit_2(tmp_path):
    result = runner.invoke(app, ["run", "--data", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_bad_policy_file_exit_2(tmp_path):
    policy = _write(tmp_path / "p.toml", b'[[rule]]\nname = "x"\naction = "Nope"\n')
    result = runner.invoke(app, ["run", "--policy", str(policy)])
    assert result.exit_code == 2
    assert "line 1" in result.output and "unknown action" in result.output


def test_every_row_rejected_still_writes_rejects(tmp_path, loans):
    frame = loans.head(5).copy()
    frame["Loan_Tenure"] = 0
    path = tmp_path / "loans_bad.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["run", "--data", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no row passed" in result.output
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    assert len(rejects) == 5 and set(rejects["Column"]) == {"Loan_Tenure"}


def test_target_with_one_class_is_a_clear_error(tmp_path, loans):
    path = tmp_path / "loans_one_class.csv"
    loans.assign(Default_Next_6M=0).to_csv(path, index=False)
    result = runner.invoke(app, ["run", "--data", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Default_Next_6M" in result.output and "both good (0) and bad (1)" in result.output


def test_trailing_empty_header_cells_are_tolerated(tmp_path, loans):
    path = tmp_path / "loans_trailing.csv"
    text = loans.to_csv(index=False).replace("\n", ",,\n")
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["run", "--data", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "out" / "scored_loans.csv")
    assert len(scored) == len(loans)


def test_short_panel_says_why_early_warning_did_not_run(tmp_path):
    book = tmp_path / "short"
    assert (
        runner.invoke(
            app, ["simulate", "--loans", "300", "--months", "10", "--out", str(book)]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["run", "--data", str(book), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert any(limit.startswith("Early warning could not run") for limit in metrics["limits"])
    assert not (tmp_path / "out" / "watchlist.csv").exists()


def test_bad_collection_rows_are_rejected_with_reasons(small_book, tmp_path):
    import shutil

    book = tmp_path / "book"
    shutil.copytree(small_book, book)
    history = pd.read_csv(book / "collections.csv", dtype=str)
    history.loc[0, "Cost"] = "abc"
    history.loc[1, "Action"] = "Voodoo"
    history.loc[2, "Loan_ID"] = "LN_NOT_THERE"
    history.to_csv(book / "collections.csv", index=False)
    for command in (["run"], ["optimize"]):
        out = tmp_path / command[0]
        result = runner.invoke(app, [*command, "--data", str(book), "--out", str(out)])
        assert result.exit_code == 0, result.output
        rejects = pd.read_csv(out / "collection_rejects.csv")
        assert rejects["Row"].tolist() == [2, 3, 4]
        assert rejects["Column"].tolist() == ["Cost", "Action", "Loan_ID"]
