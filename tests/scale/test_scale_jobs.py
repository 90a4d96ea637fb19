"""A worker process killed in the middle of a job: the job completes with every row
accounted for, or names the partitions not written; a rerun resumes and completes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from loanrecovery.scale import PartitionsNotWrittenError, score_partitioned
from loanrecovery.scale.jobs import RECORDS_DIR
from loanrecovery.simulate import write_parquet_book


def test_a_killed_worker_loses_no_row_and_a_rerun_resumes(
    model_file: Path, client, tmp_path: Path
) -> None:
    data = tmp_path / "book"
    write_parquet_book(data, 600, 12, seed=4, partitions=8, chunk_loans=600)
    loans = data / "loans.parquet"
    rows_in = pq.read_table(loans).num_rows
    out = tmp_path / "scores"
    pids = client.run(os.getpid)
    killed: list[int] = []

    def kill_one(name: str, record: dict) -> None:
        if not killed:  # after the first partition is written, while others are queued
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    try:
        first = score_partitioned(client, loans, model_file, out, reasons=2, on_done=kill_one)
    except PartitionsNotWrittenError as exc:
        assert exc.missing
        assert set(exc.missing) <= {p.stem for p in loans.glob("part-*.parquet")}
        assert "rerun the same command to resume" in str(exc)
    else:
        assert first.scored + first.rejected == first.rows_in == rows_in
    assert killed
    client.wait_for_workers(2, timeout=60)
    again = score_partitioned(client, loans, model_file, out, reasons=2)
    assert len(again.report.resumed) >= 1
    assert again.scored + again.rejected == again.rows_in == rows_in
    scores = pd.read_parquet(out / "scores.parquet")
    assert len(scores) == again.scored and scores["Loan_ID"].is_unique
    assert not list(out.rglob("*.tmp"))
    records = sorted(p.stem for p in (out / RECORDS_DIR).glob("*.json"))
    assert records == sorted(p.stem for p in loans.glob("part-*.parquet"))
