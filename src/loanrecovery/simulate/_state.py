"""The per-loan state that the monthly step functions read and update.

One :class:`LoanState` holds one array entry per *lane*: a lane is a loan in the main
path, or one Monte-Carlo draw of a loan in the forward and counterfactual simulations.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Values of :attr:`LoanState.status`.
PENDING, ACTIVE, PAID_OFF, CHARGED_OFF, SETTLED, REPOSSESSED = range(6)
STATUS_NAMES: tuple[str, ...] = (
    "Pending",
    "Active",
    "Paid Off",
    "Charged Off",
    "Settled",
    "Repossessed",
)


@dataclass
class LoanState:
    """Arrays describing every lane; static borrower traits first, then dynamic state."""

    # static (borrower and contract)
    z: FloatArray
    liquidity: FloatArray
    employment: IntArray
    income: FloatArray
    rate_m: FloatArray
    secured: BoolArray
    collateral_drift: FloatArray
    episode_hazard: FloatArray
    job_hazard: FloatArray
    opt_out: BoolArray
    risk_score: FloatArray
    repossession_lag: IntArray
    # dynamic
    balance: FloatArray
    arrears: FloatArray
    installment: FloatArray
    n_remaining: IntArray
    cycles: IntArray
    cycles_prev: IntArray
    stress: FloatArray
    in_episode: BoolArray
    jobless: BoolArray
    collateral: FloatArray
    short_ewma: FloatArray
    effect: FloatArray
    effect_age: IntArray
    legal_timer: IntArray
    settle_amount: FloatArray
    since_action: IntArray
    status: IntArray

    def take(self, index: Any) -> LoanState:
        """Return a new state holding the lanes ``index`` (a copy)."""
        return LoanState(**{f.name: getattr(self, f.name)[index].copy() for f in fields(self)})

    def put(self, index: Any, other: LoanState) -> None:
        """Overwrite lanes ``index`` with the lanes of ``other``."""
        for f in fields(self):
            getattr(self, f.name)[index] = getattr(other, f.name)

    @property
    def n_lanes(self) -> int:
        """Number of lanes."""
        return int(self.balance.shape[0])
