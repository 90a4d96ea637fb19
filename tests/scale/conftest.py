"""One small bucketed Parquet book, a model and a bundle fitted on it, and a real local Dask
cluster of two worker processes on loopback, shared by the scale tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loanrecovery.bundle import fit_bundle, save_bundle
from loanrecovery.cli import app
from loanrecovery.contract.book import read_book
from loanrecovery.simulate import write_parquet_book

distributed = pytest.importorskip("distributed", reason="needs the scale extra (Dask)")

runner = CliRunner()


@pytest.fixture(scope="session")
def parquet_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """900 loans, 18 months, 4 buckets, simulated in two chunks."""
    out = tmp_path_factory.mktemp("scale") / "book"
    write_parquet_book(out, 900, 18, seed=11, partitions=4, chunk_loans=450)
    return out


@pytest.fixture(scope="session")
def bundle_file(parquet_book: Path) -> Path:
    path = parquet_book.parent / "book.bundle"
    save_bundle(fit_bundle(read_book(parquet_book)), path)
    return path


@pytest.fixture(scope="session")
def model_file(parquet_book: Path) -> Path:
    path = parquet_book.parent / "model.lrm"
    args = ["train", "--data", str(parquet_book / "loans.parquet"), "--target"]
    done = runner.invoke(
        app,
        [*args, "Default_Next_6M", "--id", "Loan_ID", "--folds", "2", "--model-out", str(path)],
    )
    assert done.exit_code == 0, done.output
    return path


@pytest.fixture(scope="session")
def cluster() -> Iterator[distributed.LocalCluster]:
    """A real scheduler and two worker processes on 127.0.0.1 (not the synchronous one)."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


@pytest.fixture
def client(cluster: distributed.LocalCluster) -> Iterator[distributed.Client]:
    with distributed.Client(cluster) as connected:
        yield connected
