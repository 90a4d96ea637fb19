"""Configuration as objects: defaults, the project file, overrides, errors with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanrecovery.config import Config, Limits, load_config, parse_capacities
from loanrecovery.exceptions import PolicyError
from loanrecovery.strategy import load_policy, parse_policy

LADDER = """
[policy]
name = "test ladder"

[[rule]]
name = "Late"
action = "Legal Notice"
dpd_at_least = 60

[[rule]]
name = "Everyone else"
action = "Automated Reminder"
"""


def _project(folder: Path, text: str) -> Path:
    path = folder / "loanrecovery.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_built_in_files():
    config = Config()
    assert config.policy.rules[-1].is_catch_all
    assert config.policy == load_policy()
    assert config.limits.alert_budget == 0.10 and config.seed == 42
    assert config.limits.alert_min_probability == 0.05


def test_project_file_is_discovered_and_resolves_paths(tmp_path):
    (tmp_path / "ladder.toml").write_text(LADDER, encoding="utf-8")
    _project(
        tmp_path,
        'seed = 7\npolicy = "ladder.toml"\n[limits]\nbudget = 5000\nalert_budget = 0.2\n'
        'alert_min_probability = 0.02\n[limits.capacities]\n"Legal Action" = 20\n',
    )
    config = load_config(folder=tmp_path)
    assert config.limits.alert_min_probability == 0.02
    assert config.with_overrides(alert_min_probability=0.3).limits.alert_min_probability == 0.3
    assert config.seed == 7 and config.policy.name == "test ladder"
    assert config.policy.rules[0].line == 5
    assert config.limits.budget == 5000 and config.limits.capacities == {"Legal Action": 20}
    assert config.with_overrides(budget=100.0, seed=None).limits.budget == 100.0
    assert config.with_overrides(budget=100.0).seed == 7
    assert load_config(folder=tmp_path / "elsewhere") == Config()


def test_round_trip_through_a_record():
    config = Config(policy=parse_policy(LADDER, "ladder.toml"), limits=Limits(budget=10.0))
    again = Config.from_dict(config.to_dict())
    assert again.policy == config.policy and again.limits == config.limits
    assert again.policy.rules[0].line == config.policy.rules[0].line


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("budgett = 3\n", "unknown key", 1),
        ("[limits]\nbudget = inf\n", "finite number", 2),
        ("[limits]\nalert_budget = 1.5\n", "alert_budget", None),
        ("[limits]\nalert_min_probability = 1.2\n", "alert_min_probability", None),
        ("[limits]\nalert_min_probability = nan\n", "alert_min_probability", 2),
        ('[limits.capacities]\n"Sue" = 3\n', "not in the action catalogue", None),
        ("seed = -1\n", "seed", 1),
        ('policy = "missing.toml"\n', "not found", None),
    ],
)
def test_invalid_settings_name_the_file_and_line(tmp_path, text, message, line):
    path = _project(tmp_path, text)
    with pytest.raises(PolicyError, match=message) as info:
        load_config(path)
    assert "loanrecovery.toml" in str(info.value)
    if line is not None:
        assert f"line {line}" in str(info.value)


def test_a_file_that_is_not_text_is_named(tmp_path):
    path = tmp_path / "loanrecovery.toml"
    path.write_bytes(b"\xff\xfe\x00garbage\x81")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_config(path)


def test_capacities_are_finite_whole_and_unique():
    assert parse_capacities("Legal Action=20, Call=5") == {"Legal Action": 20.0, "Call": 5.0}
    for bad in ("Legal Action=nan", "Legal Action=inf", "Call=2.5", "Call=-1", "Call"):
        with pytest.raises(PolicyError):
            parse_capacities(bad)
    with pytest.raises(PolicyError, match="twice"):
        parse_capacities("Call=1,Call=2")
