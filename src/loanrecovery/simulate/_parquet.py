"""Writing a simulated book as partitioned Parquet, in chunks of loans (bounded memory).

``write_parquet_book`` simulates the book ``chunk_loans`` loans at a time and appends each
chunk's rows to the part files of their hashed ``Loan_ID`` bucket
(:func:`loanrecovery.buckets.bucket_of`)::

    DIR/loans.parquet/part-00000.parquet ... part-(P-1).parquet
    DIR/payments.parquet/part-00000.parquet ...
    DIR/collections.parquet/part-00000.parquet ...
    DIR/truth.json          (seed and sizes only: the Monte-Carlo truth is not computed)

Memory is that of one chunk (plus one row-group buffer per open part file), whatever the
number of loans. A book of at most ``chunk_loans`` loans is the CSV book of the same seed
(same rows, same values); a larger one is simulated chunk by chunk, chunk ``k`` with its own
seed drawn from the book's seed, and identifiers renumbered so that they stay unique.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loanrecovery.buckets import bucket_of, part_name
from loanrecovery.exceptions import DataFileError
from loanrecovery.simulate._book import simulate_portfolio

__all__ = ["write_parquet_book", "PARQUET_TABLES", "DEFAULT_CHUNK_LOANS"]

#: The Parquet folders written by :func:`write_parquet_book`.
PARQUET_TABLES: tuple[str, ...] = ("loans", "payments", "collections")
#: Loans simulated at once (about 0.4 GB of working memory with 24 months).
DEFAULT_CHUNK_LOANS = 100_000

Progress = Callable[[int, int], None]


def _chunk_seed(seed: int, chunk: int, n_chunks: int) -> int:
    """The seed of chunk ``chunk``: the book's seed itself when there is one chunk."""
    if n_chunks == 1:
        return seed
    state = np.random.SeedSequence([seed, chunk]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def _renumber(values: pd.Series, prefix: str, offset: int) -> np.ndarray:
    """``PREFIX_i`` -> ``PREFIX_(i + offset)``."""
    numbers = values.str.slice(len(prefix)).astype(np.int64).to_numpy() + offset
    return np.char.add(prefix, numbers.astype(str)).astype(object)


class _PartWriters:
    """One lazily opened :class:`pyarrow.parquet.ParquetWriter` per table and bucket."""

    def __init__(self, out: Path, n_parts: int) -> None:
        self.out = out
        self.n_parts = n_parts
        self.writers: dict[tuple[str, int], pq.ParquetWriter] = {}
        self.schemas: dict[str, pa.Schema] = {}

    def _schema(self, name: str, table: pa.Table) -> pa.Schema:
        if name not in self.schemas:
            fields = [
                pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                for f in table.schema
            ]
            self.schemas[name] = pa.schema(fields)
        return self.schemas[name]

    def write(self, name: str, frame: pd.DataFrame, buckets: np.ndarray) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.cast(self._schema(name, table))
        order = np.argsort(buckets, kind="stable")
        starts = np.searchsorted(buckets[order], np.arange(self.n_parts + 1))
        for bucket in range(self.n_parts):
            rows = order[starts[bucket] : starts[bucket + 1]]
            if rows.size == 0:
                continue
            writer = self.writers.get((name, bucket))
            if writer is None:
                path = self.out / f"{name}.parquet" / part_name(bucket)
                writer = pq.ParquetWriter(path, self.schemas[name])
                self.writers[(name, bucket)] = writer
            writer.write_table(table.take(pa.array(rows)))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        # Every bucket gets a part file in every table, empty when no account hashed there,
        # so that part i of each table always exists and describes the same accounts.
        for name, schema in self.schemas.items():
            for bucket in range(self.n_parts):
                if (name, bucket) not in self.writers:
                    path = self.out / f"{name}.parquet" / part_name(bucket)
                    pq.write_table(schema.empty_table(), path)


def write_parquet_book(
    out_dir: str | Path,
    n_loans: int,
    n_months: int,
    seed: int,
    *,
    partitions: int | None = None,
    chunk_loans: int = DEFAULT_CHUNK_LOANS,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Simulate a book chunk by chunk and write it as partitioned Parquet.

    Parameters
    ----------
    out_dir : str or Path
        The folder (created when missing); earlier ``*.parquet`` folders in it are replaced.
    n_loans, n_months, seed : int
        As :func:`~loanrecovery.simulate.simulate_portfolio`.
    partitions : int, optional
        Hashed ``Loan_ID`` buckets (part files per table); default one per 100,000 loans.
    chunk_loans : int, default 100000
        Loans simulated at once (bounds the memory).
    progress : callable, optional
        Called as ``progress(loans_done, n_loans)`` after each chunk.

    Returns
    -------
    dict of str to Path
        ``loans``, ``payments``, ``collections`` (folders) and ``truth`` (file).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataFileError(out, "exists and is not a directory; expected a folder")
    n_parts = partitions if partitions is not None else max(1, -(-n_loans // 100_000))
    if n_parts < 1 or chunk_loans < 1:
        raise DataFileError(out, f"partitions and chunk size must be >= 1, got {n_parts}")
    for name in PARQUET_TABLES:
        folder = out / f"{name}.parquet"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    n_chunks = -(-n_loans // chunk_loans)
    writers = _PartWriters(out, n_parts)
    done = actions = 0
    counts = dict.fromkeys(PARQUET_TABLES, 0)
    try:
        for chunk in range(n_chunks):
            size = min(chunk_loans, n_loans - done)
            book = simulate_portfolio(
                n_loans=size,
                n_months=n_months,
                seed=_chunk_seed(seed, chunk, n_chunks),
                truth=False,
            )
            tables = {
                "loans": book.loans,
                "payments": book.payments,
                "collections": book.collections,
            }
            if chunk:
                tables = _offset_ids(tables, done, actions)
            for name, frame in tables.items():
                writers.write(name, frame, bucket_of(frame["Loan_ID"].to_numpy(), n_parts))
                counts[name] += len(frame)
            done += size
            actions += len(book.collections)
            if progress is not None:
                progress(done, n_loans)
    finally:
        writers.close()
    truth = {
        "seed": seed,
        "n_loans": n_loans,
        "n_months": n_months,
        "partitions": n_parts,
        "chunks": n_chunks,
        "rows": counts,
        "note": "partitioned Parquet book: the Monte-Carlo ground truth is not computed",
    }
    paths = {name: out / f"{name}.parquet" for name in PARQUET_TABLES}
    paths["truth"] = out / "truth.json"
    paths["truth"].write_text(json.dumps(truth, sort_keys=True) + "\n", encoding="utf-8")
    return paths


def _offset_ids(
    tables: dict[str, pd.DataFrame], loans_before: int, actions_before: int
) -> dict[str, pd.DataFrame]:
    """Loan, borrower and action identifiers of a later chunk moved past the earlier ones."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        frame["Loan_ID"] = _renumber(frame["Loan_ID"], "LN_", loans_before)
        if "Borrower_ID" in frame.columns:
            frame["Borrower_ID"] = _renumber(frame["Borrower_ID"], "BRW_", loans_before)
        if "Action_ID" in frame.columns:
            frame["Action_ID"] = _renumber(frame["Action_ID"], "ACT_", actions_before)
        out[name] = frame
    return out
