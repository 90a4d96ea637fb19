"""Scale-out benchmark: `loanrecovery` commands timed, their memory watched, the load noted.

Three subcommands:

``replicate``
    Builds a large loans folder from a simulated one: ``--copies K`` copies of every part of
    ``--source`` (a ``loans.parquet/`` folder), ``Loan_ID`` and ``Borrower_ID`` renumbered
    (``LN_<i + k * span>``) so that identifiers stay unique, one output part per source part
    and copy (the source's partition size, 100,000 loans for ``simulate``'s default). The
    rows of copy ``k`` are those of the source but for the identifiers: scoring cost does
    not depend on rows being distinct. The parts are *not* hashed ``Loan_ID`` buckets
    (``loanrecovery.buckets``): ``score`` reads only the loans and does not need them;
    ``apply`` (which joins the payment panel by part) does, so do not use it there.

``model``
    Trains the benchmark's scoring model on a 20,000-loan simulated book (seed 7).

``run``
    Runs ``python -m loanrecovery ARGS...`` as a child process and samples the resident
    memory of it and of every process it starts (the Dask worker processes of
    ``--engine dask``) every 0.2 s with psutil; prints the wall time, the peak RSS of each
    process, the load average before and after, and the counts the command wrote
    (``score.json`` / ``apply_scale.json``). It kills the command (and says so) when the
    processes together pass ``--max-rss-gb`` or the machine's available memory falls
    below ``--min-available-gb``. Each run is appended to ``--results`` (JSON lines).

    PYTHONPATH=src python benchmarks/bench_scale.py replicate \\
        --source /work/big/book36/loans.parquet --copies 5 --out /work/big/loans5m
    PYTHONPATH=src python benchmarks/bench_scale.py model --out /work/big/model.lrm
    PYTHONPATH=src python benchmarks/bench_scale.py run --clean /work/big/s5m -- \\
        score --data /work/big/loans5m --model /work/big/model.lrm --out /work/big/s5m \\
        --reasons 0 --engine dask --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

_MB = 2**20


def _number(values: pa.ChunkedArray, prefix: str) -> np.ndarray:
    """``PREFIX_123`` -> 123 (refuses identifiers of another form)."""
    text = values.to_pandas()
    if not text.str.startswith(prefix).all():
        bad = text[~text.str.startswith(prefix)].iloc[0]
        raise SystemExit(f"error: identifier {bad!r} is not of the form {prefix}<number>")
    return text.str.slice(len(prefix)).astype(np.int64).to_numpy()


def replicate(source: Path, copies: int, out: Path) -> None:
    """Write ``copies`` renumbered copies of every part of ``source`` into ``out``."""
    if copies < 1:
        raise SystemExit(f"error: --copies must be at least 1, got {copies}")
    parts = sorted(source.glob("*.parquet"))
    if not parts:
        raise SystemExit(f"error: {source} holds no .parquet part files")
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"error: {out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    ids = {"Loan_ID": "LN_", "Borrower_ID": "BRW_"}
    span = {
        c: int(max(_number(pq.read_table(p, columns=[c])[c], pre).max() for p in parts)) + 1
        for c, pre in ids.items()
    }
    start, rows, n = time.perf_counter(), 0, 0
    for k in range(copies):
        for part in parts:
            table = pq.read_table(part)
            for column, prefix in ids.items():
                numbers = _number(table[column], prefix) + k * span[column]
                renamed = pa.array(np.char.add(prefix, numbers.astype(str)).astype(object))
                table = table.set_column(table.schema.get_field_index(column), column, renamed)
            pq.write_table(table, out / f"part-{n:05d}.parquet")
            rows, n = rows + table.num_rows, n + 1
    print(
        f"replicated {source} x {copies}: {rows:,} loans in {n} parts of about "
        f"{rows // n:,} -> {out} ({time.perf_counter() - start:.0f} s)"
    )


def train_model(out: Path) -> None:
    """The benchmark's model: trained on 20,000 simulated loans (seed 7), 2 folds."""
    from loanrecovery.modeling.model_file import save_model
    from loanrecovery.modeling.scoring import train_scoring_model
    from loanrecovery.modeling.table import prepare_table
    from loanrecovery.modeling.training import model_card
    from loanrecovery.simulate import simulate_portfolio

    loans = simulate_portfolio(20_000, 24, seed=7, truth=False).loans
    prepared = prepare_table(loans, target="Default_Next_6M", id_columns=("Loan_ID",))
    model = train_scoring_model(
        prepared, input_columns=list(loans.columns), id_columns=["Loan_ID"], folds=2
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    csv = out.with_suffix(".train.csv")
    loans.to_csv(csv, index=False)
    save_model(model, out, model_card(model, prepared, loans, data=csv, folds=2))
    print(f"model trained on 20,000 loans -> {out}")


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _label(process: psutil.Process, root: psutil.Process) -> str:
    if process.pid == root.pid:
        return "command"
    try:
        line = " ".join(process.cmdline())
    except psutil.Error:
        return "child"
    if "resource_tracker" in line:
        return "resource tracker"
    return "worker" if "spawn_main" in line or "multiprocessing" in line else "child"


def _kill_tree(root: psutil.Process) -> None:
    try:
        family = [*root.children(recursive=True), root]
    except psutil.Error:
        family = [root]
    for process in family:
        try:
            process.kill()
        except psutil.Error:
            pass


def _counts(args: list[str]) -> dict[str, Any]:
    """What the command's output folder says it did (score.json / apply_scale.json)."""
    if "--out" not in args:
        return {}
    out = Path(args[args.index("--out") + 1])
    for name in ("score.json", "apply_scale.json"):
        if (out / name).is_file():
            return dict(json.loads((out / name).read_text(encoding="utf-8")))
    return {}


def run(
    args: list[str],
    *,
    max_rss_gb: float,
    min_available_gb: float,
    interval: float,
    log: Path,
) -> dict[str, Any]:
    """Run ``python -m loanrecovery ARGS`` and watch its processes' memory."""
    command = [sys.executable, "-m", "loanrecovery", *args]
    before, load_before = _uptime(), os.getloadavg()
    peaks: dict[int, int] = {}
    labels: dict[int, str] = {}
    tree_peak, killed = 0, None
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        root = psutil.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        while root.poll() is None:
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.Error:
                family = [root]
            total = 0
            for process in family:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                peaks[process.pid] = max(peaks.get(process.pid, 0), rss)
                labels.setdefault(process.pid, _label(process, root))
            tree_peak = max(tree_peak, total)
            available = psutil.virtual_memory().available
            if total > max_rss_gb * 2**30 or available < min_available_gb * 2**30:
                killed = (
                    f"killed: its processes held {total / _MB:,.0f} MB, "
                    f"{available / _MB:,.0f} MB available on the machine"
                )
                _kill_tree(root)
                break
            time.sleep(interval)
        returncode = root.wait()
    seconds = time.perf_counter() - start
    output = log.read_text(encoding="utf-8", errors="replace")
    result = {
        "command": "loanrecovery " + " ".join(args),
        "returncode": returncode,
        "killed": killed,
        "wall_seconds": round(seconds, 1),
        "peak_rss_mb": {
            f"{labels.get(pid, '?')} {pid}": round(rss / _MB) for pid, rss in sorted(peaks.items())
        },
        "peak_rss_all_mb": round(tree_peak / _MB),
        "uptime_before": before,
        "uptime_after": _uptime(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "counts": _counts(args),
        "last_lines": output.strip().splitlines()[-4:],
    }
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"$ {result['command']}")
    print(f"  before: {result['uptime_before']}")
    for line in result["last_lines"]:
        print(f"  | {line}")
    status = result["killed"] or f"exit code {result['returncode']}"
    print(f"  {status}; wall time {result['wall_seconds']} s")
    for name, mb in result["peak_rss_mb"].items():
        if mb >= 50:
            print(f"  peak RSS {name}: {mb:,} MB")
    print(f"  peak RSS of all its processes together: {result['peak_rss_all_mb']:,} MB")
    if result["counts"]:
        print(f"  counts: {json.dumps(result['counts'], sort_keys=True)}")
    print(f"  after:  {result['uptime_after']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    rep = sub.add_parser("replicate", help="a large loans folder from a simulated one")
    rep.add_argument("--source", type=Path, required=True)
    rep.add_argument("--copies", type=int, required=True)
    rep.add_argument("--out", type=Path, required=True)
    mod = sub.add_parser("model", help="train the benchmark's scoring model")
    mod.add_argument("--out", type=Path, required=True)
    cmd = sub.add_parser("run", help="run `loanrecovery ARGS` and watch its memory")
    cmd.add_argument("--max-rss-gb", type=float, default=14.0)
    cmd.add_argument("--min-available-gb", type=float, default=4.0)
    cmd.add_argument("--interval", type=float, default=0.2)
    cmd.add_argument("--clean", type=Path, default=None, help="folder removed first")
    cmd.add_argument("--results", type=Path, default=Path("/work/big/bench_scale.jsonl"))
    cmd.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    if options.what == "replicate":
        replicate(options.source, options.copies, options.out)
    elif options.what == "model":
        train_model(options.out)
    else:
        args = options.args[1:] if options.args[:1] == ["--"] else options.args
        if not args:
            parser.error("run: give the loanrecovery command after --")
        if options.clean is not None and options.clean.exists():
            shutil.rmtree(options.clean)
        log = options.results.with_suffix(f".{time.strftime('%H%M%S')}.log")
        result = run(
            args,
            max_rss_gb=options.max_rss_gb,
            min_available_gb=options.min_available_gb,
            interval=options.interval,
            log=log,
        )
        result["log"] = str(log)
        _print(result)
        with options.results.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(result, default=str) + "\n")
        if result["killed"] or result["returncode"]:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
