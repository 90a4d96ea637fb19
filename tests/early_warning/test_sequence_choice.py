"""Model choice (gbm / sequence / blend / auto) in run_early_warning and the CLI."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.contract.payments import validate_panel
from loanrecovery.early_warning import run_early_warning
from loanrecovery.early_warning.model_choice import AUC_BAR, _pick, calibration
from loanrecovery.early_warning.sequence import DeepExtraMissingError, torch_available
from loanrecovery.early_warning.watchlist_model import WatchlistModel

Book = tuple[pd.DataFrame, pd.DataFrame]
TINY = {"hidden_size": 8, "max_epochs": 2, "patience": 1, "batch_size": 64}
needs_torch = pytest.mark.skipif(not torch_available(), reason="the deep extra is not installed")
KEYS = {"auc", "recall_at_budget", "precision_at_budget", "brier", "ece"}


@pytest.fixture(scope="module")
def book(book_factory: Callable[..., Book]) -> Book:
    return book_factory(n_loans=300, n_months=30, seed=4)


def test_calibration_of_a_perfectly_calibrated_score() -> None:
    p = np.repeat([0.1, 0.5], 1000)
    y = np.concatenate([np.r_[np.ones(100), np.zeros(900)], np.r_[np.ones(500), np.zeros(500)]])
    c = calibration(p, y, n_bins=2)
    assert c["ece"] == pytest.approx(0.0)
    assert c["brier"] == pytest.approx((0.1 * 0.9 + 0.5 * 0.5) / 2)
    assert calibration(np.full(10, 0.9), np.zeros(10))["ece"] == pytest.approx(0.9)


def _scores(gbm: tuple[float, float], seq: tuple[float, float], blend: tuple[float, float]):
    return {
        name: {str(h): {"auc": a} for h, a in zip((3, 6), aucs, strict=True)}
        for name, aucs in (("gbm", gbm), ("sequence", seq), ("blend", blend))
    }


def test_auto_leaves_gbm_only_when_the_bar_is_cleared_at_every_horizon() -> None:
    bar = AUC_BAR
    assert _pick("auto", _scores((0.8, 0.7), (0.79, 0.7), (0.8 + bar, 0.7 + bar)), (3, 6))[0] == (
        "blend"
    )
    assert _pick("auto", _scores((0.8, 0.7), (0.9, 0.7), (0.81, 0.701)), (3, 6))[0] == "gbm"
    assert _pick("auto", _scores((0.8, 0.7), (0.9, 0.8), (0.81, 0.71)), (3, 6))[0] == "sequence"
    assert _pick("blend", _scores((0.8, 0.7), (0.7, 0.6), (0.7, 0.6)), (3, 6)) == (
        "blend",
        "asked for",
    )


def test_gbm_choice_is_todays_model(book: Book) -> None:
    loans, payments = book
    a = run_early_warning(loans, payments, model="gbm", refit_for_watchlist=False)
    choice = a.metrics["model_choice"]
    assert choice["chosen"] == "gbm" and choice["validation"] == {}
    assert set(choice["test"]) == {"gbm"}
    assert set(choice["test"]["gbm"]["3"]) == KEYS
    assert choice["test"]["gbm"]["3"]["auc"] == a.metrics["horizons"]["3"]["auc"]


def test_auto_without_torch_is_gbm_and_says_so(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    loans, payments = book
    monkeypatch.setitem(sys.modules, "torch", None)
    r = run_early_warning(loans, payments, model="auto", refit_for_watchlist=False)
    assert r.metrics["model_choice"]["chosen"] == "gbm"
    assert "pip install 'loanrecovery[deep]'" in r.metrics["model_choice"]["reason"]
    with pytest.raises(DeepExtraMissingError):
        run_early_warning(loans, payments, model="sequence", refit_for_watchlist=False)


@needs_torch
def test_blend_reports_every_candidate_and_scores_with_the_blend(book: Book) -> None:
    loans, payments = book
    r = run_early_warning(
        loans, payments, model="blend", sequence_params=TINY, refit_for_watchlist=False
    )
    choice = json.loads(json.dumps(r.metrics["model_choice"]))
    assert choice["chosen"] == "blend"
    for window in ("validation", "test"):
        assert {"gbm", "sequence", "blend"} <= set(choice[window])
        for name in ("gbm", "sequence", "blend"):
            assert set(choice[window][name]) == {"3", "6"}
            assert set(choice[window][name]["6"]) == KEYS
    assert set(choice["blend_weights"]) == {"3", "6"}
    assert all(0 <= w <= 1 for w in choice["blend_weights"].values())
    assert r.metrics["horizons"]["3"]["auc"] == choice["test"]["blend"]["3"]["auc"]
    first, last = choice["validation"]["months"]
    assert last == r.details["cutoff"] and first < last
    assert r.watchlist["P3"].between(0, 1).all()
    # The blend scores the watchlist and is the model a bundle keeps.
    assert r.model is not None and r.model.kind == "blend"
    assert r.model.blend_weights == choice["blend_weights"]
    gbm_only = WatchlistModel(r.model.horizons, r.model.survival, 0.1)
    validated = validate_panel(payments, loans).accepted
    same = np.allclose(
        gbm_only.apply(validated, loans).sort_values("Loan_ID")["P3"],
        r.watchlist.sort_values("Loan_ID")["P3"],
    )
    assert same == (choice["blend_weights"]["3"] == 0.0)  # weight 0 is the GBM alone


def _write(folder: Path, book: Book) -> None:
    loans, payments = book
    folder.mkdir(parents=True, exist_ok=True)
    loans.assign(
        Outstanding_Loan_Amount=loans["Loan_Amount"] * 0.5,
        Payment_History="On-Time",
        Num_Missed_Payments=0,
        Days_Past_Due=0,
    ).to_csv(folder / "loans.csv", index=False)
    payments.to_csv(folder / "payments.csv", index=False)


def _cli(tmp_path: Path, model: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["early-warning", "--data", str(tmp_path / "data"), "--out", str(out), "--model", model]
        + ["--json", str(tmp_path / "m.json")],
    )
    return res.exit_code, res.output, tmp_path / "m.json"


def test_cli_model_gbm_and_bad_name(tmp_path: Path, book: Book) -> None:
    _write(tmp_path / "data", book)
    code, output, json_path = _cli(tmp_path, "gbm")
    assert code == 0, output
    assert json.loads(json_path.read_text())["model_choice"]["chosen"] == "gbm"
    assert "model: gbm (asked for)" in output
    code, output, _ = _cli(tmp_path, "forest")
    assert code == 2
    assert "--model 'forest' is not one of gbm, sequence, blend, auto" in output


def test_cli_sequence_without_torch_fails_in_one_line(
    tmp_path: Path, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "data", book)
    monkeypatch.setitem(sys.modules, "torch", None)
    code, output, _ = _cli(tmp_path, "sequence")
    assert code == 2
    assert "pip install 'loanrecovery[deep]'" in output
    assert "Traceback" not in output


@needs_torch
@pytest.mark.parametrize("model", ["sequence", "auto"])
def test_cli_sequence_and_auto_print_the_comparison(
    tmp_path: Path, book: Book, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    cli_module = importlib.import_module("loanrecovery.cli.early_warning")
    original = cli_module.run_early_warning

    def tiny_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        return original(*args, **{**kwargs, "sequence_params": TINY})

    monkeypatch.setattr(cli_module, "run_early_warning", tiny_run)
    _write(tmp_path / "data", book)
    code, output, json_path = _cli(tmp_path, model)
    assert code == 0, output
    choice = json.loads(json_path.read_text())["model_choice"]
    assert "Candidates on the validation months" in output
    assert set(choice["validation"]) == {"gbm", "sequence", "blend", "months"}
    if model == "sequence":
        assert choice["chosen"] == "sequence" and "Candidates on the test months" in output
    else:
        assert choice["chosen"] in {"gbm", "sequence", "blend"}
        assert f"model: {choice['chosen']}" in output


def test_cli_default_is_gbm(tmp_path: Path, book: Book) -> None:
    _write(tmp_path / "data", book)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["early-warning", "--data", str(tmp_path / "data"), "--out", str(out)]
        + ["--json", str(tmp_path / "m.json")],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "m.json").read_text())["model_choice"]["requested"] == "gbm"
