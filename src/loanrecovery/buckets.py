"""Hashed ``Loan_ID`` buckets: the partitioning of a book's Parquet folders.

A loan's row in ``loans.parquet/``, its payment-panel rows in ``payments.parquet/`` and its
collection actions in ``collections.parquet/`` carry the same bucket number, so part file
``part-00007.parquet`` of each table holds whole accounts: an account's history never
crosses partitions, and a partition can be validated, featurized and scored alone (no
shuffle). The hash is pandas' stable SipHash of the identifier text (fixed key), so the
same ``Loan_ID`` lands in the same bucket on every machine and every run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["bucket_of", "part_name", "PART_PREFIX"]

#: File name prefix of a partition (``part-00000.parquet``).
PART_PREFIX = "part-"


def bucket_of(loan_ids: pd.Series | np.ndarray, n_buckets: int) -> np.ndarray:
    """The bucket (0 .. n_buckets - 1) of each ``Loan_ID`` (identifiers read as text).

    Examples
    --------
    >>> bucket_of(np.array(["LN_1", "LN_2", "LN_1"]), 4).tolist()[0] == bucket_of(
    ...     np.array(["LN_1"]), 4
    ... ).tolist()[0]
    True
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be at least 1, got {n_buckets}")
    text = np.asarray(pd.Series(np.asarray(loan_ids)).astype(str).to_numpy(), dtype=object)
    hashed = pd.util.hash_array(text)
    return (hashed % np.uint64(n_buckets)).astype(np.int64)


def part_name(bucket: int) -> str:
    """The part file name of bucket ``bucket`` (``part-00007.parquet``)."""
    return f"{PART_PREFIX}{bucket:05d}.parquet"
