"""Line finders shared by the strategy policy, the recovery policy and the action catalogue."""

from __future__ import annotations

import tomllib

import pytest

from loanrecovery._toml_lines import key_line, table_lines
from loanrecovery.exceptions import PolicyError
from loanrecovery.strategy import load_policy

_TEXT = """\
# comment [[rule]] is not a header
[policy]
name = "x"

[[rule]]
name = "first"
action = "Monitor"

  [[ rule ]]
  "name" = "second"

[[action]]
name = "Reminder"
cost = 3
"""


def test_table_lines_finds_every_header_in_file_order() -> None:
    rules = table_lines(_TEXT, "rule")
    assert rules == [5, 9]
    assert len(rules) == len(tomllib.loads(_TEXT)["rule"])
    assert table_lines(_TEXT, "action") == [12]
    assert table_lines(_TEXT, "compliance") == []


def test_key_line_stays_inside_its_table() -> None:
    first, second = table_lines(_TEXT, "rule")
    assert key_line(_TEXT, first, "action") == first + 2
    assert key_line(_TEXT, second, "name") == second + 1
    # "action" is not a key of the second rule: the header line is returned.
    assert key_line(_TEXT, second, "action") == second


@pytest.mark.parametrize("header", ["[[rule]]", "[[ rule ]]"])
def test_strategy_policy_errors_name_the_rule_line(tmp_path, header) -> None:
    body = (
        '[policy]\nname = "p"\n\n'
        f'{header}\nname = "bad"\naction = "Nope"\n\n'
        f'{header}\nname = "all"\naction = "SMS"\n'
    )
    path = tmp_path / "policy.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.line == body.splitlines().index(header) + 1
