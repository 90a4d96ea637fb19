"""How far honest 5-fold out-of-fold AUC gets on Give Me Some Credit (the issue-3 bar 0.868).

Everything uses the rows, features and folds of ``loanrecovery evaluate`` (``prepare_table``
and 5 stratified folds, seed 42) and pooled out-of-fold AUC, the figure the bar is about:

1. the product's LightGBM (the champion ``evaluate`` picks on this table; checked below);
2. the same model under five other fold seeds: how much the figure moves with the split;
3. a heavier LightGBM: feature fraction 0.5, learning rate 0.02, three seeds averaged;
4. CatBoost (depth 6), when installed (``pip install -e '.[bench]'``), fitted as the
   product's GBM is: early stopping on an inner 15% split, then a refit on the whole
   training part with 1.1 times the trees found;
5. the scorecard;
6. the best weighted blend of 3-5, with the weights chosen on the same out-of-fold scores
   (so optimistic: an upper bound for a blend, not an honest estimate).

Each line gives the seconds its model took for the five folds. This is evidence about the
bar, not part of the product: nothing here is tuned into ``loanrecovery``'s defaults.

Usage: python benchmarks/bench_auc_ceiling.py [--data DIR]
"""

from __future__ import annotations

import os

# As the loanrecovery entry point does (loanrecovery/__main__.py): LightGBM's idle OpenMP
# threads wait passively. Set before LightGBM or scikit-learn loads OpenMP, which reads it once.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from loanrecovery.modeling.candidates import GBMScorer, ScorecardModel
from loanrecovery.modeling.champion import choose_champion
from loanrecovery.modeling.training import prepare_file
from loanrecovery.modeling.validation import Splits, cross_fit, stratified_splits

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"
BAR = 0.868


class SeedBag:
    """Average log-odds of several GBMScorers that differ only in their seed."""

    def __init__(self, seeds: tuple[int, ...], **params: object) -> None:
        self.seeds, self.params = seeds, params

    def oof(self, X: pd.DataFrame, y: np.ndarray, splits: Splits) -> np.ndarray:
        members = {
            f"seed {s}": GBMScorer(random_state=s, **self.params)  # type: ignore[arg-type]
            for s in self.seeds
        }
        scores = cross_fit(members, X, y, splits)
        return np.mean(list(scores.values()), axis=0)


def catboost_oof(X: pd.DataFrame, y: np.ndarray, splits: Splits) -> np.ndarray | None:
    try:
        from catboost import CatBoostClassifier
    except ImportError:
        return None
    out = np.full(len(y), np.nan)
    numeric = X.astype(float)
    params = dict(
        learning_rate=0.05, depth=6, thread_count=2, random_seed=42, verbose=0,
        allow_writing_files=False,
    )  # fmt: skip
    for fit_idx, test_idx in splits.pairs:
        inner_fit, inner_val = train_test_split(
            fit_idx, test_size=0.15, stratify=y[fit_idx], random_state=42
        )
        probe = CatBoostClassifier(
            iterations=3000, od_type="Iter", od_wait=150, use_best_model=True, **params
        )
        probe.fit(
            numeric.iloc[inner_fit],
            y[inner_fit],
            eval_set=(numeric.iloc[inner_val], y[inner_val]),
        )
        trees = max(1, round(1.1 * (probe.get_best_iteration() + 1)))
        model = CatBoostClassifier(iterations=trees, **params)
        model.fit(numeric.iloc[fit_idx], y[fit_idx])
        out[test_idx] = model.predict(numeric.iloc[test_idx], prediction_type="RawFormulaVal")
    return out


def best_blend(scores: dict[str, np.ndarray], y: np.ndarray) -> tuple[str, float]:
    """Best convex combination (weights on a 0.1 grid) of the standardised log-odds."""
    names = list(scores)
    z = {n: (s - s.mean()) / s.std() for n, s in scores.items()}
    best = ("", 0.0)
    grid = np.round(np.arange(0, 1.01, 0.1), 2)
    for weights in itertools.product(grid, repeat=len(names)):
        if abs(sum(weights) - 1) > 1e-9 or max(weights) == 1:
            continue
        auc = roc_auc_score(y, sum(w * z[n] for n, w in zip(names, weights, strict=True)))
        if auc > best[1]:
            label = " + ".join(f"{w:.1f} {n}" for n, w in zip(names, weights, strict=True) if w)
            best = (label, float(auc))
    return best


def line(name: str, auc: float, seconds: float | None) -> None:
    verdict = "reaches" if auc >= BAR else "below"
    took = "   no fit" if seconds is None else f"{seconds:6.1f} s"
    print(f"{name:<62} AUC {auc:.5f}  {took}  ({verdict} {BAR})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    options = parser.parse_args()
    _, prepared = prepare_file(
        options.data / "give_me_some_credit.csv.gz", target="SeriousDlqin2yrs"
    )
    X, y = prepared.X, prepared.y
    splits = stratified_splits(y, 5, 42)
    print(f"Give Me Some Credit: {len(y)} rows, {X.shape[1]} features, 5 folds (seed 42)")

    start = time.perf_counter()
    product = cross_fit({"gbm": GBMScorer()}, X, y, splits)["gbm"]
    line(
        "1. product LightGBM (evaluate's champion here)",
        roc_auc_score(y, product),
        time.perf_counter() - start,
    )

    for seed in range(5):
        start = time.perf_counter()
        other = stratified_splits(y, 5, seed)
        oof = cross_fit({"gbm": GBMScorer()}, X, y, other)["gbm"]
        line(
            f"2. product LightGBM, fold seed {seed}",
            roc_auc_score(y, oof),
            time.perf_counter() - start,
        )

    blends: dict[str, np.ndarray] = {}
    start = time.perf_counter()
    blends["heavy gbm"] = SeedBag((42, 43, 44), feature_fraction=0.5, learning_rate=0.02).oof(
        X, y, splits
    )
    line(
        "3. LightGBM ff 0.5, lr 0.02, 3 seeds averaged",
        roc_auc_score(y, blends["heavy gbm"]),
        time.perf_counter() - start,
    )

    start = time.perf_counter()
    cat = catboost_oof(X, y, splits)
    if cat is None:
        print("4. CatBoost: not installed (pip install -e '.[bench]'); left out")
    else:
        blends["catboost"] = cat
        line(
            "4. CatBoost depth 6, lr 0.05, early stopping, refit",
            roc_auc_score(y, cat),
            time.perf_counter() - start,
        )

    start = time.perf_counter()
    blends["scorecard"] = cross_fit({"sc": ScorecardModel()}, X, y, splits)["sc"]
    line(
        "5. scorecard (optimal bins, WoE, logistic)",
        roc_auc_score(y, blends["scorecard"]),
        time.perf_counter() - start,
    )

    label, auc = best_blend(blends, y)
    champion, _, _ = choose_champion({"gbm": product, "scorecard": blends["scorecard"]}, y)
    print(f"   evaluate's choice between the GBM and the scorecard (and blends): {champion}")
    line(f"6. best blend, weights chosen on these scores (optimistic): {label}", auc, None)


if __name__ == "__main__":
    main()
