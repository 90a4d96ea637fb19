"""``benchmarks/bench_scale.py replicate``: copies of a loans folder with unique identifiers."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pyarrow.parquet as pq
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scale.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source(folder: Path) -> Path:
    folder.mkdir()
    frames = [
        pd.DataFrame(
            {
                "Borrower_ID": ["BRW_1", "BRW_7", "BRW_7"],
                "Loan_ID": ["LN_1", "LN_3", "LN_9"],
                "Loan_Amount": [100.0, 200.0, 300.0],
            }
        ),
        pd.DataFrame({"Borrower_ID": ["BRW_2"], "Loan_ID": ["LN_4"], "Loan_Amount": [400.0]}),
    ]
    for i, frame in enumerate(frames):
        frame.to_parquet(folder / f"part-{i:05d}.parquet", index=False)
    return folder


def test_replicate_renumbers_identifiers_and_keeps_the_rest(tmp_path: Path) -> None:
    source = _source(tmp_path / "loans.parquet")
    out = tmp_path / "big"
    _bench().replicate(source, 3, out)
    parts = sorted(out.glob("*.parquet"))
    assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(6)]
    table = pq.read_table(out).to_pandas()
    assert len(table) == 12
    assert table["Loan_ID"].is_unique
    # copy k adds k x (largest number + 1): LN_9 -> LN_19 -> LN_29, BRW_7 -> BRW_15 -> BRW_23
    assert set(table["Loan_ID"]) >= {"LN_9", "LN_19", "LN_29", "LN_4", "LN_14", "LN_24"}
    assert set(table["Borrower_ID"]) == {f"BRW_{n + 8 * k}" for n in (1, 2, 7) for k in range(3)}
    assert table["Loan_Amount"].tolist() == [100.0, 200.0, 300.0, 400.0] * 3


def test_replicate_refuses_bad_input(tmp_path: Path) -> None:
    bench = _bench()
    source = _source(tmp_path / "loans.parquet")
    with pytest.raises(SystemExit, match="--copies must be at least 1"):
        bench.replicate(source, 0, tmp_path / "out0")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(SystemExit, match="is not empty"):
        bench.replicate(source, 2, tmp_path / "full")
    with pytest.raises(SystemExit, match="no .parquet part files"):
        bench.replicate(tmp_path / "full", 2, tmp_path / "out1")
    odd = tmp_path / "odd"
    odd.mkdir()
    pd.DataFrame({"Borrower_ID": ["B1"], "Loan_ID": ["LN_1"]}).to_parquet(
        odd / "part-00000.parquet", index=False
    )
    with pytest.raises(SystemExit, match="not of the form BRW_"):
        bench.replicate(odd, 2, tmp_path / "out2")
