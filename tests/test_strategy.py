"""Strategy ladder: the original thresholds, completed, in an editable policy file."""

from __future__ import annotations

import numpy as np
import pytest

from loanrecovery.exceptions import PolicyError
from loanrecovery.strategy import assign_strategies, explain_strategies, load_policy


def test_default_policy_follows_original_thresholds():
    policy = load_policy()
    risk = np.array([0.9, 0.9, 0.6, 0.3, 0.1, 0.3])
    dpd = np.array([120, 45, 10, 60, 0, 0])
    segment = np.array(["Critical Risk"] * 6)
    actions = assign_strategies(policy, risk, segment, dpd)
    assert actions.tolist() == [
        "Legal Action",
        "Legal Notice",
        "Restructured Plan",
        "Settlement Offer",
        "Automated Reminder",
        "Automated Reminder",
    ]
    assert explain_strategies(policy, risk, segment, dpd)[0] == "Immediate legal action"


def test_nobody_current_is_sued():
    policy = load_policy()
    risk = np.linspace(0, 1, 101)
    actions = assign_strategies(policy, risk, np.array(["Critical Risk"] * 101), np.zeros(101))
    assert "Legal Action" not in set(actions)


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ('[[rule]]\nname = "a"\naction = "Teleport"\n', "unknown action", 1),
        ('[[rule]]\nname = "a"\naction = "Call"\nrisk_above = 2\n', "between 0 and 1", 1),
        ('[[rule]]\nname = "a"\naction = "Call"\ncolour = "red"\n', "unknown key", 1),
        (
            '[[rule]]\nname = "a"\naction = "Call"\n\n[[rule]]\nname = "b"\naction = "SMS"\n',
            "no condition",
            1,
        ),
        ('[[rule]]\nname = "a"\naction = "Call"\nrisk_above = 0.5\n', "catch-all", 1),
        (
            '[[rule]]\nname = "a"\naction = "Call"\nrisk_above = 0.5\nrisk_at_most = 0.2\n'
            '[[rule]]\nname = "b"\naction = "SMS"\n',
            "no loan can match",
            1,
        ),
    ],
)
def test_invalid_policies_name_the_line(tmp_path, body, message, line):
    path = tmp_path / "policy.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(PolicyError, match=message) as info:
        load_policy(path)
    assert info.value.line == line
    assert str(path) in str(info.value)


def test_missing_and_broken_policy_files(tmp_path):
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "none.toml")
    path = tmp_path / "p.toml"
    path.write_text("[[rule]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(path)
