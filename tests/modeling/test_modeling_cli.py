"""`evaluate`, `train` and `score` from the command line on small simulated tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.modeling.conftest import make_table
from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.modeling.model_file import read_card

runner = CliRunner()
JSON_KEYS = {
    "auc", "gini", "ks", "brier", "log_loss", "ece", "accuracy", "precision", "recall", "f1",
    "threshold", "n_rows", "n_excluded", "positive_rate", "validation", "champion", "seconds",
    "baseline",
}  # fmt: skip


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = make_table(n=600, seed=3)
    frame["Year"] = 2000 + (pd.Series(range(len(frame))) * 10 // len(frame))
    frame.loc[[0, 1, 2], "TARGET_LABEL_BAD=1"] = None
    path = tmp_path_factory.mktemp("cli") / "loans.csv"
    frame.to_csv(path, index=False)
    return path


def test_evaluate_writes_the_documented_json(table_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "metrics.json"
    result = runner.invoke(
        app,
        ["evaluate", "--data", str(table_csv), "--target", "TARGET_LABEL_BAD=1",
         "--folds", "2", "--drop", "Year", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert JSON_KEYS <= set(metrics)
    assert set(metrics["baseline"]) >= {"auc", "brier", "f1", "threshold"}
    assert metrics["n_excluded"] == 3
    assert metrics["n_rows"] == 597
    assert "Gender" in metrics["excluded_columns"]
    assert metrics["fairness"][0]["column"] == "Gender"
    assert 0.5 < metrics["auc"] <= 1


def test_evaluate_out_of_time(table_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "oot.json"
    result = runner.invoke(
        app,
        ["evaluate", "--data", str(table_csv), "--target", "TARGET_LABEL_BAD=1",
         "--folds", "2", "--time-col", "Year", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert metrics["validation"].startswith("out-of-time")
    assert "Year" not in metrics["features"]


def test_evaluate_asks_for_positive(tmp_path: Path) -> None:
    frame = make_table(n=200, seed=4)
    frame["status"] = frame.pop("TARGET_LABEL_BAD=1").map({0: "paid", 1: "charged off"})
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["evaluate", "--data", str(path), "--target", "status"])
    assert result.exit_code == 2
    assert "--positive" in result.output


def test_train_then_score(table_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.lrm"
    result = runner.invoke(
        app,
        ["train", "--data", str(table_csv), "--target", "TARGET_LABEL_BAD=1",
         "--model-out", str(model), "--folds", "2", "--drop", "Year"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "other folds" in read_card(model)["metrics"]["threshold_rule"]
    scored = tmp_path / "scored.csv"
    result = runner.invoke(
        app, ["score", "--data", str(table_csv), "--model", str(model), "--out", str(scored)]
    )
    assert result.exit_code == 0, result.output
    assert "PSI" in result.output
    out = pd.read_csv(scored)
    assert list(out.columns) == [
        "Loan_ID", "pd", "score_band", "segment", "strategy",
        "reason_1", "reason_2", "reason_3", "reason_4",
    ]  # fmt: skip
    assert len(out) == 600
    bare = tmp_path / "bare.csv"
    result = runner.invoke(
        app,
        ["score", "--data", str(table_csv), "--model", str(model), "--out", str(bare),
         "--reasons", "0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "reason_1" not in pd.read_csv(bare).columns

    # A semicolon file: refused with a pointer to --delimiter, scored the same with it.
    semi = tmp_path / "semicolon.csv"
    pd.read_csv(table_csv).to_csv(semi, sep=";", index=False)
    semi_out = tmp_path / "semi_scored.csv"
    args = ["score", "--data", str(semi), "--model", str(model), "--out", str(semi_out)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "--delimiter" in refused.output
    result = runner.invoke(app, [*args, "--delimiter", "semicolon"])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(semi_out), out)
    semi_model = tmp_path / "semi.lrm"
    train_args = ["train", "--data", str(semi), "--target", "TARGET_LABEL_BAD=1",
                  "--model-out", str(semi_model), "--folds", "2", "--drop", "Year"]  # fmt: skip
    assert runner.invoke(app, train_args).exit_code == 2
    result = runner.invoke(app, [*train_args, "--delimiter", ";"])
    assert result.exit_code == 0, result.output
    assert semi_model.is_file()


def test_score_refuses_a_damaged_model(table_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "broken.lrm"
    model.write_bytes(b"PK\x03\x04 not really a zip")
    result = runner.invoke(
        app,
        [
            "score",
            "--data",
            str(table_csv),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "truncated or damaged" in result.output


def test_score_counts_values_that_are_not_numbers_per_column(
    table_csv: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.lrm"
    train = ["train", "--data", str(table_csv), "--target", "TARGET_LABEL_BAD=1",
             "--model-out", str(model), "--folds", "2", "--drop", "Year"]  # fmt: skip
    assert runner.invoke(app, train).exit_code == 0
    frame = pd.read_csv(table_csv, dtype=str)
    frame.loc[[5, 6], "Utilisation"] = ["inf", "lots"]
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    scored = tmp_path / "scored.csv"
    args = ["score", "--data", str(broken), "--model", str(model), "--out", str(scored)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "'Utilisation'" in result.output and "read as missing" in result.output
    assert len(pd.read_csv(scored)) == 600
    result = runner.invoke(app, [*args, "--strict"])
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "scored_rejects.csv")
    assert sorted(rejects["Row"]) == [7, 8]
    assert len(pd.read_csv(scored)) + len(rejects) == 600
