"""Attack the payment panel door: generated broken panels through the contract and the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loanrecovery.contract.payments import PANEL_COLUMNS, validate_panel
from loanrecovery.exceptions import DataFileError

from .conftest import broken_table, invoke, shuffled

#: Generated cases fed to each test (see the report of issue 17).
LIBRARY_CASES = 60
CLI_CASES = 4


@pytest.fixture(scope="module")
def panel_and_loans(book_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    loans = pd.read_csv(book_dir / "loans.csv", dtype=str)
    keep = set(loans["Loan_ID"].head(40))
    panel = pd.read_csv(book_dir / "payments.csv", dtype=str)
    return panel[panel["Loan_ID"].isin(keep)].reset_index(drop=True), loans


def _comparable(accepted: pd.DataFrame) -> pd.DataFrame:
    return accepted.drop(columns="Row").reset_index(drop=True)


@settings(
    max_examples=LIBRARY_CASES,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), seed=st.integers(0, 2**16), drop=st.sampled_from([None, *PANEL_COLUMNS]))
def test_broken_panels_are_conserved_finite_and_order_free(
    panel_and_loans: tuple[pd.DataFrame, pd.DataFrame],
    data: st.DataObject,
    seed: int,
    drop: str | None,
) -> None:
    panel, loans = panel_and_loans
    broken = data.draw(broken_table(panel))
    if drop is not None and data.draw(st.integers(0, 9)) == 0:
        broken = broken.drop(columns=drop)
        with pytest.raises(DataFileError, match=drop):
            validate_panel(broken, loans, source="payments.csv")
        return
    result = validate_panel(broken, loans, source="payments.csv")
    assert len(result.accepted) + result.rejects["Row"].nunique() == len(broken)
    numbers = result.accepted[list(PANEL_COLUMNS[2:])].to_numpy(dtype=float)
    assert np.isfinite(numbers).all() and (numbers >= 0).all()
    assert result.accepted["Month"].between(-1200, 18).all()
    assert not result.accepted.duplicated(["Loan_ID", "Month"]).any()
    assert result.rejects["Reason"].str.len().gt(0).all()
    again = validate_panel(shuffled(broken, seed), loans, source="payments.csv")
    pd.testing.assert_frame_equal(_comparable(result.accepted), _comparable(again.accepted))
    assert sorted(result.rejects["Reason"]) == sorted(again.rejects["Reason"]) or len(
        result.rejects
    ) == len(again.rejects)


@settings(
    max_examples=CLI_CASES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_early_warning_on_broken_panels_exits_cleanly(
    book_dir: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("ew")
    shutil.copy(book_dir / "loans.csv", folder / "loans.csv")
    panel = pd.read_csv(book_dir / "payments.csv", dtype=str)
    data.draw(broken_table(panel, max_edits=20)).to_csv(folder / "payments.csv", index=False)
    outcome = invoke(["early-warning", "--data", folder, "--out", folder / "out"])
    if outcome.exit_code == 0:
        watch = pd.read_csv(folder / "out" / "watchlist.csv")
        numeric = watch.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numeric).any()
