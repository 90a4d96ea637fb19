"""Connecting to a Dask cluster: a local one of worker processes or an existing scheduler."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loanrecovery.exceptions import OptionError

try:  # the optional ``scale`` extra
    from distributed import Client, LocalCluster
except ImportError:  # pragma: no cover - exercised when the extra is not installed
    Client = None  # type: ignore[misc,assignment]
    LocalCluster = None  # type: ignore[misc,assignment]

__all__ = ["DASK_MISSING", "connect", "dask_available", "require_dask"]

logger = logging.getLogger(__name__)

#: What to do when ``--engine dask`` is asked for without the ``scale`` extra.
DASK_MISSING = (
    "needs Dask, which is not installed: pip install 'loanrecovery[scale]' "
    "(dask[dataframe] and distributed), or use --engine local"
)


def dask_available() -> bool:
    """Whether the ``scale`` extra (``distributed``) is installed."""
    return Client is not None


def require_dask(option: str = "--engine") -> None:
    """Raise :class:`OptionError` saying how to install the ``scale`` extra when it is
    missing."""
    if not dask_available():
        raise OptionError(option, f"dask {DASK_MISSING}")


@contextmanager
def connect(
    *, workers: int | None = None, scheduler: str | None = None, memory_limit: str = "auto"
) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` when given, else to a local cluster of
    ``workers`` worker processes (one thread each) started here and stopped on exit.

    Parameters
    ----------
    workers : int, optional
        Worker processes of the local cluster (default 2).
    scheduler : str, optional
        Address of an existing scheduler, e.g. ``tcp://10.0.0.5:8786``.
    memory_limit : str, default "auto"
        Memory limit of each local worker (Dask's ``memory_limit``).
    """
    require_dask()
    if scheduler is not None and workers is not None:
        raise OptionError("--workers", "give --workers (a local cluster) or --scheduler, not both")
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise OptionError("--scheduler", f"cannot reach {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = 2 if workers is None else workers
    if n < 1:
        raise OptionError("--workers", f"expected at least 1 worker, got {n}")
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=memory_limit,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
