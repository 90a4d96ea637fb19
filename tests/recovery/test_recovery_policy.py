"""Validated rule ladders: overlaps, gaps and actions missing from the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanrecovery.exceptions import PolicyError
from loanrecovery.recovery.catalogue import load_catalogue
from loanrecovery.recovery.policy import load_validated_policy

LADDER = """[policy]
name = "test"

[[rule]]
name = "legal"
action = "Legal Action"
risk_above = 0.75

[[rule]]
name = "plan"
action = "Restructured Plan"
risk_above = 0.5
risk_at_most = 0.75

[[rule]]
name = "rest"
action = "Automated Reminder"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_builtin_and_valid_ladders_load(tmp_path) -> None:
    catalogue = load_catalogue()
    assert load_validated_policy(None, catalogue).rules[-1].is_catch_all
    policy = load_validated_policy(_write(tmp_path, LADDER), catalogue)
    assert [r.action for r in policy.rules] == [
        "Legal Action",
        "Restructured Plan",
        "Automated Reminder",
    ]


def test_example_challenger_loads() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "challenger.toml"
    policy = load_validated_policy(example, load_catalogue())
    assert [r.action for r in policy.rules] == ["Legal Action", "Call", "Automated Reminder"]
    assert policy.rules[-1].is_catch_all


def test_gap_between_bands_names_the_line(tmp_path) -> None:
    text = LADDER.replace(
        "risk_above = 0.5\nrisk_at_most = 0.75", "risk_above = 0.3\nrisk_at_most = 0.6"
    )
    with pytest.raises(
        PolicyError, match=r"gapped thresholds: risk scores in \(0.6, 0.75\]"
    ) as info:
        load_validated_policy(_write(tmp_path, text), load_catalogue())
    assert info.value.line == 9


def test_overlap_that_shadows_a_rule_names_the_line(tmp_path) -> None:
    text = LADDER.replace("risk_above = 0.5\nrisk_at_most = 0.75", "risk_above = 0.8")
    with pytest.raises(
        PolicyError, match="overlapping thresholds: rule 'plan' can never apply"
    ) as info:
        load_validated_policy(_write(tmp_path, text), load_catalogue())
    assert info.value.line == 9


def test_action_missing_from_catalogue(tmp_path) -> None:
    catalogue_file = tmp_path / "actions.toml"
    catalogue_file.write_text(
        '[[action]]\nname = "Automated Reminder"\nchannel = "letter"\ncost = 1\n\n'
        '[[action]]\nname = "Restructured Plan"\nchannel = "contact"\ncost = 80\n'
    )
    with pytest.raises(PolicyError, match="'Legal Action' is not in the action catalogue") as info:
        load_validated_policy(_write(tmp_path, LADDER), load_catalogue(catalogue_file))
    assert info.value.line == 4


def test_unknown_action_is_refused(tmp_path) -> None:
    with pytest.raises(PolicyError, match="unknown action 'Sue'"):
        load_validated_policy(
            _write(tmp_path, LADDER.replace('"Legal Action"', '"Sue"')), load_catalogue()
        )
