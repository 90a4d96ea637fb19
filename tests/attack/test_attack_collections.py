"""Attack the collection-history door: generated broken histories, contract and CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loanrecovery.contract import validate_collections, validate_loans
from loanrecovery.contract.collections import MAX_RECOVERY_FACTOR
from loanrecovery.exceptions import DataFileError

from .conftest import broken_table, invoke, shuffled

#: Generated cases fed to each test (see the report of issue 17).
LIBRARY_CASES = 60
CLI_CASES = 3

_FAST = {
    "deadline": None,
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@pytest.fixture(scope="module")
def history(book_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    loans = validate_loans(pd.read_csv(book_dir / "loans.csv", dtype=str), source="loans.csv")
    return pd.read_csv(book_dir / "collections.csv", dtype=str), loans.accepted["Loan_ID"]


@settings(max_examples=LIBRARY_CASES, **_FAST)
@given(
    data=st.data(),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1.0, 1000.0]),
    drop=st.sampled_from([None, "Loan_ID", "Month", "Action", "Cost", "Recovered_Amount"]),
)
def test_broken_histories_are_conserved_plausible_and_order_free(
    history: tuple[pd.DataFrame, pd.Series],
    data: st.DataObject,
    seed: int,
    scale: float,
    drop: str | None,
) -> None:
    frame, loan_ids = history
    frame = frame.copy()
    if scale != 1.0:  # a block of recoveries written 1000-fold
        rows = frame.index[: data.draw(st.integers(1, 30))]
        values = pd.to_numeric(frame.loc[rows, "Recovered_Amount"]) * scale + 1.0
        frame.loc[rows, "Recovered_Amount"] = values.astype(str)
    broken = data.draw(broken_table(frame))
    if drop is not None and data.draw(st.integers(0, 9)) == 0:
        with pytest.raises(DataFileError, match=drop):
            validate_collections(broken.drop(columns=drop), source="collections.csv")
        return
    result = validate_collections(broken, source="collections.csv", loan_ids=loan_ids, as_of=18)
    assert result.n_accepted + result.n_rejected == result.n_rows_in == len(broken)
    accepted = result.accepted
    money = accepted[["Cost", "Recovered_Amount", "Balance_At_Action"]].to_numpy(dtype=float)
    assert np.isfinite(money).all() and (money >= 0).all()
    assert (accepted["Month"] <= 18).all()
    ratio = accepted["Recovered_Amount"] / accepted["Balance_At_Action"].where(lambda b: b > 0)
    assert not (ratio > MAX_RECOVERY_FACTOR).any()
    assert not accepted["Action_ID"].dropna().duplicated().any()  # missing ids are allowed
    again = validate_collections(
        shuffled(broken, seed), source="collections.csv", loan_ids=loan_ids, as_of=18
    )
    pd.testing.assert_frame_equal(accepted, again.accepted)
    assert result.n_rejected == again.n_rejected


@settings(max_examples=CLI_CASES, **_FAST)
@given(data=st.data(), all_bad=st.booleans())
def test_optimize_on_broken_histories_exits_cleanly(
    book_dir: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, all_bad: bool
) -> None:
    folder = tmp_path_factory.mktemp("opt")
    for name in ("loans.csv", "payments.csv"):
        shutil.copy(book_dir / name, folder / name)
    frame = pd.read_csv(book_dir / "collections.csv", dtype=str)
    broken = data.draw(broken_table(frame, max_edits=15))
    if all_bad:
        broken["Cost"] = data.draw(st.sampled_from(["inf", "x", "-1", "12,39"]))
    broken.to_csv(folder / "collections.csv", index=False)
    outcome = invoke(["optimize", "--data", folder, "--out", folder / "out"])
    if all_bad:
        assert outcome.exit_code == 2
        if "no row passed the data contract" in outcome.stderr:
            rejects = pd.read_csv(folder / "out" / "collection_rejects.csv")
            assert len(rejects) == len(broken)
        else:  # a whole-file problem drawn as well (a column lost, a broken header)
            assert "collections.csv" in outcome.stderr, outcome.stderr
    if outcome.exit_code == 0:
        plan = pd.read_csv(folder / "out" / "plan.csv")
        numeric = plan.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numeric).any()
