"""Print `score` throughput and peak memory on 1,000,000 loans (CSV in, CSV out).

Trains a model on Give Me Some Credit with the real `train` command, writes 1,000,000 loans
(its 150,000 rows repeated), then runs the real `score` command in a fresh process with
``--reasons 0`` and ``--reasons 4``, printing loans/s of the whole command (start-up, reading,
scoring, writing), the process's peak resident memory (``getrusage``) and the machine's load
averages (other work on the 2 cores slows the figures: run it more than once). Bars: >= 150,000
loans/s without reasons, >= 20,000 loans/s with 4 reasons, peak memory < 4 GB.

Usage: python benchmarks/bench_score.py [--data DIR] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"

_CHILD = """
import resource, sys
from loanrecovery.__main__ import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.write(f"PEAK_KB={peak}\\n")
sys.exit(code or 0)
"""


def run(args: list[str]) -> tuple[float, float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"command failed: {args}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    peak = next(
        int(line.split("=")[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB=")
    )
    return wall, peak / 1024**2, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=1_000_000)
    options = parser.parse_args()
    source = options.data / "give_me_some_credit.csv.gz"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model = workdir / "gmsc.lrm"
        wall, peak, _ = run(
            ["train", "--data", str(source), "--target", "SeriousDlqin2yrs",
             "--model-out", str(model)]
        )  # fmt: skip
        print(f"train on 150,000 loans: {wall:.1f} s, peak memory {peak:.2f} GB")
        loans = pd.read_csv(source)
        repeats = -(-options.rows // len(loans))
        big = pd.concat([loans] * repeats, ignore_index=True).head(options.rows)
        big["id"] = range(1, len(big) + 1)
        csv = workdir / "loans_1m.csv"
        big.to_csv(csv, index=False)
        del big, loans
        print(f"input: {options.rows:,} loans, {csv.stat().st_size / 1e6:.0f} MB CSV")
        bars = {0: 150_000, 4: 20_000}
        for n_reasons, bar in bars.items():
            out = workdir / f"scored_{n_reasons}.csv"
            wall, peak, _ = run(
                ["score", "--data", str(csv), "--model", str(model), "--out", str(out),
                 "--reasons", str(n_reasons)]
            )  # fmt: skip
            rate = options.rows / wall
            load = " ".join(f"{v:.2f}" for v in os.getloadavg())
            print(
                f"score --reasons {n_reasons}: {wall:.1f} s, {rate:,.0f} loans/s "
                f"(bar {bar:,}: {'PASS' if rate >= bar else 'MISS'}), peak memory {peak:.2f} GB "
                f"(bar 4 GB: {'PASS' if peak < 4 else 'MISS'}); output "
                f"{out.stat().st_size / 1e6:.0f} MB; load average after {load}"
            )


if __name__ == "__main__":
    main()
