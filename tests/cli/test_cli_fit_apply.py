"""`loanrecovery fit` then `apply`: the bundle round-trips through a file, a project file
configures both, and bad bundles end in one line with exit code 2."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from loanrecovery.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    result = runner.invoke(
        app, ["simulate", "--loans", "700", "--months", "18", "--seed", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_fit_then_apply_writes_the_work_files(book_dir, tmp_path):
    (tmp_path / "loanrecovery.toml").write_text(
        "seed = 42\n[limits]\nalert_budget = 0.05\n", encoding="utf-8"
    )
    bundle = tmp_path / "book.bundle"
    config = ["--config", str(tmp_path / "loanrecovery.toml")]
    done = runner.invoke(app, ["fit", "--data", str(book_dir), "--bundle", str(bundle), *config])
    assert done.exit_code == 0, done.output
    assert "bundle written" in done.output and bundle.is_file()
    out = tmp_path / "out"
    done = runner.invoke(
        app, ["apply", "--bundle", str(bundle), "--data", str(book_dir), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    scored = pd.read_csv(out / "scored_loans.csv")
    loans = pd.read_csv(book_dir / "loans.csv")
    assert len(scored) == len(loans)
    watchlist = pd.read_csv(out / "watchlist.csv")
    assert watchlist["Alert"].mean() <= 0.05 + 1 / len(watchlist)
    assert (out / "plan.csv").is_file() and (out / "apply.json").is_file()


def test_a_broken_bundle_is_one_line_and_exit_2(book_dir, tmp_path):
    bad = tmp_path / "bad.bundle"
    bad.write_bytes(b"not a bundle")
    done = runner.invoke(
        app, ["apply", "--bundle", str(bad), "--data", str(book_dir), "--out", str(tmp_path)]
    )
    assert done.exit_code == 2
    assert "bad.bundle" in done.output and "Traceback" not in done.output
