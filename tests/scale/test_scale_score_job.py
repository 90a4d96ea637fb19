"""`score --engine dask` on a real two-process cluster equals single-process `score`, row for
row, and its PSI (merged per-partition bin counts) equals the single-process figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tests.scale.conftest import runner

import loanrecovery.scale.cluster as cluster_module
from loanrecovery.cli import app
from loanrecovery.modeling.model_file import load_model
from loanrecovery.modeling.scoring import read_loans


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype) or out[name].dtype == object:
            out[name] = out[name].astype(str)
    return out.sort_values("Loan_ID").reset_index(drop=True)


def test_dask_scores_equal_single_process_scores(
    parquet_book: Path, model_file: Path, cluster, tmp_path: Path
) -> None:
    loans = parquet_book / "loans.parquet"
    single = tmp_path / "single.csv"
    done = runner.invoke(
        app, ["score", "--data", str(loans), "--model", str(model_file), "--out", str(single)]
    )
    assert done.exit_code == 0, done.output
    out = tmp_path / "dask"
    args = ["score", "--data", str(loans), "--model", str(model_file), "--out", str(out)]
    done = runner.invoke(app, [*args, "--engine", "dask", "--scheduler", cluster.scheduler_address])
    assert done.exit_code == 0, done.output
    assert len(list((out / "scores.parquet").glob("part-*.parquet"))) == 4
    expected = pd.read_csv(single, keep_default_na=False)
    got = pd.read_parquet(out / "scores.parquet")
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(_as_text(got), _as_text(expected), check_dtype=False)

    summary = json.loads((out / "score.json").read_text())
    frame = read_loans(loans)
    assert summary["rows_in"] == len(frame) == summary["scored"] + summary["rejected"]
    reference = load_model(model_file)[0].score(frame, n_reasons=0)
    assert summary["overall_psi"] == reference.overall_psi
    drift = pd.read_csv(out / "drift.csv").set_index("feature")["psi"]
    want = reference.drift.set_index("feature")["psi"]
    np.testing.assert_array_equal(drift.loc[want.index].to_numpy(), want.to_numpy())

    again = runner.invoke(
        app, [*args, "--engine", "dask", "--scheduler", cluster.scheduler_address]
    )
    assert again.exit_code == 0, again.output
    assert "(4 resumed)" in " ".join(again.output.split())


def test_dask_engine_without_the_extra_says_how_to_install(
    parquet_book: Path, model_file: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(cluster_module, "Client", None)
    args = ["score", "--data", str(parquet_book / "loans.parquet"), "--model", str(model_file)]
    done = runner.invoke(app, [*args, "--out", str(tmp_path / "x"), "--engine", "dask"])
    assert done.exit_code == 2
    assert "pip install 'loanrecovery[scale]'" in " ".join(done.output.split())
