"""Reasons as users read them: `run`'s scored_loans.csv and `score`'s output, in plain words."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from tests.modeling.conftest import make_table
from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.contract.schema import LOAN_COLUMNS

runner = CliRunner()
#: A raw column name (word_word), a one-hot "=level 1" or a flag value "1.0".
RAW = re.compile(r"[A-Za-z]_[A-Za-z]|=|\b[01]\.0\b|\s1$")


def _check(frame: pd.DataFrame, prefix: str) -> list[str]:
    columns = [c for c in frame.columns if c.lower().startswith(prefix)]
    assert columns, frame.columns
    texts = [t for c in columns for t in frame[c].fillna("").astype(str) if t]
    assert texts
    bad = [t for t in texts if RAW.search(t) or any(name in t for name in LOAN_COLUMNS)]
    assert not bad, bad[:5]
    # a safe value is never given as raising risk
    wrong = [
        t
        for t in texts
        if t.startswith(("not past due", "no missed payments")) and not t.endswith("(lowers risk)")
    ]
    assert not wrong, wrong[:5]
    return texts


def test_run_reasons_are_plain(tmp_path: Path) -> None:
    book = tmp_path / "book"
    done = runner.invoke(
        app, ["simulate", "--loans", "500", "--months", "18", "--seed", "5", "--out", str(book)]
    )
    assert done.exit_code == 0, done.output
    out = tmp_path / "out"
    done = runner.invoke(app, ["run", "--data", str(book), "--out", str(out)])
    assert done.exit_code == 0, done.output
    texts = _check(pd.read_csv(out / "scored_loans.csv"), "reason_")
    assert any("past due" in t or "payment" in t for t in texts)


def test_score_reasons_are_plain(tmp_path: Path) -> None:
    frame = make_table(n=500, seed=8)
    frame["Revol_Util-Pct"] = frame["Utilisation"] * 100
    data = tmp_path / "loans.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "model.lrm"
    args = ["train", "--data", str(data), "--target", "TARGET_LABEL_BAD=1"]
    done = runner.invoke(app, [*args, "--model-out", str(model), "--folds", "2"])
    assert done.exit_code == 0, done.output
    scored = tmp_path / "scored.csv"
    args = ["score", "--data", str(data), "--model", str(model), "--out", str(scored)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    texts = _check(pd.read_csv(scored), "reason_")
    assert any("training loans" in t for t in texts)  # placed in the training population
    assert not any("Revol" in t and "Pct" in t for t in texts)
