"""Attack ``run`` with a whole broken book: payments and collections damaged at once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import broken_table, invoke

#: Generated cases fed to the test (each is a full `run`, about a minute on 2 busy cores).
CASES = 1


@settings(
    max_examples=CASES,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_run_on_a_broken_book_exits_cleanly_and_conserves_rows(
    book_dir: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("run")
    shutil.copy(book_dir / "loans.csv", folder / "loans.csv")
    n_rows = {}
    for name in ("payments.csv", "collections.csv"):
        frame = pd.read_csv(book_dir / name, dtype=str)
        broken = data.draw(broken_table(frame, max_edits=25))
        broken.to_csv(folder / name, index=False)
        n_rows[name] = len(broken)
    outcome = invoke(["run", "--data", folder, "--out", folder / "out"])
    if outcome.exit_code != 0:
        return
    scored = pd.read_csv(folder / "out" / "scored_loans.csv")
    assert not np.isinf(scored.select_dtypes("number").to_numpy(dtype=float)).any()
    tables = json.loads((folder / "out" / "metrics.json").read_text())["tables"]
    for name, file in (
        ("payments", "payment_rejects.csv"),
        ("collections", "collection_rejects.csv"),
    ):
        counts = tables[name]
        # every row read is accepted or rejected, and the rejects file lists the rejected ones
        assert counts["in"] == counts["accepted"] + counts["rejected"] == n_rows[f"{name}.csv"]
        path = folder / "out" / file
        written = pd.read_csv(path)["Row"].nunique() if path.exists() else 0
        assert written == counts["rejected"]
