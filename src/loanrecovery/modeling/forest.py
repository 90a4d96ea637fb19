"""The original write-up's random forest: the one place its parameters are written."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sklearn.ensemble import RandomForestClassifier

__all__ = ["ORIGINAL_FOREST", "baseline_forest"]

#: The original write-up's forest. Every user of that forest (``run``'s baseline,
#: :class:`loanrecovery.modeling.BaselineForest`, the early warning's static and snapshot
#: baselines) builds it with :func:`baseline_forest`.
ORIGINAL_FOREST: Mapping[str, Any] = MappingProxyType(
    {"n_estimators": 150, "max_depth": 8, "class_weight": "balanced", "random_state": 42}
)


def baseline_forest(
    random_state: int = ORIGINAL_FOREST["random_state"],
    *,
    n_estimators: int = ORIGINAL_FOREST["n_estimators"],
    n_jobs: int = 2,
) -> RandomForestClassifier:
    """The original write-up's forest (:data:`ORIGINAL_FOREST`), unfitted.

    Parameters
    ----------
    random_state : int, default=42
        Seed of the forest.
    n_estimators : int, default=150
        Number of trees (fewer only to make tests fast).
    n_jobs : int, default=2
        Threads. The trees do not depend on it; with more than one, ``predict_proba`` adds
        the trees' probabilities in the order the threads finish, so a probability can
        differ in its last bit (about 1e-16) between two runs.

    Returns
    -------
    RandomForestClassifier
        The forest of :data:`ORIGINAL_FOREST` with the given seed, size and threads.
    """
    params = {
        **ORIGINAL_FOREST,
        "random_state": random_state,
        "n_estimators": n_estimators,
        "n_jobs": n_jobs,
    }
    return RandomForestClassifier(**params)
