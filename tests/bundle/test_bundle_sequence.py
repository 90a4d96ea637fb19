"""A bundle whose early-warning model is the sequence model (or the blend): fitted, saved as
skops (no pickle), loaded from bytes and applied like any other; a clear error without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from loanrecovery.bundle import Bundle, bundle_bytes, fit_with_report, load_bundle, save_bundle
from loanrecovery.config import Config
from loanrecovery.contract.book import Book, validate_book
from loanrecovery.early_warning.features import build_features
from loanrecovery.early_warning.sequence import torch_available
from loanrecovery.early_warning.watchlist_model import FEATURES, WatchlistModel, blend_logits
from loanrecovery.exceptions import PolicyError
from loanrecovery.simulate import simulate_portfolio

needs_torch = pytest.mark.skipif(not torch_available(), reason="the deep extra is not installed")


@pytest.fixture(scope="module")
def small_book() -> Book:
    sim = simulate_portfolio(n_loans=400, n_months=24, seed=5, truth=False)
    return validate_book(sim.loans, sim.payments, None, source="simulated")


@pytest.fixture(scope="module")
def seq_fit(small_book: Book):  # type: ignore[no-untyped-def]
    # Three small GRU fits (validation cut-off, test cut-off, every labelled month): ~10 s.
    return fit_with_report(small_book, Config(early_warning_model="sequence"))


@needs_torch
def test_sequence_bundle_round_trip_scores_with_the_sequence_model(
    small_book: Book, seq_fit: tuple
) -> None:
    bundle, report = seq_fit
    assert bundle.watchlist is not None and bundle.watchlist.kind == "sequence"
    assert bundle.manifest["early_warning_model"] == "sequence"
    assert report.early_warning.metrics["model_choice"]["chosen"] == "sequence"
    data = bundle_bytes(bundle)
    assert b"pickle" not in data.lower()
    loaded = load_bundle(data)
    assert loaded.watchlist is not None and loaded.watchlist.kind == "sequence"
    assert loaded.config.early_warning_model == "sequence"
    listed = loaded.apply(small_book).watchlist
    assert listed is not None and len(listed) > 100
    # The model's own predictions at each listed loan's latest month, from the whole panel.
    assert small_book.payments is not None
    panel = small_book.payments.reset_index(drop=True)
    own = loaded.watchlist.sequence.predict_proba_horizons(panel, small_book.loans)
    end = panel["Month"] == panel["Month"].max()
    own = own.loc[end.to_numpy()].set_index(panel.loc[end, "Loan_ID"].to_numpy())
    own = own.loc[listed["Loan_ID"].to_numpy()]
    np.testing.assert_allclose(listed["P3"], own["P_3"], atol=5.1e-5, rtol=0)
    np.testing.assert_allclose(listed["P6"], np.maximum(own["P_6"], own["P_3"]), atol=5.1e-5)
    # ... and not the GBM's: the two models disagree somewhere.
    gbm_listed = WatchlistModel(
        loaded.watchlist.horizons,
        loaded.watchlist.survival,
        loaded.watchlist.alert_budget,
    ).apply(small_book.payments, small_book.loans)
    assert not np.allclose(
        gbm_listed.sort_values("Loan_ID")["P3"], listed.sort_values("Loan_ID")["P3"]
    )
    # The fit's own watchlist is the loaded bundle's.
    fitted_list = report.early_warning.watchlist.set_index("Loan_ID")["P3"]
    np.testing.assert_allclose(
        fitted_list.loc[listed["Loan_ID"]].to_numpy(), listed["P3"].to_numpy(), atol=1e-4
    )
    # One account alone gets the same 3-month probability as in the book's watchlist.
    loan_id = listed["Loan_ID"].iloc[0]
    one = small_book.account(loan_id)
    result = loaded.apply_one(one)
    assert result.pd_3m == pytest.approx(float(listed["P3"].iloc[0]), abs=1e-4)


@needs_torch
def test_blend_weights_mix_the_two_models_by_logit(small_book: Book, seq_fit: tuple) -> None:
    bundle = seq_fit[0]
    w = bundle.watchlist
    weights = {"3": 0.3, "6": 0.7}
    blend = WatchlistModel(
        w.horizons,
        w.survival,
        w.alert_budget,
        w.alert_min_probability,
        sequence=w.sequence,
        blend_weights=weights,
    )
    assert blend.kind == "blend"
    listed = blend.apply(small_book.payments, small_book.loans)
    feats = build_features(small_book.payments, small_book.loans)
    latest = feats.loc[feats["Month"] == feats["Month"].max()].set_index("Loan_ID")
    ids = listed["Loan_ID"].to_numpy()
    p_gbm = w.horizons.predict_proba_horizons(latest.loc[ids, list(FEATURES)])
    seq = w.sequence.predict_proba_last(small_book.payments, small_book.loans)
    expected = blend_logits(p_gbm["P_3"].to_numpy(), seq.loc[ids, "P_3"].to_numpy(), 0.3)
    np.testing.assert_allclose(listed["P3"], expected, atol=5.1e-5, rtol=0)
    assert not np.allclose(listed["P3"], p_gbm["P_3"], atol=1e-3)
    loaded = load_bundle(bundle_bytes(_with_watchlist(bundle, blend)))
    assert loaded.watchlist.kind == "blend" and loaded.watchlist.blend_weights == weights


def _with_watchlist(bundle: Bundle, watchlist: WatchlistModel) -> Bundle:
    return Bundle(bundle.risk, bundle.config, bundle.manifest, watchlist, bundle.effects)


_NO_TORCH = """
import importlib.abc, sys

class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (blocked by the test)")
        return None

sys.meta_path.insert(0, _NoTorch())
from loanrecovery.bundle import load_bundle
from loanrecovery.early_warning.features import build_features
from loanrecovery.early_warning.sequence import DeepExtraMissingError
"""


def _without_torch(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "no_torch.py"
    script.write_text(_NO_TORCH + textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )


@needs_torch
def test_loading_a_sequence_bundle_without_torch_says_how_to_install(
    small_book: Book, seq_fit: tuple, tmp_path: Path
) -> None:
    seq_path = save_bundle(seq_fit[0], tmp_path / "sequence.bundle")
    gbm_path = save_bundle(fit_with_report(small_book)[0], tmp_path / "gbm.bundle")
    run = _without_torch(
        f"""
        try:
            load_bundle({str(seq_path)!r})
        except DeepExtraMissingError as exc:
            print("ERROR", exc)
        gbm = load_bundle({str(gbm_path)!r})
        print("GBM", gbm.watchlist.kind, "torch" in sys.modules)
        """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("ERROR ") and "sequence model" in lines[0]
    assert "pip install 'loanrecovery[deep]'" in lines[0]
    assert lines[1] == "GBM gbm False"


def test_early_warning_model_setting(tmp_path: Path) -> None:
    assert Config().early_warning_model == "gbm"
    assert Config().with_overrides(early_warning_model="auto").early_warning_model == "auto"
    with pytest.raises(PolicyError, match="--early-warning-model.*gbm, sequence, blend, auto"):
        Config().with_overrides(early_warning_model="lstm")
    record = Config(early_warning_model="blend").to_dict()
    assert Config.from_dict(record).early_warning_model == "blend"
    del record["early_warning_model"]  # bundles written before the setting existed
    assert Config.from_dict(record).early_warning_model == "gbm"
