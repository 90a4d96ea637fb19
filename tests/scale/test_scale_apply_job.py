"""`apply --engine dask` on a real two-process cluster equals single-process `apply` row for
row: accounts, scored loans (with the book-wide priority rank and watchlist flag), the
watchlist (with its book-wide rank, alerts and warning-sign reasons) and the recovery plan
(one optimisation over the whole book), with every row of every table accounted for."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.scale.conftest import runner

from loanrecovery.cli import app
from loanrecovery.io import NULL_VALUES
from loanrecovery.scale import PartitionsNotWrittenError, apply_partitioned


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


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=list(NULL_VALUES))


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame[columns].copy()
    for name in columns:
        values = out[name]
        if values.dtype == object:
            # Columns outside the contract are kept as text in Parquet ("-6"), read back
            # from CSV as numbers: compare them as numbers.
            number = pd.to_numeric(values, errors="coerce")
            if values.notna().any() and number.notna().sum() == values.notna().sum():
                out[name] = number.astype("float64")
            else:
                out[name] = values.where(values.notna(), "").astype(str)
        elif values.dtype != bool and pd.api.types.is_numeric_dtype(values):
            out[name] = values.astype("float64")
    return out.sort_values("Loan_ID").reset_index(drop=True)


@pytest.fixture(scope="module")
def single_apply(
    book_with_bad_rows: Path, bundle_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Single-process `apply` of the book (CSV outputs)."""
    out = tmp_path_factory.mktemp("single") / "applied"
    args = ["apply", "--data", str(book_with_bad_rows), "--bundle", str(bundle_file)]
    done = runner.invoke(app, [*args, "--accept-rejects", "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out


def _assert_same_answers(out: Path, single: Path, data: Path) -> None:
    """The Dask engine's four tables equal single-process apply's, row for row."""
    files = {"accounts": "accounts", "scored": "scored_loans", "watchlist": "watchlist"}
    for name, csv in {**files, "plan": "plan"}.items():
        expected = _csv(single / f"{csv}.csv")
        got = pd.read_parquet(out / f"{name}.parquet")
        assert list(got.columns) == list(expected.columns), name
        assert len(got) == len(expected) > 0, name
        assert got["Loan_ID"].is_unique, name
        pd.testing.assert_frame_equal(
            _sorted(got, list(got.columns)),
            _sorted(expected, list(expected.columns)),
            check_dtype=False,
            obj=name,
        )
    assert {p.name for p in (out / "scored.parquet").glob("*.parquet")} == {
        p.name for p in (data / "loans.parquet").glob("*.parquet")
    }
    assert not list(out.rglob("*.tmp*"))


def test_dask_apply_equals_single_process_apply(
    book_with_bad_rows: Path, bundle_file: Path, single_apply: Path, cluster, tmp_path: Path
) -> None:
    out = tmp_path / "dask"
    args = ["apply", "--data", str(book_with_bad_rows), "--bundle", str(bundle_file)]
    engine = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    done = runner.invoke(app, [*args, "--accept-rejects", "--out", str(out), *engine])
    assert done.exit_code == 0, done.output
    _assert_same_answers(out, single_apply, book_with_bad_rows)

    # The book-wide steps have something to show on this book.
    scored = pd.read_parquet(out / "scored.parquet")
    ranks = scored["Priority_Rank"].dropna().astype(int)
    assert scored["On_Watchlist"].any()
    assert sorted(ranks) == list(range(1, len(ranks) + 1))
    watch = pd.read_parquet(out / "watchlist.parquet")
    assert watch["Alert"].any() and (watch["Reasons"].fillna("") != "").any()
    assert sorted(watch["Rank"]) == list(range(1, len(watch) + 1))
    plan = pd.read_parquet(out / "plan.parquet")
    assert plan["Action"].ne("None").any()

    summary = json.loads((out / "apply_scale.json").read_text())
    assert summary["watchlist"]["alerts"] == int(watch["Alert"].sum())
    assert summary["recovery"]["optimized"]["accounts"] == int(plan["Action"].ne("None").sum())
    single_counts = json.loads((single_apply / "apply.json").read_text())["tables"]
    assert summary["tables"] == single_counts
    assert summary["tables"]["loans"]["rejected"] == 2
    for table, counts in summary["tables"].items():
        rows = pq.read_table(book_with_bad_rows / f"{table}.parquet").num_rows
        assert counts["in"] == rows == counts["accepted"] + counts["rejected"]
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert rejects.loc[rejects["Table"] == "loans", "Row"].nunique() == 2

    # A rerun of the same job finds every step done and changes nothing.
    again = runner.invoke(app, [*args, "--accept-rejects", "--out", str(out), *engine])
    assert again.exit_code == 0, again.output
    assert "4 partitions (4 resumed)" in again.output
    _assert_same_answers(out, single_apply, book_with_bad_rows)


def test_a_killed_worker_in_apply_loses_nothing_and_a_rerun_resumes(
    book_with_bad_rows: Path, bundle_file: Path, single_apply: Path, client, tmp_path: Path
) -> None:
    out = tmp_path / "dask"
    pids = client.run(os.getpid)
    killed: list[int] = []

    def kill_one(name: str, record: dict) -> None:
        if not killed:  # after the first partition of pass 1, while others are queued
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    try:
        apply_partitioned(client, book_with_bad_rows, bundle_file, out, on_done=kill_one)
    except PartitionsNotWrittenError as exc:
        assert "rerun the same command to resume" in str(exc)
    assert killed
    client.wait_for_workers(2, timeout=60)
    again = apply_partitioned(client, book_with_bad_rows, bundle_file, out)
    assert len(again.report.resumed) >= 1
    _assert_same_answers(out, single_apply, book_with_bad_rows)
