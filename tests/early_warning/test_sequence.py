"""The sequence model: no look-ahead, determinism, persistence, the clear error without torch."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from loanrecovery.contract.payments import validate_panel
from loanrecovery.early_warning._sequence_data import CHANNELS, build_sequences
from loanrecovery.early_warning.sequence import (
    DeepExtraMissingError,
    SequenceClassifier,
    torch_available,
)
from loanrecovery.early_warning.targets import make_targets
from loanrecovery.exceptions import LoanRecoveryError

Book = tuple[pd.DataFrame, pd.DataFrame]
TINY = {"hidden_size": 8, "max_epochs": 2, "patience": 1, "batch_size": 64}
needs_torch = pytest.mark.skipif(not torch_available(), reason="the deep extra is not installed")


@pytest.fixture(scope="module")
def book(book_factory: Callable[..., Book]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    loans, payments = book_factory(n_loans=200, n_months=24, seed=3)
    panel = validate_panel(payments, loans).accepted
    return loans, panel, 14


def _targets(panel: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    t = make_targets(panel, (3, 6, 12), as_of=cutoff)
    y = t[["Y_3", "Y_6", "Y_12"]].copy()
    y.loc[~t["Performing"].to_numpy()] = np.nan
    return y


def _scrambled_after(panel: pd.DataFrame, cutoff: int, seed: int) -> pd.DataFrame:
    """The same panel with every month after ``cutoff`` replaced by random values."""
    rng = np.random.default_rng(seed)
    late = panel["Month"].to_numpy() > cutoff
    out = panel.copy()
    for col in ("Amount_Due", "Amount_Paid", "Outstanding_Balance"):
        out.loc[late, col] = rng.uniform(0, 5_000, late.sum()).round(2)
    out.loc[late, "Days_Past_Due"] = rng.choice([0, 30, 60, 90, 120], late.sum())
    return out


def test_sequence_inputs_of_earlier_months_ignore_later_months(book: tuple) -> None:
    loans, panel, cutoff = book
    a = build_sequences(panel, loans)
    b = build_sequences(_scrambled_after(panel, cutoff, 1), loans)
    early = a.months <= cutoff
    assert early.sum() > 1000 and (a.months > cutoff).any()
    np.testing.assert_array_equal(a.seq[early], b.seq[early])
    np.testing.assert_array_equal(a.static, b.static)
    assert a.seq.shape[2] == len(CHANNELS)


def test_rows_map_back_to_the_panel(book: tuple) -> None:
    loans, panel, _ = book
    data = build_sequences(panel, loans)
    np.testing.assert_array_equal(data.months[data.row_loan, data.row_step], panel["Month"])


@needs_torch
def test_predictions_before_the_cutoff_ignore_later_months(book: tuple) -> None:
    loans, panel, cutoff = book
    later = _scrambled_after(panel, cutoff, 2)
    y = _targets(panel, cutoff)
    model_a = SequenceClassifier(random_state=0, **TINY).fit(panel, loans, y)
    model_b = SequenceClassifier(random_state=0, **TINY).fit(later, loans, y)
    for name, w in model_a.weights_.items():
        np.testing.assert_array_equal(w, model_b.weights_[name])
    early = panel["Month"].to_numpy() <= cutoff
    p_a = model_a.predict_proba_horizons(panel, loans)
    p_b = model_a.predict_proba_horizons(later, loans)
    np.testing.assert_array_equal(p_a.to_numpy()[early], p_b.to_numpy()[early])
    assert not np.array_equal(p_a.to_numpy()[~early], p_b.to_numpy()[~early])


@needs_torch
def test_same_seed_same_probabilities(book: tuple) -> None:
    loans, panel, cutoff = book
    y = _targets(panel, cutoff)
    p = [
        SequenceClassifier(random_state=5, **TINY)
        .fit(panel, loans, y)
        .predict_proba_horizons(panel, loans)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(p[0], p[1], check_exact=True)
    other = SequenceClassifier(random_state=6, **TINY).fit(panel, loans, y)
    assert not np.array_equal(other.predict_proba_horizons(panel, loans), p[0])
    assert list(p[0].columns) == ["P_3", "P_6", "P_12"]
    assert (p[0]["P_6"] >= p[0]["P_3"]).all() and ((p[0] > 0) & (p[0] < 1)).all().all()


@needs_torch
def test_skops_round_trip_keeps_predictions(book: tuple) -> None:
    import skops.io as sio

    loans, panel, cutoff = book
    model = SequenceClassifier(random_state=1, **TINY).fit(panel, loans, _targets(panel, cutoff))
    blob = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=blob)
    assert untrusted == ["loanrecovery.early_warning.sequence.SequenceClassifier"]
    loaded = sio.loads(blob, trusted=untrusted)
    pd.testing.assert_frame_equal(
        model.predict_proba_horizons(panel, loans), loaded.predict_proba_horizons(panel, loans)
    )


@needs_torch
def test_single_class_training_rows_are_refused(book: tuple) -> None:
    loans, panel, cutoff = book
    y = _targets(panel, cutoff)
    y["Y_3"] = y["Y_3"].where(y["Y_3"].isna(), 0.0)
    with pytest.raises(ValueError, match="horizon 3: the training loan-months hold a single"):
        SequenceClassifier(**TINY).fit(panel, loans, y)


def test_clear_error_without_torch(book: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    loans, panel, cutoff = book
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert not torch_available()
    with pytest.raises(DeepExtraMissingError) as info:
        SequenceClassifier(**TINY).fit(panel, loans, _targets(panel, cutoff))
    assert isinstance(info.value, LoanRecoveryError)
    assert str(info.value).count("\n") == 0
    assert "pip install 'loanrecovery[deep]'" in str(info.value)


def _chain(hazard_logits: np.ndarray) -> np.ndarray:
    """The issue's formula, written out: P3 = s(h3), P6 = 1 - (1 - P3)(1 - s(h6)), ..."""
    sig = 1.0 / (1.0 + np.exp(-hazard_logits.astype(np.float64)))
    out = np.empty_like(sig)
    out[:, 0] = sig[:, 0]
    for k in range(1, sig.shape[1]):
        out[:, k] = 1.0 - (1.0 - out[:, k - 1]) * (1.0 - sig[:, k])
    return out


@needs_torch
def test_horizons_are_monotone_by_construction_without_clipping(book: tuple) -> None:
    import torch

    from loanrecovery.early_warning._sequence_net import GRUNet

    loans, panel, cutoff = book
    model = SequenceClassifier(random_state=2, **TINY).fit(panel, loans, _targets(panel, cutoff))
    # Weights that push the 6- and 12-month heads far below the 3-month one: separate
    # per-horizon probabilities would be inverted; the chained ones cannot be.
    rng = np.random.default_rng(0)
    weights = {
        k: (v + rng.normal(0, 0.5, v.shape)).astype(np.float32) for k, v in model.weights_.items()
    }
    weights["head.2.bias"] = np.array([4.0, -12.0, -12.0], dtype=np.float32)
    model.weights_ = weights
    probs = model.predict_proba_horizons(panel, loans)
    data = build_sequences(panel, loans)
    arrays = model._arrays(data)
    net = GRUNet(len(CHANNELS), data.static.shape[1], TINY["hidden_size"], 3)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    with torch.no_grad():
        raw = net(
            *(
                torch.from_numpy(arrays[k])
                for k in ("seq", "static", "type_code", "employment_code")
            )
        )
    hazards = raw.numpy()[data.row_loan, data.row_step]
    separate = 1.0 / (1.0 + np.exp(-hazards.astype(np.float64)))
    assert (separate[:, 1] < separate[:, 0]).mean() > 0.9  # unchained heads would invert
    np.testing.assert_allclose(probs.to_numpy(), _chain(hazards), rtol=1e-5, atol=1e-7)
    p = probs.to_numpy()
    assert (p[:, 0] <= p[:, 1]).all() and (p[:, 1] <= p[:, 2]).all()
    assert ((p > 0) & (p < 1)).all()


@needs_torch
def test_scoring_leaves_the_model_and_torch_settings_as_they_were(book: tuple) -> None:
    import copy

    import torch

    loans, panel, cutoff = book
    model = SequenceClassifier(random_state=4, **TINY).fit(panel, loans, _targets(panel, cutoff))
    before = copy.deepcopy(model.__dict__)
    threads = torch.get_num_threads()
    rng_state = torch.get_rng_state()
    first = model.predict_proba_last(panel, loans)
    again = model.predict_proba_last(panel, loans)  # the cached network
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert model.__dict__.keys() == before.keys()
    for name, w in before["weights_"].items():
        np.testing.assert_array_equal(model.weights_[name], w)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), rng_state)
    # The last month of each loan, as predict_proba_horizons gives it on every row.
    rows = model.predict_proba_horizons(panel, loans)
    last = rows.loc[panel.groupby("Loan_ID", sort=False).tail(1).index]
    np.testing.assert_allclose(last.to_numpy(), first.to_numpy(), rtol=1e-6)
    # A refit (new weights) is scored with a new network, not the cached one.
    model.fit(panel, loans, _targets(panel, cutoff - 2))
    assert not np.array_equal(model.predict_proba_last(panel, loans), first)


def test_unsorted_or_repeated_months_are_refused_with_the_row(book: tuple) -> None:
    loans, panel, _ = book
    swapped = panel.iloc[[1, 0, *range(2, len(panel))]].reset_index(drop=True)
    with pytest.raises(ValueError, match=r"panel row 1: loan .* month \d+ is repeated or out of"):
        build_sequences(swapped, loans)
    split = pd.concat([panel, panel.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match=rf"panel row {len(panel)}: loan .* two separate blocks"):
        build_sequences(split, loans)


def test_importing_the_network_changes_no_torch_setting() -> None:
    import subprocess

    code = (
        "import torch; torch.set_num_threads(2); s = torch.get_rng_state();"
        "import loanrecovery.early_warning._sequence_net as n;"
        "assert torch.get_num_threads() == 2 and torch.equal(s, torch.get_rng_state());"
        "assert not torch.are_deterministic_algorithms_enabled()"
    )
    if not torch_available():
        pytest.skip("the deep extra is not installed")
    subprocess.run([sys.executable, "-c", code], check=True)
