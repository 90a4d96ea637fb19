"""Attack the JSON the product writes: non-finite figures never make invalid JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loanrecovery.jsonable import to_jsonable

from .conftest import hostile_cells, invoke

#: Generated cases fed to each test (see the report of issue 17).
CASES = 40

_FAST = {
    "deadline": None,
    "max_examples": CASES,
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}


def _strict_loads(text: str) -> object:
    def refuse(name: str) -> object:
        raise AssertionError(f"{name} in JSON")

    return json.loads(text, parse_constant=refuse)


payloads = st.recursive(
    st.none()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.text(max_size=5)
    | st.floats().map(np.float64),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=15,
)


@settings(**_FAST)
@given(payload=payloads)
def test_jsonable_payloads_are_always_valid_json(payload: object) -> None:
    _strict_loads(json.dumps(to_jsonable(payload), allow_nan=False))


@settings(**_FAST)
@given(
    recovered=st.lists(hostile_cells | st.floats().map(repr), min_size=6, max_size=6),
    truth=st.one_of(st.none(), st.binary(max_size=60), st.just(b'{"potential_outcomes": 1}')),
)
def test_compare_strategies_writes_json_or_one_line(
    tmp_path: Path, recovered: list[str], truth: bytes | None
) -> None:
    ids = [f"L{i}" for i in range(6)]
    plan = pd.DataFrame(
        {"Loan_ID": ids, "Arm": ["champion", "challenger"] * 3, "Action": ["Legal Action"] * 6}
    )
    plan.to_csv(tmp_path / "plan.csv", index=False)
    args = ["compare-strategies", "--plan", tmp_path / "plan.csv", "--json", tmp_path / "c.json"]
    if truth is None:
        outcomes = pd.DataFrame({"Loan_ID": ids, "Recovered_Amount": recovered, "Cost": 1.0})
        outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
        args += ["--outcomes", tmp_path / "outcomes.csv"]
    else:
        (tmp_path / "truth.json").write_bytes(truth)
        args += ["--truth", tmp_path / "truth.json"]
    outcome = invoke(args)
    if outcome.exit_code == 0:
        written = _strict_loads((tmp_path / "c.json").read_text())
        assert isinstance(written, dict)
        assert all(
            v is None or not isinstance(v, float) or math.isfinite(v) for v in written.values()
        )
