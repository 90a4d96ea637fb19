"""Chained horizon models: a longer horizon is never less likely, and nothing is clipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loanrecovery.early_warning.horizon import HorizonClassifiers


def _data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    hazard = 1 / (1 + np.exp(-(-3.0 + 1.2 * X["a"] - 0.5 * X["b"]).to_numpy()))
    month = np.full(n, np.inf)
    for m in range(1, 13):  # first default month, a monthly hazard
        hit = np.isinf(month) & (rng.random(n) < hazard / 3)
        month[hit] = m
    targets = pd.DataFrame({f"Y_{h}": (month <= h).astype(float) for h in (3, 6, 12)})
    return X, targets


def test_longer_horizons_are_chained_and_never_lower() -> None:
    X, targets = _data()
    model = HorizonClassifiers(horizons=(3, 6, 12), n_estimators=30, min_child_samples=50)
    model.fit(X, targets)
    p = model.predict_proba_horizons(X)
    assert list(p.columns) == ["P_3", "P_6", "P_12"]
    assert (p["P_3"] <= p["P_6"]).all() and (p["P_6"] <= p["P_12"]).all()
    # P(<= 6) = P(<= 3) + (1 - P(<= 3)) * Q(4-6 | survived 3), with Q the 6-month model's.
    q6 = model.models_[6].predict_proba(X.to_numpy(dtype=np.float32))[:, 1]
    np.testing.assert_allclose(p["P_6"], p["P_3"] + (1 - p["P_3"]) * q6, rtol=1e-12)
    # The conditional model learned on survivors only: its base rate is the conditional one.
    survived = targets["Y_3"] == 0
    assert model.base_rates_[6] == pytest.approx(targets.loc[survived, "Y_6"].mean())


def test_a_horizon_the_panel_cannot_label_is_left_out() -> None:
    X, targets = _data()
    targets["Y_12"] = np.where(targets["Y_6"] == 0, 0.0, np.nan)  # no default seen in 7-12
    model = HorizonClassifiers(horizons=(3, 6, 12), n_estimators=20, min_child_samples=50)
    p = model.fit(X, targets).predict_proba_horizons(X)
    assert list(p.columns) == ["P_3", "P_6"]
