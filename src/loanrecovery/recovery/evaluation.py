"""Evaluation against a simulated book's ground truth (``truth.json``).

Only benchmarks, tests and the ``true_net_recovery`` figure of ``optimize`` on simulated
data call these; nothing in the estimation or planning path reads the truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.actions import ACTIONS

__all__ = ["true_net_recovery", "true_history_means"]


def true_net_recovery(plan: pd.DataFrame, truth: dict[str, Any]) -> float | None:
    """Sum over the plan's actions of the true expected recovery minus cost.

    Accounts without an action count 0, as in the optimizer's objective. ``None`` when the
    truth holds no snapshot outcome for any planned account.
    """
    snap = truth.get("potential_outcomes", {}).get("snapshot", {})
    total, found = 0.0, 0
    for lid, action in zip(plan["Loan_ID"], plan["Action"], strict=True):
        if not isinstance(action, str) or action == "None":
            continue
        outcome = snap.get(str(lid))
        if outcome is None:
            continue
        rec, cost = outcome[action]
        total += rec - cost
        found += 1
    return round(total, 2) if found else None


def true_history_means(
    action_ids: np.ndarray, segments: np.ndarray, truth: dict[str, Any]
) -> pd.DataFrame:
    """True mean recovery and cost per segment (and "All") and action over history rows."""
    hist = truth["potential_outcomes"]["history"]
    values = np.array([[hist[str(i)][a] for a in ACTIONS] for i in action_ids])
    rows = []
    for s in ["All", *sorted(set(np.asarray(segments).tolist()))]:
        mask = np.ones(len(segments), bool) if s == "All" else np.asarray(segments) == s
        for j, a in enumerate(ACTIONS):
            rows.append(
                {
                    "segment": s,
                    "action": a,
                    "true_recovery": values[mask, j, 0].mean(),
                    "true_cost": values[mask, j, 1].mean(),
                }
            )
    return pd.DataFrame(rows)
