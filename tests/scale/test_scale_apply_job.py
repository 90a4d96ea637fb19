"""`apply --engine dask` on a real two-process cluster equals single-process `apply` row for
row (risk and early warning), with every row of every table accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.scale.conftest import runner

from loanrecovery.cli import app
from loanrecovery.io import NULL_VALUES

SCORED = ["Loan_ID", "Segment", "Risk_Score", "Status", "PD_3M", "PD_6M", "PD_12M"]
EARLY = ["Loan_ID", "Month", "Days_Past_Due", "P3", "P6", "P12", "Expected_Months_To_Default"]


@pytest.fixture(scope="module")
def book_with_bad_rows(parquet_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book with two loans of part 1 given an impossible age (the contract rejects them
    and, with them, their payments and collection actions)."""
    out = tmp_path_factory.mktemp("bad") / "book"
    for table in ("loans", "payments", "collections"):
        (out / f"{table}.parquet").mkdir(parents=True)
        for part in sorted((parquet_book / f"{table}.parquet").glob("*.parquet")):
            frame = pd.read_parquet(part)
            if table == "loans" and part.name == "part-00001.parquet":
                frame.loc[frame.index[:2], "Age"] = -5
            frame.to_parquet(out / f"{table}.parquet" / part.name, index=False)
    return out


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame[columns].copy()
    for name in columns:
        if out[name].dtype == object:
            out[name] = out[name].where(out[name].notna(), "").astype(str)
    return out.sort_values("Loan_ID").reset_index(drop=True)


def test_dask_apply_equals_single_process_apply(
    book_with_bad_rows: Path, bundle_file: Path, cluster, tmp_path: Path
) -> None:
    data = str(book_with_bad_rows)
    single = tmp_path / "single"
    base = ["apply", "--data", data, "--bundle", str(bundle_file), "--accept-rejects"]
    done = runner.invoke(app, [*base, "--out", str(single)])
    assert done.exit_code == 0, done.output
    out = tmp_path / "dask"
    engine = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    done = runner.invoke(app, [*base, "--out", str(out), *engine])
    assert done.exit_code == 0, done.output

    expected = pd.read_csv(
        single / "scored_loans.csv", keep_default_na=False, na_values=list(NULL_VALUES)
    )
    got = pd.read_parquet(out / "scored.parquet")
    assert len(got) == len(expected)
    assert list(got.columns) == [
        c for c in expected.columns if c not in ("Priority_Rank", "On_Watchlist")
    ]
    reasons = [c for c in expected.columns if c.startswith("Reason_")]
    assert reasons
    pd.testing.assert_frame_equal(
        _sorted(got, SCORED + reasons), _sorted(expected, SCORED + reasons), check_dtype=False
    )
    # The policy's strategy: single-process `apply` shows the recovery plan's action (a
    # book-wide optimisation, not run per partition) for the loans in its plan.
    planned = pd.read_csv(single / "plan.csv")["Loan_ID"]
    policy = ["Loan_ID", "Strategy", "Strategy_Rule"]
    pd.testing.assert_frame_equal(
        _sorted(got.loc[~got["Loan_ID"].isin(planned)], policy),
        _sorted(expected.loc[~expected["Loan_ID"].isin(planned)], policy),
    )
    watch = pd.read_csv(single / "watchlist.csv")
    early = pd.read_parquet(out / "early_warning.parquet")
    pd.testing.assert_frame_equal(_sorted(early, EARLY), _sorted(watch, EARLY), check_dtype=False)

    summary = json.loads((out / "apply_scale.json").read_text())
    single_counts = json.loads((single / "apply.json").read_text())["tables"]
    assert summary["tables"] == single_counts
    assert summary["tables"]["loans"]["rejected"] == 2
    for table, counts in summary["tables"].items():
        rows = pq.read_table(book_with_bad_rows / f"{table}.parquet").num_rows
        assert counts["in"] == rows == counts["accepted"] + counts["rejected"]
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert rejects.loc[rejects["Table"] == "loans", "Row"].nunique() == 2
