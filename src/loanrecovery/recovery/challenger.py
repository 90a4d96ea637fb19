"""Champion/challenger: a reproducible random share of accounts for a challenger policy,
and the test of the outcomes once they are known.

Assignment hashes ``(seed, Loan_ID)``, so an account keeps its arm whatever the order or
the size of the file, and the log (``Arm`` column of ``plan.csv``) is enough to audit it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loanrecovery.contract.numbers import parse_numbers
from loanrecovery.exceptions import DataFileError

__all__ = [
    "assign_arms",
    "ChallengerTest",
    "compare_strategies",
    "sample_size_per_arm",
    "expected_outcomes",
]


def assign_arms(loan_ids: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """True for accounts in the challenger arm (about ``share`` of them)."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"challenger share must be in [0, 1), got {share}")
    u = np.array(
        [
            int.from_bytes(hashlib.blake2b(f"{seed}:{lid}".encode(), digest_size=8).digest(), "big")
            / 2.0**64
            for lid in loan_ids
        ]
    )
    return u < share


def sample_size_per_arm(
    sd: float, mean: float, lift: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Accounts per arm to detect a relative ``lift`` of the mean with a two-sided test."""
    delta = abs(lift * mean)
    if delta == 0 or not math.isfinite(sd):
        return 0
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return int(math.ceil(2 * (z * sd / delta) ** 2))


@dataclass(frozen=True)
class ChallengerTest:
    """Welch test of net recovery per account, challenger against champion."""

    n_champion: int
    n_challenger: int
    mean_champion: float
    mean_challenger: float
    lift: float
    lift_low: float
    lift_high: float
    p_value: float
    sample_size_per_arm: int
    detect_lift: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in vars(self).items()}


def _finite(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    """A column of finite numbers, or an error naming the first row that is not one."""
    parsed = parse_numbers(frame[column])
    bad = parsed.problems.notna() | parsed.values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(
            source,
            f"row {row + 2}: {frame[column].iloc[row]!r} is not a finite amount; expected a number",
            column=column,
        )
    return parsed.values


def compare_strategies(
    plan: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    detect_lift: float = 0.05,
    source: str = "outcomes",
) -> ChallengerTest:
    """Compare the arms of ``plan`` on realised ``outcomes``.

    Parameters
    ----------
    plan : DataFrame
        ``Loan_ID`` and ``Arm`` (``champion``/``challenger``).
    outcomes : DataFrame
        ``Loan_ID``, ``Recovered_Amount`` and ``Cost`` per account.
    detect_lift : float, default 0.05
        Relative lift for the sample-size figure.
    """
    for frame, cols, name in (
        (plan, ("Loan_ID", "Arm"), "plan"),
        (outcomes, ("Loan_ID", "Recovered_Amount", "Cost"), source),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataFileError(name, f"missing column(s) {missing}; expected {list(cols)}")
    outcomes = outcomes.assign(
        Recovered_Amount=_finite(outcomes, "Recovered_Amount", source),
        Cost=_finite(outcomes, "Cost", source),
    )
    merged = plan[["Loan_ID", "Arm"]].merge(outcomes, on="Loan_ID", how="inner")
    net = merged["Recovered_Amount"] - merged["Cost"]
    champ = net[merged["Arm"] == "champion"].to_numpy()
    chall = net[merged["Arm"] == "challenger"].to_numpy()
    if champ.size < 2 or chall.size < 2:
        raise DataFileError(
            source,
            f"need at least 2 accounts with outcomes per arm, found "
            f"{champ.size} champion and {chall.size} challenger",
        )
    t = stats.ttest_ind(chall, champ, equal_var=False)
    diff = chall.mean() - champ.mean()
    se = math.sqrt(chall.var(ddof=1) / chall.size + champ.var(ddof=1) / champ.size)
    z = float(stats.norm.ppf(0.975))
    base = champ.mean() if champ.mean() != 0 else float("nan")
    sd = float(np.sqrt((champ.var(ddof=1) + chall.var(ddof=1)) / 2))
    return ChallengerTest(
        n_champion=int(champ.size),
        n_challenger=int(chall.size),
        mean_champion=float(champ.mean()),
        mean_challenger=float(chall.mean()),
        lift=float(diff / base),
        lift_low=float((diff - z * se) / base),
        lift_high=float((diff + z * se) / base),
        p_value=float(t.pvalue),
        sample_size_per_arm=sample_size_per_arm(sd, float(champ.mean()), detect_lift),
        detect_lift=detect_lift,
    )


def expected_outcomes(
    plan: pd.DataFrame, truth: dict[str, Any], *, source: str = "truth.json"
) -> pd.DataFrame:
    """Outcomes of a plan on a simulated book: the simulator's expected 12-month recovery and
    cost of each account's assigned action (evaluation only: reads ``truth.json``).

    Accounts without an action, or not in the truth, get no row.

    Raises
    ------
    DataFileError
        ``truth`` is not a simulated book's truth (no ``potential_outcomes.snapshot``).
    """
    if not {"Loan_ID", "Action"} <= set(plan.columns):
        raise DataFileError("plan", "expected Loan_ID and Action columns (optimize's plan.csv)")
    snap = truth.get("potential_outcomes", {}) if isinstance(truth, dict) else None
    snap = snap.get("snapshot") if isinstance(snap, dict) else None
    if not isinstance(snap, dict) or not all(isinstance(v, dict) for v in snap.values()):
        raise DataFileError(
            source, "not a simulated book's truth.json (no potential_outcomes.snapshot)"
        )
    rows = [
        (lid, *_pair(snap[str(lid)][action], source))
        for lid, action in zip(plan["Loan_ID"], plan["Action"], strict=True)
        if isinstance(action, str) and action in snap.get(str(lid), {})
    ]
    return pd.DataFrame(rows, columns=["Loan_ID", "Recovered_Amount", "Cost"])


def _pair(value: Any, source: str) -> tuple[float, float]:
    """(recovery, cost) of one action in the truth, both finite numbers."""
    ok = isinstance(value, list | tuple) and len(value) == 2
    ok = ok and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    if not ok:
        raise DataFileError(
            source, f"outcome {value!r} is not a pair of finite numbers (recovery, cost)"
        )
    return float(value[0]), float(value[1])
