"""Validated rule-ladder policies for the optimizer's ``seed_rules`` and challengers.

The file format is the strategy ladder of :mod:`loanrecovery.strategy` (``[[rule]]`` tables
with ``risk_above``, ``risk_at_most``, ``dpd_at_least``, ``dpd_below``, ``segments`` and
``action``; first match wins; a catch-all last). On top of its checks this module refuses,
naming the line:

* an action missing from the action catalogue;
* **overlapping** thresholds: a rule whose every loan is already taken by one earlier rule
  (it can never apply);
* **gapped** thresholds: the risk bands of the rules that only test the risk score must
  join up from the top band down (``risk_above = 0.75`` then ``risk_above = 0.3,
  risk_at_most = 0.5`` leaves (0.5, 0.75] to the catch-all by accident).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from loanrecovery.exceptions import PolicyError
from loanrecovery.recovery.catalogue import Catalogue
from loanrecovery.strategy import StrategyPolicy, StrategyRule, assign_strategies, load_policy

__all__ = ["load_validated_policy", "validate_policy", "ladder_actions"]


def _bounds(rule: StrategyRule) -> tuple[float, float, float, float]:
    return (
        -math.inf if rule.risk_above is None else rule.risk_above,
        math.inf if rule.risk_at_most is None else rule.risk_at_most,
        -math.inf if rule.dpd_at_least is None else rule.dpd_at_least,
        math.inf if rule.dpd_below is None else rule.dpd_below,
    )


def _covers(outer: StrategyRule, inner: StrategyRule) -> bool:
    """Every loan ``inner`` matches is matched by ``outer``."""
    o, i = _bounds(outer), _bounds(inner)
    risk = o[0] <= i[0] and i[1] <= o[1]
    dpd = o[2] <= i[2] and i[3] <= o[3]
    segments = outer.segments is None or (
        inner.segments is not None and set(inner.segments) <= set(outer.segments)
    )
    return risk and dpd and segments


def _check_overlaps(policy: StrategyPolicy, lines: list[int]) -> None:
    for k, rule in enumerate(policy.rules[:-1]):
        for j in range(k):
            if _covers(policy.rules[j], rule):
                raise PolicyError(
                    policy.source,
                    f"overlapping thresholds: rule {rule.name!r} can never apply, rule "
                    f"{policy.rules[j].name!r} (line {lines[j]}) already takes every loan it "
                    "matches; narrow or reorder the rules",
                    line=lines[k],
                )


def _check_gaps(policy: StrategyPolicy, lines: list[int]) -> None:
    bands = [
        (lo, hi, line)
        for rule, line in zip(policy.rules, lines, strict=False)
        if rule.dpd_at_least is None
        and rule.dpd_below is None
        and rule.segments is None
        and not rule.is_catch_all
        for lo, hi, _, _ in [_bounds(rule)]
    ]
    covered_from = math.inf
    for lo, hi, line in sorted(bands, key=lambda b: -min(b[1], 1.0)):
        top = min(hi, 1.0)
        if covered_from != math.inf and top < covered_from - 1e-12:
            raise PolicyError(
                policy.source,
                f"gapped thresholds: risk scores in ({top:g}, {covered_from:g}] match no risk "
                "band and fall through to the catch-all; make the bands meet",
                line=line,
            )
        covered_from = min(covered_from, max(lo, 0.0))


def validate_policy(policy: StrategyPolicy, catalogue: Catalogue) -> StrategyPolicy:
    """Check a parsed ladder policy against ``catalogue``; return it unchanged.

    Raises
    ------
    PolicyError
        An action missing from the catalogue, overlapping or gapped thresholds; the
        message names the policy's source and the rule's line.
    """
    lines = [rule.line for rule in policy.rules]
    for rule in policy.rules:
        if rule.action not in catalogue.names:
            raise PolicyError(
                policy.source,
                f"rule {rule.name!r}: action {rule.action!r} is not in the action catalogue "
                f"({catalogue.source}: {list(catalogue.names)})",
                line=rule.line or None,
            )
    _check_overlaps(policy, lines)
    _check_gaps(policy, lines)
    return policy


def load_validated_policy(path: str | Path | None, catalogue: Catalogue) -> StrategyPolicy:
    """Load a ladder policy file (default: the built-in one) and :func:`validate_policy` it.

    Raises
    ------
    PolicyError
        Invalid file, unknown action, action missing from the catalogue, overlapping or
        gapped thresholds; the message names the file and line.
    """
    return validate_policy(load_policy(path), catalogue)


def ladder_actions(
    policy: StrategyPolicy,
    catalogue: Catalogue,
    risk_score: np.ndarray,
    segment: np.ndarray,
    days_past_due: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Catalogue index of each loan's ladder action, and the action names."""
    names = assign_strategies(policy, risk_score, segment, days_past_due)
    index = np.array([catalogue.names.index(a) for a in names], dtype=int)
    return index, names
