"""Running one task per partition on a Dask cluster, with atomic outputs and resumption.

Each task writes its output partitions under temporary names and renames them (a reader
never sees half a file), then writes its record ``_partitions/<part>.json`` (its counts) the
same way: a partition is written when its record exists. A rerun of the same job (same
inputs, model and options: ``_job.json``) skips the recorded partitions; a different job in
the same folder starts afresh. A partition whose task fails, or whose worker died more
often than the scheduler allows, is named in :class:`PartitionsNotWrittenError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loanrecovery.exceptions import LoanRecoveryError
from loanrecovery.scale.cluster import require_dask

try:  # the optional ``scale`` extra
    from distributed import as_completed
except ImportError:  # pragma: no cover - exercised when the extra is not installed
    as_completed = None  # type: ignore[misc,assignment]

__all__ = [
    "JobReport",
    "PartitionsNotWrittenError",
    "RECORDS_DIR",
    "JOB_FILE",
    "cached_load",
    "input_identity",
    "prepare_job",
    "run_partitions",
    "text_columns",
    "write_json_atomic",
    "write_parquet_atomic",
]

logger = logging.getLogger(__name__)

#: Folder of the per-partition records inside a job's output folder.
RECORDS_DIR = "_partitions"
#: The job's identity (inputs, model, options) inside its output folder.
JOB_FILE = "_job.json"
_SHOWN = 12

_LOADED: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()


class PartitionsNotWrittenError(LoanRecoveryError):
    """Some partitions of a job were not written (their names and why are in the message)."""

    def __init__(self, missing: Mapping[str, str], written: int, out: Path) -> None:
        self.missing = dict(missing)
        names = sorted(self.missing)
        shown = ", ".join(f"{n} ({self.missing[n]})" for n in names[:_SHOWN])
        more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
        super().__init__(
            f"{len(names)} partition(s) not written in {out}: {shown}{more}; the {written} "
            "partition(s) written are kept: rerun the same command to resume"
        )


@dataclass
class JobReport:
    """The records of every partition of a finished job."""

    records: dict[str, dict[str, Any]]
    resumed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, key: str) -> int:
        """Sum of an integer count over the partitions."""
        return int(sum(int(r.get(key, 0)) for r in self.records.values()))


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` as Parquet under a temporary name, then rename it.

    A column with no value (Arrow's null type) is written as text, so that the parts of
    one output folder read as one table.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
    )
    pq.write_table(table.cast(schema), tmp)
    os.replace(tmp, path)
    return path


def text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns as text (missing stays missing), so that mixed values (a reject's
    ``Value``) can be written to Parquet."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].map(lambda v: None if v is None or v is pd.NA else str(v))
    return out


def write_json_atomic(payload: Any, path: Path) -> Path:
    """Write ``payload`` as JSON under a temporary name, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(payload, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def cached_load(payload: bytes, loader: Callable[[Path], Any], suffix: str) -> Any:
    """The object a model or bundle file's bytes load to, loaded once per worker process.

    The bytes are the file as scattered to the workers; ``loader`` reads a file of that
    kind (the loaders check hashes and allowed types; nothing is unpickled).
    """
    key = hashlib.sha256(payload).hexdigest()
    with _LOAD_LOCK:
        if key not in _LOADED:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"model{suffix}"
                path.write_bytes(payload)
                _LOADED.clear()
                _LOADED[key] = loader(path)
        return _LOADED[key]


def input_identity(paths: list[Path]) -> list[list[Any]]:
    """Name, size and modification time of each input file (what a resumed job must match)."""
    out = []
    for path in paths:
        stat = path.stat()
        out.append([str(path), stat.st_size, stat.st_mtime_ns])
    return out


def prepare_job(out: Path, identity: Mapping[str, Any], outputs: list[str]) -> bool:
    """Make ``out`` ready for the job ``identity``; True when it resumes an earlier run of it.

    Partitions of another job (other inputs, model or options) are removed first.
    """
    out.mkdir(parents=True, exist_ok=True)
    job_file = out / JOB_FILE
    wanted = json.loads(json.dumps(dict(identity), sort_keys=True))
    if job_file.is_file():
        try:
            earlier = json.loads(job_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = None
        if earlier == wanted:
            return True
        logger.warning("%s holds another job's partitions: removing them", out)
    for name in [RECORDS_DIR, *outputs]:
        folder = out / name
        if folder.is_dir():
            shutil.rmtree(folder)
    write_json_atomic(wanted, job_file)
    return False


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _on_worker(func: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one partition's task on a worker, without scikit-learn's warning that a daemon
    worker runs its ensembles on one thread (which a worker of one thread does anyway): it
    was printed once per partition on the user's console."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Inside a Dask worker with daemon=True", category=UserWarning
        )
        return func(*args, **kwargs)


def run_partitions(
    client: Any,
    func: Callable[..., dict[str, Any]],
    names: list[str],
    out: Path,
    shared: Any,
    kwargs: Mapping[str, Any],
    *,
    on_done: Callable[[str, dict[str, Any]], None] | None = None,
    retries: int = 1,
    records: str = RECORDS_DIR,
) -> JobReport:
    """Run ``func(name, shared, **kwargs)`` for every partition not recorded yet.

    Parameters
    ----------
    client : distributed.Client
    func : callable
        Writes the partition's outputs and its record; returns the record.
    names : list of str
        Every partition of the job (``part-00000`` ...).
    out : Path
        The job's output folder (``_partitions/`` holds the records).
    shared : distributed.Future
        The scattered model or bundle bytes.
    kwargs : mapping
        More arguments of ``func`` (plain values).
    on_done : callable, optional
        Called as ``on_done(name, record)`` in this process as each partition is written.
    retries : int, default 1
        Retries of a task that raised (a worker that died is handled by the scheduler).
    records : str, default :data:`RECORDS_DIR`
        Folder of the records inside ``out`` (a job of several passes gives each its own).

    Raises
    ------
    PartitionsNotWrittenError
        Naming every partition not written, and why.
    """
    require_dask()
    start = time.perf_counter()
    records_dir = out / records
    written: dict[str, dict[str, Any]] = {}
    for name in names:
        record = _read_record(records_dir / f"{name}.json")
        if record is not None:
            written[name] = record
    resumed = sorted(written)
    todo = [n for n in names if n not in written]
    if resumed:
        logger.info("resuming: %d of %d partitions already written", len(resumed), len(names))
    token = uuid.uuid4().hex[:8]
    futures = {
        client.submit(
            _on_worker,
            func,
            name,
            shared,
            **kwargs,
            key=f"{func.__name__}-{name}-{token}",
            pure=False,
            retries=retries,
        ): name
        for name in todo
    }
    missing: dict[str, str] = {}
    for future in as_completed(list(futures)):
        name = futures[future]
        try:
            record = future.result()
        except Exception as exc:  # noqa: BLE001 - every failure is named in the error
            missing[name] = _why(exc)
            continue
        written[name] = record
        if on_done is not None:
            on_done(name, record)
    if missing:
        raise PartitionsNotWrittenError(missing, len(written), out)
    return JobReport(
        records={n: written[n] for n in names},
        resumed=resumed,
        seconds=time.perf_counter() - start,
    )
