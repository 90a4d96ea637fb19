"""`simulate --format parquet`: hashed Loan_ID buckets shared by the three tables, chunks
with unique identifiers, the same rows as the CSV book when there is one chunk, and every
reader accepting the Parquet folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from typer.testing import CliRunner

from loanrecovery.buckets import bucket_of
from loanrecovery.cli import app
from loanrecovery.contract.book import read_book
from loanrecovery.modeling.scoring import read_loans
from loanrecovery.simulate import simulate_portfolio, write_parquet_book


def test_one_chunk_is_the_csv_book(tmp_path: Path) -> None:
    write_parquet_book(tmp_path, 300, 12, seed=9, partitions=3)
    book = simulate_portfolio(300, 12, seed=9, truth=False)
    for name, frame in (("loans", book.loans), ("payments", book.payments)):
        got = pq.read_table(tmp_path / f"{name}.parquet").to_pandas()
        keys = ["Loan_ID", "Month"] if name == "payments" else ["Loan_ID"]
        got = got.sort_values(keys).reset_index(drop=True)
        want = frame.sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_chunks_share_buckets_and_keep_identifiers_unique(tmp_path: Path) -> None:
    write_parquet_book(tmp_path, 500, 12, seed=2, partitions=4, chunk_loans=200)
    loans = read_loans(tmp_path / "loans.parquet")
    assert len(loans) == 500 and loans["Loan_ID"].is_unique and loans["Borrower_ID"].is_unique
    for table in ("loans", "payments", "collections"):
        parts = sorted((tmp_path / f"{table}.parquet").glob("part-*.parquet"))
        assert [p.stem for p in parts] == [f"part-{i:05d}" for i in range(4)]
        for i, part in enumerate(parts):
            ids = pq.read_table(part, columns=["Loan_ID"]).column(0).to_numpy()
            assert (bucket_of(ids, 4) == i).all()
    actions = pq.read_table(tmp_path / "collections.parquet").to_pandas()
    assert actions["Action_ID"].is_unique
    assert set(actions["Loan_ID"]) <= set(loans["Loan_ID"])
    book = read_book(tmp_path)
    counts = book.counts()
    assert counts["loans"]["accepted"] == 500 and counts["payments"]["rejected"] == 0
    assert np.isin(book.payments["Loan_ID"].unique(), book.loans["Loan_ID"]).all()


def test_simulate_command_writes_parquet_folders(tmp_path: Path) -> None:
    out = tmp_path / "book"
    args = ["simulate", "--loans", "200", "--months", "6", "--format", "parquet"]
    done = CliRunner().invoke(app, [*args, "--partitions", "2", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert len(list((out / "payments.parquet").glob("part-*.parquet"))) == 2
    assert pq.read_table(out / "loans.parquet").num_rows == 200
    bad = CliRunner().invoke(app, ["simulate", "--format", "xlsx", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--format" in bad.output
