"""Configuration as objects: the policy, the action catalogue, the challenger and the limits.

Every user-editable setting is parsed from text into a frozen object that keeps its source
(and, for rules and actions, its line) for error messages. No stage reads a file: the doors
(the command line, the service) read text and build a :class:`Config`; the stages take it.

One optional project file, ``loanrecovery.toml`` (found in the working folder or given with
``--config``), holds what would otherwise be spread over command options::

    seed = 42
    early_warning_model = "gbm"        # gbm | sequence | blend | auto (sequence needs [deep])
    policy = "my_policy.toml"          # paths are relative to this file
    actions = "my_actions.toml"
    challenger = "challenger.toml"

    [limits]
    budget = 250000                    # total expected cost of a plan
    alert_budget = 0.10                # largest share of performing accounts alerted a month
    alert_min_probability = 0.05       # lowest 3-month probability of default alerted
    challenger_share = 0.10
    max_reject_share = 0.20            # stop when more of a table's rows are rejected
    [limits.capacities]                # accounts per plan, overriding the catalogue
    "Legal Action" = 20

Command options override the file (:meth:`Config.with_overrides`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loanrecovery._toml_lines import key_line, parse_toml, read_text
from loanrecovery.contract.rejects import DEFAULT_MAX_REJECT_SHARE
from loanrecovery.early_warning.model_choice import MODEL_CHOICES
from loanrecovery.early_warning.watchlist_model import (
    DEFAULT_ALERT_BUDGET,
    DEFAULT_ALERT_MIN_PROBABILITY,
)
from loanrecovery.exceptions import PolicyError
from loanrecovery.recovery.catalogue import Catalogue, load_catalogue, parse_catalogue
from loanrecovery.recovery.policy import validate_policy
from loanrecovery.strategy import StrategyPolicy, load_policy, parse_policy

__all__ = [
    "Limits",
    "Config",
    "load_config",
    "find_config",
    "parse_capacities",
    "PROJECT_FILE",
    "DEFAULT_ALERT_BUDGET",
    "DEFAULT_ALERT_MIN_PROBABILITY",
    "DEFAULT_SEED",
]

#: The project file's name, discovered in the working folder.
PROJECT_FILE = "loanrecovery.toml"
#: Seed of every random step unless configured.
DEFAULT_SEED = 42
#: Largest seed numpy's and scikit-learn's generators accept.
MAX_SEED = 2**32 - 1
_TOP_KEYS = {"seed", "policy", "actions", "challenger", "limits", "early_warning_model"}
#: Early-warning model of a fit unless configured: the GBM (the blend did not clear the
#: bar of issue 15 in the benchmark, docs/sequences.md).
DEFAULT_EARLY_WARNING_MODEL = "gbm"
_LIMIT_KEYS = {
    "budget",
    "capacities",
    "alert_budget",
    "alert_min_probability",
    "challenger_share",
    "max_reject_share",
}


def _finite(source: str, key: str, value: object, *, line: int | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyError(source, f"'{key}' must be a finite number, got {value!r}", line=line)
    return float(value)


@dataclass(frozen=True)
class Limits:
    """The limits a plan and a watchlist must keep.

    Parameters
    ----------
    budget : float, optional
        Total expected cost of a plan (no limit by default).
    capacities : mapping of str to float
        Accounts per action per plan, overriding the catalogue's capacities.
    alert_budget : float, default=0.10
        Largest share of performing accounts that can be alerted per month, in (0, 1]: a
        cap, not a quota.
    alert_min_probability : float, default=0.05
        Lowest 3-month probability of default alerted, in [0, 1].
    challenger_share : float, default=0.0
        Share of accounts given to the challenger policy, in [0, 1).
    max_reject_share : float, default=0.20
        Largest share of a table's rows that may be rejected before a command stops
        (:mod:`loanrecovery.contract.rejects`), in [0, 1].
    source : str
        Where the limits came from, for messages.
    """

    budget: float | None = None
    capacities: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    alert_budget: float = DEFAULT_ALERT_BUDGET
    alert_min_probability: float = DEFAULT_ALERT_MIN_PROBABILITY
    challenger_share: float = 0.0
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE
    source: str = "<defaults>"

    def __post_init__(self) -> None:
        src = self.source
        if self.budget is not None:
            budget = _finite(src, "budget", self.budget)
            if budget < 0:
                raise PolicyError(src, f"'budget' must be at least 0, got {budget:g}")
        caps = {}
        for name, value in dict(self.capacities).items():
            cap = _finite(src, f"capacity of {name}", value)
            if cap < 0 or cap != int(cap):
                raise PolicyError(
                    src, f"capacity of {name!r} must be a whole number of accounts >= 0, got {cap}"
                )
            caps[str(name)] = cap
        object.__setattr__(self, "capacities", MappingProxyType(caps))
        alert = _finite(src, "alert_budget", self.alert_budget)
        if not 0 < alert <= 1:
            raise PolicyError(
                src, f"'alert_budget' must be a share in (0, 1], e.g. 0.10; got {alert:g}"
            )
        floor = _finite(src, "alert_min_probability", self.alert_min_probability)
        if not 0 <= floor <= 1:
            raise PolicyError(
                src,
                "'alert_min_probability' must be a probability in [0, 1], e.g. 0.05; "
                f"got {floor:g}",
            )
        share = _finite(src, "challenger_share", self.challenger_share)
        if not 0 <= share < 1:
            raise PolicyError(src, f"'challenger_share' must be in [0, 1), got {share:g}")
        rejects = _finite(src, "max_reject_share", self.max_reject_share)
        if not 0 <= rejects <= 1:
            raise PolicyError(
                src, f"'max_reject_share' must be a share in [0, 1], e.g. 0.20; got {rejects:g}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (for manifests and run records)."""
        return {
            "budget": self.budget,
            "capacities": dict(self.capacities),
            "alert_budget": self.alert_budget,
            "alert_min_probability": self.alert_min_probability,
            "challenger_share": self.challenger_share,
            "max_reject_share": self.max_reject_share,
        }


def _default_catalogue() -> Catalogue:
    return load_catalogue()


def _default_policy() -> StrategyPolicy:
    return load_policy()


@dataclass(frozen=True)
class Config:
    """Everything a fit or an apply is configured with.

    Parameters
    ----------
    policy : StrategyPolicy
        The strategy ladder (default: the built-in policy).
    catalogue : Catalogue
        Actions, their costs and capacities, and the contact rules.
    challenger : StrategyPolicy, optional
        A ladder played on ``limits.challenger_share`` of the accounts.
    limits : Limits
        Budget, capacities, alert budget, challenger share.
    seed : int, default=42
        Seed of every random step.
    early_warning_model : {"gbm", "sequence", "blend", "auto"}, default="gbm"
        Which early-warning model a fit keeps in the bundle (see
        :mod:`~loanrecovery.early_warning.model_choice`; all but ``gbm`` compare the
        candidates and ``sequence`` and ``blend`` need the ``deep`` extra).
    source : str
        The project file, or ``<defaults>``.

    Raises
    ------
    PolicyError
        A policy names an action missing from the catalogue, thresholds overlap or leave
        gaps, a capacity names an unknown action, or the seed is not a whole number >= 0.
    """

    policy: StrategyPolicy = field(default_factory=_default_policy)
    catalogue: Catalogue = field(default_factory=_default_catalogue)
    challenger: StrategyPolicy | None = None
    limits: Limits = field(default_factory=Limits)
    seed: int = DEFAULT_SEED
    source: str = "<defaults>"
    early_warning_model: str = DEFAULT_EARLY_WARNING_MODEL

    def __post_init__(self) -> None:
        if self.early_warning_model not in MODEL_CHOICES:
            raise PolicyError(
                self.source,
                f"'early_warning_model' must be one of {', '.join(MODEL_CHOICES)}, "
                f"got {self.early_warning_model!r}",
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise PolicyError(self.source, f"'seed' must be a whole number >= 0, got {self.seed!r}")
        if self.seed > MAX_SEED:  # numpy's and scikit-learn's seeds are 32-bit
            raise PolicyError(self.source, f"'seed' must be at most {MAX_SEED}, got {self.seed}")
        validate_policy(self.policy, self.catalogue)
        if self.challenger is not None:
            validate_policy(self.challenger, self.catalogue)
        unknown = [n for n in self.limits.capacities if n not in self.catalogue.names]
        if unknown:
            raise PolicyError(
                self.limits.source,
                f"capacity given for {unknown[0]!r}, which is not in the action catalogue; "
                f"expected one of {list(self.catalogue.names)}",
            )

    def plan_options(self) -> dict[str, Any]:
        """The recovery plan's settings from this configuration, as keyword arguments of
        :func:`~loanrecovery.recovery.runner.run_recovery` and
        :func:`~loanrecovery.recovery.planning.plan_recovery`: budget, capacities (none when
        empty), policy, catalogue, challenger and its share (0 without one), seed."""
        limits = self.limits
        return {
            "budget": limits.budget,
            "capacities": dict(limits.capacities) or None,
            "policy": self.policy,
            "catalogue": self.catalogue,
            "challenger": self.challenger,
            "challenger_share": limits.challenger_share if self.challenger else 0.0,
            "seed": self.seed,
        }

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with some fields changed; ``None`` values leave a field as it is.

        Accepts the fields of :class:`Config` and of :class:`Limits` (``budget``,
        ``capacities``, ``alert_budget``, ``alert_min_probability``, ``challenger_share``,
        ``max_reject_share``).
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        if "seed" in changes:
            seed = changes["seed"]
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
                raise PolicyError(
                    "--seed", f"must be a whole number from 0 to {MAX_SEED}, got {seed!r}"
                )
        model = changes.get("early_warning_model")
        if model is not None and model not in MODEL_CHOICES:
            raise PolicyError(
                "--early-warning-model", f"must be one of {', '.join(MODEL_CHOICES)}, got {model!r}"
            )
        limit_changes = {k: changes.pop(k) for k in list(changes) if k in _LIMIT_KEYS}
        limits = self.limits
        if limit_changes:
            limits = dataclasses.replace(limits, source="command options", **limit_changes)
        return dataclasses.replace(self, limits=limits, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record: the policy and catalogue by name and text, limits, seed."""
        return {
            "source": self.source,
            "seed": self.seed,
            "early_warning_model": self.early_warning_model,
            "policy": {
                "name": self.policy.name,
                "source": self.policy.source,
                "text": self.policy.text,
            },
            "catalogue": {"source": self.catalogue.source, "text": self.catalogue.text},
            "challenger": None
            if self.challenger is None
            else {
                "name": self.challenger.name,
                "source": self.challenger.source,
                "text": self.challenger.text,
            },
            "limits": self.limits.to_dict(),
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Config:
        """Rebuild a configuration from :meth:`to_dict` (e.g. a bundle's manifest)."""
        policy = record["policy"]
        challenger = record.get("challenger")
        limits = dict(record.get("limits", {}))
        return cls(
            policy=parse_policy(policy["text"], policy["source"]),
            catalogue=parse_catalogue(record["catalogue"]["text"], record["catalogue"]["source"]),
            challenger=None
            if not challenger
            else parse_policy(challenger["text"], challenger["source"]),
            limits=Limits(**limits, source=str(record.get("source", "<stored>"))),
            seed=int(record.get("seed", DEFAULT_SEED)),
            source=str(record.get("source", "<stored>")),
            early_warning_model=str(record.get("early_warning_model", DEFAULT_EARLY_WARNING_MODEL)),
        )


def parse_capacities(text: str | None, source: str = "--capacity") -> dict[str, float] | None:
    """``"Legal Action=20,Field Visit=50"`` -> ``{"Legal Action": 20.0, "Field Visit": 50.0}``.

    Raises
    ------
    PolicyError
        An item is not ``ACTION=N`` with N a whole number >= 0, or an action repeats.
    """
    if text is None or not text.strip():
        return None
    out: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name or not math.isfinite(number) or number < 0 or number != int(number):
            raise PolicyError(
                source, f"expected ACTION=N with N a whole number >= 0, got {item.strip()!r}"
            )
        if name in out:
            raise PolicyError(source, f"{name!r} is given twice; give each action once")
        out[name] = number
    return out


def find_config(folder: str | Path = ".") -> Path | None:
    """The project file ``loanrecovery.toml`` in ``folder``, if there is one."""
    candidate = Path(folder) / PROJECT_FILE
    return candidate if candidate.is_file() else None


def _file_entry(text: str, source: str, data: dict[str, Any], key: str, base: Path) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(
            source, f"'{key}' must be a file name, got {value!r}", line=key_line(text, 0, key)
        )
    path = base / value
    if not path.is_file():
        raise PolicyError(
            source, f"'{key}' names {str(path)!r}, which is not found", line=key_line(text, 0, key)
        )
    return str(path)


def _limits(text: str, source: str, raw: object) -> Limits:
    if raw is None:
        return Limits(source=source)
    header = next(
        (i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[limits]"), 0
    )
    if not isinstance(raw, dict):
        raise PolicyError(source, "'limits' must be a table ([limits])", line=header or None)
    unknown = sorted(set(raw) - _LIMIT_KEYS)
    if unknown:
        raise PolicyError(
            source,
            f"[limits]: unknown key(s) {unknown}; expected {sorted(_LIMIT_KEYS)}",
            line=key_line(text, header, unknown[0]) or None,
        )
    values: dict[str, Any] = {}
    for key in (
        "budget",
        "alert_budget",
        "alert_min_probability",
        "challenger_share",
        "max_reject_share",
    ):
        if key in raw:
            values[key] = _finite(source, key, raw[key], line=key_line(text, header, key) or None)
    caps = raw.get("capacities", {})
    if not isinstance(caps, dict):
        raise PolicyError(source, "[limits] capacities must be a table of action = accounts")
    values["capacities"] = {
        str(name): _finite(source, f"capacity of {name}", value) for name, value in caps.items()
    }
    return Limits(**values, source=source)


def load_config(path: str | Path | None = None, *, folder: str | Path = ".") -> Config:
    """Build the configuration from a project file.

    Parameters
    ----------
    path : path, optional
        The project file. Without it, ``loanrecovery.toml`` in ``folder`` is used when it
        exists, else every default.
    folder : path, default="."
        Where to look for the project file.

    Returns
    -------
    Config

    Raises
    ------
    PolicyError
        A file is missing, not UTF-8, not TOML, or holds an invalid setting; the message
        names the file and line.
    """
    if path is None:
        path = find_config(folder)
        if path is None:
            return Config()
    text, source = read_text(path, "project configuration")
    data = parse_toml(text, source)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise PolicyError(
            source,
            f"unknown key(s) {unknown}; a project file takes {sorted(_TOP_KEYS)}",
            line=key_line(text, 0, unknown[0]) or None,
        )
    base = Path(path).parent
    catalogue_file = _file_entry(text, source, data, "actions", base)
    catalogue = load_catalogue(catalogue_file)
    policy_file = _file_entry(text, source, data, "policy", base)
    challenger_file = _file_entry(text, source, data, "challenger", base)
    seed = data.get("seed", DEFAULT_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise PolicyError(
            source,
            f"'seed' must be a whole number >= 0, got {seed!r}",
            line=key_line(text, 0, "seed"),
        )
    model = data.get("early_warning_model", DEFAULT_EARLY_WARNING_MODEL)
    if model not in MODEL_CHOICES:
        raise PolicyError(
            source,
            f"'early_warning_model' must be one of {', '.join(MODEL_CHOICES)}, got {model!r}",
            line=key_line(text, 0, "early_warning_model"),
        )
    return Config(
        policy=load_policy(policy_file),
        catalogue=catalogue,
        challenger=None if challenger_file is None else load_policy(challenger_file),
        limits=_limits(text, source, data.get("limits")),
        seed=seed,
        source=source,
        early_warning_model=model,
    )
