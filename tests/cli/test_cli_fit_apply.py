"""`loanrecovery fit` then `apply`: the bundle round-trips through a file, a project file
configures both, and bad bundles end in one line with exit code 2."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from loanrecovery.bundle import read_manifest
from loanrecovery.cli import app
from loanrecovery.early_warning.sequence import torch_available

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


def test_fit_with_an_unknown_early_warning_model_is_one_line(book_dir, tmp_path):
    done = runner.invoke(
        app,
        ["fit", "--data", str(book_dir), "--bundle", str(tmp_path / "b.bundle")]
        + ["--early-warning-model", "lstm"],
    )
    assert done.exit_code == 2 and "Traceback" not in done.output
    assert "--early-warning-model" in done.output and "gbm, sequence, blend, auto" in done.output


@pytest.mark.skipif(not torch_available(), reason="the deep extra is not installed")
def test_fit_with_the_sequence_model_keeps_it_in_the_bundle(book_dir, tmp_path):
    # Slow (about 25 CPU-seconds, 60-80 s wall on the shared machine): the whole fit plus
    # three small GRU fits, the only test of the option through the command line.
    bundle = tmp_path / "seq.bundle"
    done = runner.invoke(
        app,
        ["fit", "--data", str(book_dir), "--bundle", str(bundle)]
        + ["--early-warning-model", "sequence"],
    )
    assert done.exit_code == 0, done.output
    manifest = read_manifest(bundle)
    assert manifest["early_warning_model"] == "sequence"
    assert manifest["config"]["early_warning_model"] == "sequence"
    out = tmp_path / "out"
    done = runner.invoke(
        app, ["apply", "--bundle", str(bundle), "--data", str(book_dir), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert len(pd.read_csv(out / "watchlist.csv")) > 0
