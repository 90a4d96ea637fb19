"""Action catalogue: the built-in file and errors that name the line."""

from __future__ import annotations

import math

import pytest

from loanrecovery.actions import ACTIONS
from loanrecovery.exceptions import PolicyError
from loanrecovery.recovery.catalogue import load_catalogue

BASE = """[[action]]
name = "Automated Reminder"
channel = "letter"
cost = 1.0

[[action]]
name = "Legal Action"
channel = "legal"
cost = 900
capacity = 10
"""


def test_builtin_catalogue_has_every_action_mildest_first() -> None:
    catalogue = load_catalogue()
    assert catalogue.names == ACTIONS
    assert catalogue.spec("Legal Action").channel == "legal"
    assert math.isinf(catalogue.spec("SMS").capacity)
    assert catalogue.rules.max_call_attempts_7d == 7


def test_capacity_override_and_unknown_override(tmp_path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(BASE)
    catalogue = load_catalogue(path)
    caps = catalogue.capacities({"Legal Action": 3})
    assert caps[catalogue.names.index("Legal Action")] == 3
    with pytest.raises(PolicyError, match="not in the catalogue"):
        catalogue.capacities({"Field Visit": 1})


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ('channel = "legal"', 'channel = "court"', 8, "channel must be one of"),
        ('name = "Legal Action"', 'name = "Lawsuit"', 7, "unknown action 'Lawsuit'"),
        ("capacity = 10", "capacity = -1", 10, "'capacity' must be at least 0"),
        ("cost = 900", 'cost = "a lot"', 9, "'cost' must be a finite number"),
        ("capacity = 10", "capacity = 10\nunits_per_account = 0", 11, "must be above 0"),
    ],
)
def test_invalid_entries_name_the_line(tmp_path, old, new, line, message) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BASE.replace(old, new))
    with pytest.raises(PolicyError, match=message) as info:
        load_catalogue(path)
    assert info.value.line == line
    assert str(path) in str(info.value)


def test_duplicate_action_is_refused(tmp_path) -> None:
    path = tmp_path / "dup.toml"
    path.write_text(BASE + BASE.split("\n\n")[0] + "\n")
    with pytest.raises(PolicyError, match="listed twice") as info:
        load_catalogue(path)
    assert info.value.line == 11


def test_capacity_in_the_managers_units_becomes_accounts_per_period(tmp_path) -> None:
    path = tmp_path / "minutes.toml"
    path.write_text(
        BASE.replace(
            "capacity = 10",
            'capacity = 600\ncapacity_unit = "agent call minutes per day"\n'
            "units_per_account = 12\ncapacity_periods = 22",
        )
    )
    legal = load_catalogue(path).spec("Legal Action")
    assert legal.capacity == 1100  # 600 minutes x 22 days / 12 minutes per account
    assert legal.stated_capacity == 600 and legal.capacity_unit == "agent call minutes per day"
    call = load_catalogue().spec("Call")
    assert call.capacity == math.floor(
        call.stated_capacity * call.capacity_periods / call.units_per_account
    )
