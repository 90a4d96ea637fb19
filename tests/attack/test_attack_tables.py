"""Attack the tables that are not ours (evaluate, train, score): generated broken tables."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loanrecovery.exceptions import DataFileError
from loanrecovery.io import read_table
from loanrecovery.modeling.table import prepare_table

from .conftest import broken_table, hostile_cells

#: Generated cases fed to each test (see the report of issue 17).
CASES = 25

_FAST = {
    "deadline": None,
    "max_examples": CASES,
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@pytest.fixture(scope="module")
def foreign_table() -> pd.DataFrame:
    """A table in no known layout: an id, numbers, a category, free text and a 0/1 target."""
    rng = np.random.default_rng(0)
    n = 300
    income = rng.lognormal(10, 0.4, n).round(2)
    score = rng.normal(600, 50, n).round(0)
    bad = (rng.random(n) < 1 / (1 + np.exp((score - 560) / 30))).astype(int)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "income": income,
            "bureau_score": score,
            "region": rng.choice(["north", "south", "east"], n),
            "note": [f"customer {i} called about the statement" for i in range(n)],
            "bad": bad,
        }
    )


@settings(**_FAST)
@given(data=st.data(), strict=st.booleans())
def test_broken_tables_are_counted_and_never_silently_lost(
    foreign_table: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory, data, strict: bool
) -> None:
    broken = data.draw(broken_table(foreign_table, max_edits=12))
    long_ids = data.draw(st.integers(0, 6))
    for row in range(long_ids):  # very long values in the identifier
        broken.iat[row, 0] = "x" * 300 + str(row)
    path = tmp_path_factory.mktemp("table") / "table.csv"
    text = broken.to_csv(index=False)
    extra = data.draw(st.lists(st.sampled_from(["1,2,3,4,5,6,7,8", "a,b"]), max_size=3))
    path.write_text(text + "".join(line + "\n" for line in extra))
    try:
        frame = read_table(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prepared = prepare_table(frame, target="bad", source=str(path), strict=strict)
    except DataFileError:
        return
    used = len(prepared.y)
    records = len(broken) + len(extra)  # short and long records are both malformed
    assert prepared.n_input_rows == records
    assert used + prepared.n_excluded + len(prepared.rejects) == records
    assert "id" not in prepared.X.columns and "note" not in prepared.X.columns
    numeric = prepared.X.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(numeric).any()
    assert not prepared.X.isin(["id", "income", "bad"]).any().any()


@settings(**_FAST)
@given(cells=st.lists(hostile_cells, min_size=1, max_size=20))
def test_numeric_problems_are_counted_per_column(
    foreign_table: pd.DataFrame, cells: list[str]
) -> None:
    frame = foreign_table.astype(object).copy()
    for row, value in enumerate(cells):
        frame.iat[row, 1] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prepared = prepare_table(frame, target="bad", strict=True)
        except DataFileError:
            return
    counted = sum(prepared.value_problems.get("income", {}).values())
    if prepared.roles["income"] in {"numeric", "numeric text"}:
        assert counted == int(prepared.rejects["Column"].eq("income").sum())
