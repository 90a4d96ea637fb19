"""Scale out: ``score`` and ``apply`` partition by partition on a Dask cluster.

A book written as Parquet folders of hashed ``Loan_ID`` buckets
(:mod:`loanrecovery.buckets`, ``simulate --format parquet``) is processed one partition per
task on a ``distributed`` cluster: a local one (``--workers N``, worker processes) or an
existing one (``--scheduler tcp://host:port``). The model or bundle file is sent to every
worker once (scattered, broadcast) and loaded there once per process; each partition is
validated, scored and written as its own output partition (written to a temporary name,
then renamed), with its rejects and a record of its counts. A rerun skips the partitions
already recorded; a partition lost with a worker is retried by the scheduler, and a job that
cannot finish names the partitions not written. See ``docs/scale-out.md``.

Needs the ``scale`` extra: ``pip install 'loanrecovery[scale]'``.
"""

from loanrecovery.scale.apply_job import apply_partitioned
from loanrecovery.scale.cluster import DASK_MISSING, connect, dask_available, require_dask
from loanrecovery.scale.jobs import JobReport, PartitionsNotWrittenError
from loanrecovery.scale.score_job import score_partitioned

__all__ = [
    "DASK_MISSING",
    "JobReport",
    "PartitionsNotWrittenError",
    "apply_partitioned",
    "connect",
    "dask_available",
    "require_dask",
    "score_partitioned",
]
