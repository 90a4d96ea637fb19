"""Print the `evaluate` figures of the issue-3 bars on real loan tables.

Runs the real command (`python -m loanrecovery evaluate ... --json`) in a subprocess and prints
champion and baseline out-of-sample AUC, the champion's name and the wall time of the whole
command, against the bars: Give Me Some Credit AUC >= 0.868 in <= 120 s; German credit AUC
>= 0.800. With ``--all`` also the original 500-row table and a 100,000-row sample of the SBA
loans (with an out-of-time run on ApprovalFY), where the champion must beat the forest.

Usage: python benchmarks/bench_evaluate.py [--data DIR] [--all]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"


def run_evaluate(name: str, args: list[str], workdir: Path) -> dict:
    out = workdir / f"{name}.json"
    command = [sys.executable, "-m", "loanrecovery", "evaluate", *args, "--json", str(out)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        print(f"{name}: FAILED (exit {done.returncode})\n{done.stderr[-2000:]}")
        return {}
    metrics = json.loads(out.read_text())
    metrics["wall_seconds"] = wall
    warnings = [line for line in done.stderr.splitlines() if "warning" in line.lower()]
    for line in warnings:
        print(f"  {name}: {line.strip()}")
    return metrics


def show(name: str, metrics: dict, auc_bar: float | None, seconds_bar: float | None) -> None:
    if not metrics:
        return
    auc, base = metrics["auc"], metrics["baseline"]["auc"]
    verdict = []
    if auc_bar is not None:
        verdict.append(f"AUC bar {auc_bar}: {'PASS' if auc >= auc_bar else 'MISS'}")
    if seconds_bar is not None:
        ok = metrics["wall_seconds"] <= seconds_bar
        verdict.append(f"time bar {seconds_bar:.0f} s: {'PASS' if ok else 'MISS'}")
    verdict.append(f"beats forest: {'yes' if auc > base else 'NO'}")
    print(
        f"{name}: rows {metrics['n_rows']}, champion {metrics['champion']!r}, "
        f"AUC {auc:.4f} (forest {base:.4f}), Brier {metrics['brier']:.4f} "
        f"(forest {metrics['baseline']['brier']:.4f}), ECE {metrics['ece']:.4f}, "
        f"validation: {metrics['validation']}; whole command {metrics['wall_seconds']:.1f} s "
        f"-> {'; '.join(verdict)}"
    )


def sba_sample(data: Path, workdir: Path, rows: int = 100_000) -> Path:
    frame = pd.read_csv(data / "sba_national_loans.csv.gz", low_memory=False)
    frame = frame.sample(n=rows, random_state=42)
    path = workdir / "sba_100k.csv"
    frame.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--all", action="store_true", help="also the unseen tables")
    options = parser.parse_args()
    data = options.data
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        gmsc = run_evaluate(
            "gmsc",
            ["--data", str(data / "give_me_some_credit.csv.gz"), "--target", "SeriousDlqin2yrs"],
            workdir,
        )
        show("Give Me Some Credit", gmsc, 0.868, 120)
        german = run_evaluate(
            "german",
            ["--data", str(data / "german_credit.csv.gz"), "--target", "creditability",
             "--positive", "bad"],
            workdir,
        )  # fmt: skip
        show("German credit", german, 0.800, None)
        if not options.all:
            return
        original = run_evaluate(
            "original",
            ["--data", str(data / "loan-recovery.csv"), "--target", "Recovery_Status",
             "--positive", "Written Off",
             "--drop", "Collection_Attempts,Collection_Method,Legal_Action_Taken"],
            workdir,
        )  # fmt: skip
        show("loan-recovery.csv (Written Off)", original, None, None)
        sba = sba_sample(data, workdir)
        for label, extra in (("folds", []), ("out-of-time", ["--time-col", "ApprovalFY"])):
            metrics = run_evaluate(
                f"sba_{label}",
                ["--data", str(sba), "--target", "MIS_Status", "--positive", "CHGOFF", *extra],
                workdir,
            )
            show(f"SBA 100k sample ({label})", metrics, None, None)
            if metrics:
                print(f"  SBA columns left out: {metrics['excluded_columns']}")


if __name__ == "__main__":
    main()
