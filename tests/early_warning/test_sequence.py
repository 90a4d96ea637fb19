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
