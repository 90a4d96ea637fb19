"""Compare the output files of two ``loanrecovery run`` folders.

Usage::

    python benchmarks/compare_runs.py OLD_FOLDER NEW_FOLDER

For accounts.csv, scored_loans.csv, watchlist.csv, plan.csv and rejects.csv: the SHA-256 of
each file and, where the bytes differ, whether pandas reads equal tables (and the first
columns that differ). For metrics.json: equality with the timings
(any key ending in ``seconds``, at any depth) left out. Exits 1 when anything differs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

TABLES = ("accounts.csv", "scored_loans.csv", "watchlist.csv", "plan.csv", "rejects.csv")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def compare(old: Path, new: Path) -> bool:
    """Print the comparison; True when every file is the same."""
    same = True
    for name in TABLES:
        a, b = old / name, new / name
        if not a.exists() and not b.exists():
            print(f"{name}: absent in both")
            continue
        if a.exists() != b.exists():
            print(f"{name}: present in only one folder")
            same = False
            continue
        if _sha(a) == _sha(b):
            print(f"{name}: identical bytes (sha256 {_sha(a)[:16]})")
            continue
        left, right = pd.read_csv(a), pd.read_csv(b)
        if left.equals(right):
            print(f"{name}: bytes differ, pandas tables equal")
        else:
            cols = [c for c in left.columns if c not in right or not left[c].equals(right[c])]
            print(f"{name}: DIFFERENT (columns {cols[:8]}, shapes {left.shape} {right.shape})")
        same = False
    a = _without_timings(json.loads((old / "metrics.json").read_text(encoding="utf-8")))
    b = _without_timings(json.loads((new / "metrics.json").read_text(encoding="utf-8")))
    if a == b:
        print("metrics.json: equal apart from the timings")
    else:
        keys = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
        print(f"metrics.json: DIFFERENT (keys {sorted(keys)})")
        same = False
    return same


if __name__ == "__main__":
    sys.exit(0 if compare(Path(sys.argv[1]), Path(sys.argv[2])) else 1)
