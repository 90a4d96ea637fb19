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
    merged = plan[["Loan_ID", "Arm"]].merge(outcomes, on="Loan_ID", how="inner")
    net = merged["Recovered_Amount"].astype(float) - merged["Cost"].astype(float)
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


def expected_outcomes(plan: pd.DataFrame, truth: dict[str, Any]) -> pd.DataFrame:
    """Outcomes of a plan on a simulated book: the simulator's expected 12-month recovery and
    cost of each account's assigned action (evaluation only: reads ``truth.json``).

    Accounts without an action, or not in the truth, get no row.
    """
    snap = truth["potential_outcomes"]["snapshot"]
    rows = [
        (lid, *snap[str(lid)][action])
        for lid, action in zip(plan["Loan_ID"], plan["Action"], strict=True)
        if isinstance(action, str) and action in snap.get(str(lid), {})
    ]
    return pd.DataFrame(rows, columns=["Loan_ID", "Recovered_Amount", "Cost"])
