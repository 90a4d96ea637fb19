"""Recovery strategy per borrower from a rule ladder in an editable TOML policy file.

The default policy (``data/policy.toml``) holds the original write-up's thresholds completed
with days past due and segment. Each loan gets the action of the first rule it matches, and
the rule's name says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from loanrecovery._toml_lines import builtin_text, parse_toml, read_text, table_lines
from loanrecovery.actions import ACTIONS
from loanrecovery.exceptions import PolicyError

__all__ = [
    "StrategyRule",
    "StrategyPolicy",
    "load_policy",
    "parse_policy",
    "assign_strategies",
    "explain_strategies",
    "DEFAULT_POLICY",
]

DEFAULT_POLICY = "policy.toml"
_CONDITIONS = ("risk_above", "risk_at_most", "dpd_at_least", "dpd_below", "segments")
_RULE_KEYS = {"name", "action", *_CONDITIONS}


@dataclass(frozen=True)
class StrategyRule:
    """One rung of the ladder: conditions and the action they lead to."""

    name: str
    action: str
    risk_above: float | None = None
    risk_at_most: float | None = None
    dpd_at_least: float | None = None
    dpd_below: float | None = None
    segments: tuple[str, ...] | None = None
    #: Line of the rule's ``[[rule]]`` header in its file (0 when unknown).
    line: int = field(default=0, compare=False)

    @property
    def is_catch_all(self) -> bool:
        """The rule has no condition."""
        return all(getattr(self, key) is None for key in _CONDITIONS)

    def matches(self, risk: np.ndarray, segment: np.ndarray, dpd: np.ndarray | None) -> np.ndarray:
        """Boolean mask of the loans this rule's conditions hold for."""
        mask = np.ones(len(risk), dtype=bool)
        if self.risk_above is not None:
            mask &= risk > self.risk_above
        if self.risk_at_most is not None:
            mask &= risk <= self.risk_at_most
        if self.dpd_at_least is not None:
            mask &= dpd is not None and (dpd >= self.dpd_at_least)  # type: ignore[operator]
        if self.dpd_below is not None:
            mask &= dpd is not None and (dpd < self.dpd_below)  # type: ignore[operator]
        if self.segments is not None:
            mask &= np.isin(segment, list(self.segments))
        return mask


@dataclass(frozen=True)
class StrategyPolicy:
    """An ordered ladder of rules ending with a catch-all.

    Attributes
    ----------
    name : str
        The policy's name (``[policy] name``, else the file's stem).
    rules : tuple of StrategyRule
        The ladder, each rule with the line it was written at.
    source : str
        The file it was parsed from (``<built-in policy.toml>`` for the default).
    text : str
        The TOML text it was parsed from, so it can be stored and parsed again.
    """

    name: str
    rules: tuple[StrategyRule, ...]
    source: str
    text: str = field(default="", compare=False, repr=False)


def _check_number(path: str, line: int, key: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyError(path, f"'{key}' must be a number, got {value!r}", line=line)
    if not low <= float(value) <= high:
        raise PolicyError(
            path, f"'{key}' must be between {low:g} and {high:g}, got {value}", line=line
        )
    return float(value)


def _parse_conditions(path: str, line: int, raw: dict) -> dict[str, object]:
    values: dict[str, object] = {}
    for key in ("risk_above", "risk_at_most"):
        if key in raw:
            values[key] = _check_number(path, line, key, raw[key], 0.0, 1.0)
    for key in ("dpd_at_least", "dpd_below"):
        if key in raw:
            values[key] = _check_number(path, line, key, raw[key], 0.0, 1e5)
    if "segments" in raw:
        segments = raw["segments"]
        if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
            raise PolicyError(path, "'segments' must be a list of segment names", line=line)
        values["segments"] = tuple(segments)
    for low, high in (("risk_above", "risk_at_most"), ("dpd_at_least", "dpd_below")):
        if low in values and high in values and values[high] <= values[low]:  # type: ignore[operator]
            raise PolicyError(path, f"{high} must be above {low}: no loan can match", line=line)
    return values


def _parse_rule(path: str, line: int, raw: dict) -> StrategyRule:
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise PolicyError(
            path, f"unknown key(s) {unknown}; a rule takes {sorted(_RULE_KEYS)}", line=line
        )
    for key in ("name", "action"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise PolicyError(path, f"every rule needs a '{key}' text", line=line)
    if raw["action"] not in ACTIONS:
        raise PolicyError(
            path, f"unknown action {raw['action']!r}; expected one of {list(ACTIONS)}", line=line
        )
    values = _parse_conditions(path, line, raw)
    return StrategyRule(
        name=raw["name"],
        action=raw["action"],
        line=line,
        **values,  # type: ignore[arg-type]
    )


def load_policy(path: str | Path | None = None) -> StrategyPolicy:
    """Read and check a strategy policy file (default: the built-in policy).

    Raises
    ------
    PolicyError
        The file is missing, not UTF-8 text, or invalid; the message names the line.
    """
    if path is None:
        text, source = builtin_text(("loanrecovery.data", DEFAULT_POLICY))
    else:
        text, source = read_text(path, "policy")
    return parse_policy(text, source)


def parse_policy(text: str, source: str = "<policy>") -> StrategyPolicy:
    """Parse a strategy policy from its TOML text.

    Parameters
    ----------
    text : str
        The policy file's content (``[[rule]]`` tables, first match wins, a catch-all last).
    source : str, default="<policy>"
        Where the text came from, for messages (a file name, a database row).

    Returns
    -------
    StrategyPolicy
        Frozen; every rule keeps its line for later messages.

    Raises
    ------
    PolicyError
        Invalid TOML or an invalid rule; the message names the source and line.
    """
    data = parse_toml(text, source)
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PolicyError(source, "no [[rule]] entries; a policy needs at least a catch-all rule")
    lines = table_lines(text, "rule")
    if len(lines) != len(raw_rules):
        lines = [0] * len(raw_rules)
    rules = tuple(
        _parse_rule(source, line, raw) for line, raw in zip(lines, raw_rules, strict=True)
    )
    for rule in rules[:-1]:
        if rule.is_catch_all:
            raise PolicyError(
                source,
                f"rule {rule.name!r} has no condition, so the rules after it never apply",
                line=rule.line or None,
            )
    if not rules[-1].is_catch_all:
        raise PolicyError(
            source,
            "the last rule must have no condition (a catch-all), so every loan gets a strategy",
            line=rules[-1].line or None,
        )
    header = data.get("policy", {})
    name = header.get("name") if isinstance(header, dict) else None
    return StrategyPolicy(
        name=str(name or Path(source.strip("<>")).stem or "policy"),
        rules=rules,
        source=source,
        text=text,
    )


def _matched_rule(
    policy: StrategyPolicy,
    risk_score: np.ndarray,
    segment: np.ndarray,
    days_past_due: np.ndarray | None,
) -> np.ndarray:
    risk = np.nan_to_num(np.asarray(risk_score, dtype=float), nan=0.0)
    segment = np.asarray(segment, dtype=object)
    dpd = None if days_past_due is None else np.nan_to_num(np.asarray(days_past_due, dtype=float))
    chosen = np.full(len(risk), -1, dtype=int)
    for index, rule in enumerate(policy.rules):
        free = chosen < 0
        if not free.any():
            break
        chosen[free & rule.matches(risk, segment, dpd)] = index
    return chosen


def assign_strategies(
    policy: StrategyPolicy,
    risk_score: np.ndarray,
    segment: np.ndarray,
    days_past_due: np.ndarray | None = None,
) -> np.ndarray:
    """Action of the first matching rule for every loan."""
    actions = np.array([rule.action for rule in policy.rules], dtype=object)
    return actions[_matched_rule(policy, risk_score, segment, days_past_due)]


def explain_strategies(
    policy: StrategyPolicy,
    risk_score: np.ndarray,
    segment: np.ndarray,
    days_past_due: np.ndarray | None = None,
) -> np.ndarray:
    """Name of the rule that gave each loan its action (the "why")."""
    names = np.array([rule.name for rule in policy.rules], dtype=object)
    return names[_matched_rule(policy, risk_score, segment, days_past_due)]
