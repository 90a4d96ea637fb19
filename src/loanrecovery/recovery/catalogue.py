"""The action catalogue: cost, capacity per period, channel and call attempts of each action,
and the compliance rules every plan must satisfy (``data/actions.toml``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loanrecovery._toml_lines import builtin_text, key_line, parse_toml, read_text, table_lines
from loanrecovery.actions import ACTIONS
from loanrecovery.exceptions import PolicyError

__all__ = [
    "ActionSpec",
    "ComplianceRules",
    "Catalogue",
    "load_catalogue",
    "parse_catalogue",
    "CHANNELS",
]

#: Channels an action can use.
CHANNELS: tuple[str, ...] = ("contact", "letter", "legal")
_ACTION_KEYS = {
    "name",
    "channel",
    "cost",
    "capacity",
    "capacity_unit",
    "units_per_account",
    "capacity_periods",
    "call_attempts",
}
_DEFAULT_FILE = "actions.toml"


@dataclass(frozen=True)
class ActionSpec:
    """One action of the catalogue.

    Attributes
    ----------
    name : str
        Canonical action name (one of :data:`loanrecovery.actions.ACTIONS`).
    channel : str
        ``"contact"``, ``"letter"`` or ``"legal"``.
    cost : float
        Cost per account (USD), used when history has no cost for the action.
    capacity : float
        Accounts per planning period (``inf`` for no limit): ``floor(stated_capacity *
        capacity_periods / units_per_account)``.
    capacity_unit : str
        What the stated capacity counts (e.g. "agent call minutes per day").
    call_attempts : int
        Telephone call attempts the action makes in its first 7 days.
    stated_capacity : float
        The capacity as written in the catalogue, in ``capacity_unit``.
    units_per_account : float
        Capacity units one account uses (e.g. 12 call minutes); 1 when the capacity counts
        accounts.
    capacity_periods : float
        How many times the stated capacity recurs in one planning period (e.g. 22 working
        days in a month for a capacity per day); 1 by default.
    """

    name: str
    channel: str
    cost: float
    capacity: float
    capacity_unit: str
    call_attempts: int
    stated_capacity: float = math.inf
    units_per_account: float = 1.0
    capacity_periods: float = 1.0


@dataclass(frozen=True)
class ComplianceRules:
    """Contact rules a plan must satisfy (hard constraints)."""

    max_call_attempts_7d: int = 7
    contact_start_hour: int = 8
    contact_end_hour: int = 21
    contact_centre_hours_utc: tuple[int, ...] = tuple(range(24))
    opt_out_channels: tuple[str, ...] = ("letter",)
    legal_actions: tuple[str, ...] = ("Legal Action",)
    legal_min_days_past_due: float = 90.0
    legal_min_balance: float = 2000.0


@dataclass(frozen=True)
class Catalogue:
    """Actions (mildest first) and compliance rules."""

    actions: tuple[ActionSpec, ...]
    rules: ComplianceRules
    period: str
    source: str
    #: The TOML text it was parsed from, so it can be stored and parsed again.
    text: str = field(default="", compare=False, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Action names in catalogue order."""
        return tuple(a.name for a in self.actions)

    def spec(self, name: str) -> ActionSpec:
        """The spec of action ``name``."""
        for action in self.actions:
            if action.name == name:
                return action
        raise KeyError(name)

    def capacities(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Capacity per action (catalogue order), with ``overrides`` applied."""
        caps = np.array([a.capacity for a in self.actions], dtype=float)
        for name, value in (overrides or {}).items():
            if name not in self.names:
                raise PolicyError(
                    self.source,
                    f"capacity given for {name!r}, which is not in the catalogue; "
                    f"expected one of {list(self.names)}",
                )
            caps[self.names.index(name)] = float(value)
        return caps


def _number(source: str, line: int, key: str, value: object, *, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyError(
            source, f"'{key}' must be a finite number, got {value!r}", line=line or None
        )
    if value < low:
        raise PolicyError(
            source, f"'{key}' must be at least {low:g}, got {value}", line=line or None
        )
    return float(value)


def _parse_action(source: str, text: str, line: int, raw: dict[str, Any]) -> ActionSpec:
    unknown = sorted(set(raw) - _ACTION_KEYS)
    if unknown:
        raise PolicyError(
            source, f"unknown key(s) {unknown}; an action takes {sorted(_ACTION_KEYS)}", line=line
        )
    name = raw.get("name")
    if name not in ACTIONS:
        raise PolicyError(
            source,
            f"unknown action {name!r}; expected one of {list(ACTIONS)}",
            line=key_line(text, line, "name"),
        )
    channel = raw.get("channel")
    if channel not in CHANNELS:
        raise PolicyError(
            source,
            f"action {name!r}: channel must be one of {list(CHANNELS)}, got {channel!r}",
            line=key_line(text, line, "channel"),
        )
    if "cost" not in raw:
        raise PolicyError(source, f"action {name!r} has no 'cost'", line=line)
    cost = _number(source, key_line(text, line, "cost"), "cost", raw["cost"])
    stated = math.inf
    if "capacity" in raw:
        stated = _number(source, key_line(text, line, "capacity"), "capacity", raw["capacity"])
    per_account = _positive(source, text, line, raw, "units_per_account")
    periods = _positive(source, text, line, raw, "capacity_periods")
    capacity = math.inf
    if math.isfinite(stated):
        capacity = float(math.floor(stated * periods / per_account))
    attempts = _number(
        source, key_line(text, line, "call_attempts"), "call_attempts", raw.get("call_attempts", 0)
    )
    if attempts != int(attempts):
        raise PolicyError(
            source,
            f"'call_attempts' must be a whole number, got {attempts}",
            line=key_line(text, line, "call_attempts"),
        )
    return ActionSpec(
        name=str(name),
        channel=str(channel),
        cost=cost,
        capacity=capacity,
        capacity_unit=str(raw.get("capacity_unit", "accounts per period")),
        call_attempts=int(attempts),
        stated_capacity=stated,
        units_per_account=per_account,
        capacity_periods=periods,
    )


def _positive(source: str, text: str, line: int, raw: dict[str, Any], key: str) -> float:
    """An optional key that must be a number above zero (1 when absent)."""
    if key not in raw:
        return 1.0
    where = key_line(text, line, key)
    value = _number(source, where, key, raw[key])
    if value <= 0:
        raise PolicyError(source, f"'{key}' must be above 0, got {value:g}", line=where)
    return value


def _parse_lists(
    source: str, raw: dict[str, Any], names: tuple[str, ...], where: Callable[[str], int]
) -> dict[str, Any]:
    checks: dict[str, tuple[Callable[[Any], bool], str]] = {
        "contact_centre_hours_utc": (
            lambda v: all(isinstance(h, int) and 0 <= h < 24 for h in v),
            "must list hours 0..23",
        ),
        "opt_out_channels": (lambda v: set(v) <= set(CHANNELS), f"must be a subset of {CHANNELS}"),
        "legal_actions": (lambda v: set(v) <= set(names), f"must name catalogue actions {names}"),
    }
    values: dict[str, Any] = {}
    for key, (ok, expected) in checks.items():
        if key in raw:
            if not isinstance(raw[key], list) or not ok(raw[key]):
                raise PolicyError(
                    source, f"[compliance] {key} {expected}, got {raw[key]!r}", line=where(key)
                )
            values[key] = tuple(raw[key])
    return values


def _parse_rules(
    source: str, text: str, raw: dict[str, Any], names: tuple[str, ...]
) -> ComplianceRules:
    defaults = ComplianceRules()
    header = next(
        (i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip() == "[compliance]"), 0
    )

    def where(key: str) -> int:
        return key_line(text, header, key) if header else 0

    unknown = sorted(set(raw) - set(vars(defaults)))
    if unknown:
        raise PolicyError(
            source,
            f"[compliance]: unknown key(s) {unknown}; expected {sorted(vars(defaults))}",
            line=where(unknown[0]) or None,
        )
    values: dict[str, Any] = {}
    for key in ("max_call_attempts_7d", "contact_start_hour", "contact_end_hour"):
        if key in raw:
            values[key] = int(_number(source, where(key), key, raw[key]))
    for key in ("legal_min_days_past_due", "legal_min_balance"):
        if key in raw:
            values[key] = _number(source, where(key), key, raw[key])
    values.update(_parse_lists(source, raw, names, where))
    rules = ComplianceRules(**{**vars(defaults), **values})
    if not 0 <= rules.contact_start_hour < rules.contact_end_hour <= 24:
        raise PolicyError(
            source,
            "[compliance] needs 0 <= contact_start_hour < contact_end_hour <= 24",
            line=where("contact_start_hour") or None,
        )
    return rules


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and check an action catalogue (default: the built-in ``data/actions.toml``).

    Raises
    ------
    PolicyError
        The file is missing, not UTF-8 TOML, or an entry is invalid; the message names the
        line.
    """
    if path is None:
        text, source = builtin_text(("loanrecovery.recovery", "data", _DEFAULT_FILE))
    else:
        text, source = read_text(path, "action catalogue")
    return parse_catalogue(text, source)


def parse_catalogue(text: str, source: str = "<action catalogue>") -> Catalogue:
    """Parse an action catalogue from its TOML text.

    Parameters
    ----------
    text : str
        ``[[action]]`` tables, an optional ``[compliance]`` table and ``[period]``.
    source : str, default="<action catalogue>"
        Where the text came from, for messages.

    Raises
    ------
    PolicyError
        Not TOML, or an entry is invalid; the message names the source and line.
    """
    data = parse_toml(text, source)
    raw_actions = data.get("action")
    if not isinstance(raw_actions, list) or not raw_actions:
        raise PolicyError(source, "no [[action]] entries")
    lines = table_lines(text, "action")
    if len(lines) != len(raw_actions):
        lines = [0] * len(raw_actions)
    actions = [
        _parse_action(source, text, ln, raw) for ln, raw in zip(lines, raw_actions, strict=True)
    ]
    seen: set[str] = set()
    for line, action in zip(lines, actions, strict=True):
        if action.name in seen:
            raise PolicyError(source, f"action {action.name!r} is listed twice", line=line)
        seen.add(action.name)
    order = sorted(actions, key=lambda a: ACTIONS.index(a.name))
    names = tuple(a.name for a in order)
    rules = _parse_rules(source, text, data.get("compliance", {}), names)
    period = str(data.get("period", {}).get("name", "period"))
    return Catalogue(actions=tuple(order), rules=rules, period=period, source=source, text=text)
