"""Time ``loanrecovery run`` on the built-in book for two source trees, back to back.

Usage::

    python benchmarks/bench_run_pairs.py --old /tmp/old/src --new src [--pairs 3]

Runs ``python -m loanrecovery run --out <tmp>`` with ``PYTHONPATH`` set to each tree in turn
(old, new, old, new, ...: interleaved, so that a change in the machine's load hits both
alike), and prints per run the wall seconds, the child's user+sys CPU seconds and the load
averages at its start and end, then the medians. CPU time is the fairer figure when other
processes share the cores; wall time is what a user waits. The output folder of every run is
removed afterwards. Both trees run with this interpreter (the same installed packages).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _one_run(src: Path, out: Path) -> tuple[float, float]:
    """Wall and user+sys CPU seconds of one ``run`` with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    log = out.with_suffix(".log")
    started = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loanrecovery", "run", "--out", str(out)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped by wait4 above
    if code != 0:
        error = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"run with {src} failed ({code}):\n{error}")
    return wall, usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the old tree's src folder")
    parser.add_argument("--new", type=Path, default=Path("src"), help="the new tree's src")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    print(f"{'run':<8}{'wall s':>9}{'cpu s':>9}   load avg at start -> end")
    with tempfile.TemporaryDirectory() as tmp:
        for pair in range(1, args.pairs + 1):
            for name, src in (("old", args.old), ("new", args.new)):
                before = _load()
                wall, cpu = _one_run(src, Path(tmp) / f"{name}{pair}")
                figures[name].append((wall, cpu))
                print(f"{name} {pair:<4}{wall:9.1f}{cpu:9.1f}   {before} -> {_load()}", flush=True)
    for name, runs in figures.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"median {name}: wall {wall:.1f} s, user+sys CPU {cpu:.1f} s")


if __name__ == "__main__":
    main()
