"""Attack the options: generated numbers, lists, seeds and paths, checked before any work.

Each command is pointed at an empty folder, so an acceptable option ends on the data error
and an unacceptable one on an error naming the option: both exit 2 with one line, fast.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loanrecovery.config import MAX_SEED, parse_capacities
from loanrecovery.exceptions import PolicyError

from .conftest import invoke

#: Generated cases fed to each test (see the report of issue 17).
CASES = 40

_FAST = {
    "deadline": None,
    "max_examples": CASES,
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.inf, -math.inf, math.nan, 0.0, -0.0, 1e308, 5e-324]),
)
number_text = st.one_of(numbers.map(repr), st.sampled_from(["inf", "nan", "-1", "1e999", "x"]))
actions = st.sampled_from(["Legal Action", "Field Visit", "Reminder Call", "Nope", ""])


@settings(**_FAST)
@given(budget=number_text)
def test_budget_must_be_finite(tmp_path: Path, budget: str) -> None:
    outcome = invoke(["optimize", "--data", tmp_path, "--budget", budget, "--out", tmp_path / "o"])
    assert outcome.exit_code == 2
    try:
        value = float(budget)
    except ValueError:
        return
    if not math.isfinite(value) or value < 0:
        assert "budget" in outcome.stderr


@settings(**_FAST)
@given(items=st.lists(st.tuples(actions, number_text), min_size=1, max_size=4))
def test_capacities_are_finite_and_unique(items: list[tuple[str, str]]) -> None:
    text = ",".join(f"{name}={value}" for name, value in items)
    names = [name.strip() for name, _ in items]
    try:
        values = [float(v) for _, v in items]
    except ValueError:
        values = [math.nan]
    valid = all(math.isfinite(v) and v >= 0 and v == int(v) for v in values) and all(names)
    valid = valid and len(set(names)) == len(names)
    if valid:
        assert parse_capacities(text) == {
            n: float(v) for n, (_, v) in zip(names, items, strict=True)
        }
    else:
        with pytest.raises(PolicyError, match="--capacity"):
            parse_capacities(text)


@settings(**_FAST)
@given(
    seed=st.integers(min_value=-(2**40), max_value=2**40),
    command=st.sampled_from(["early-warning", "optimize", "run"]),
)
def test_seeds_are_checked(tmp_path: Path, seed: int, command: str) -> None:
    outcome = invoke(
        [command, "--data", tmp_path / "none", "--seed", seed, "--out", tmp_path / "o"]
    )
    assert outcome.exit_code == 2
    if not 0 <= seed <= MAX_SEED:
        assert "seed" in outcome.stderr


@settings(**_FAST)
@given(
    budget=numbers.map(repr),
    command=st.sampled_from(["early-warning"]),
)
def test_alert_budget_must_be_finite(tmp_path: Path, budget: str, command: str) -> None:
    outcome = invoke([command, "--data", tmp_path, "--alert-budget", budget])
    assert outcome.exit_code == 2


@settings(**_FAST)
@given(kind=st.sampled_from(["dir", "same-as-data", "same-as-model", "under-a-file"]))
def test_output_paths_refused_before_any_work(book_dir: Path, tmp_path: Path, kind: str) -> None:
    data = tmp_path / "loans.csv"
    data.write_text((book_dir / "loans.csv").read_text())
    model = tmp_path / "model.lrm"
    model.write_bytes(b"not a model")
    out = {
        "dir": tmp_path,
        "same-as-data": data,
        "same-as-model": model,
        "under-a-file": data / "scores.csv",
    }[kind]
    before = data.read_bytes()
    for args in (
        ["score", "--data", data, "--model", model, "--out", out],
        ["train", "--data", data, "--target", "Default_Next_6M", "--model-out", out],
    ):
        if args[0] == "train" and kind == "same-as-model":
            continue
        outcome = invoke(args)
        assert outcome.exit_code == 2
        assert "--out" in outcome.stderr or "--model-out" in outcome.stderr
    assert data.read_bytes() == before
