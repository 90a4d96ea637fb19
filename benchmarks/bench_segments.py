"""Print the risk segments of several books: per segment loans, bad rate and 95% interval.

For the built-in book (and ``loan-recovery.csv``, the original write-up's table) the risk stage
of ``run``/``fit`` is fitted (:func:`loanrecovery.risk_model.fit_book_risk`); for German credit
and Give Me Some Credit the model of ``train`` (:func:`loanrecovery.modeling.train_scoring_model`).
Both fit :class:`loanrecovery.segmentation.RiskSegmenter` on the champion's out-of-fold PDs; the
figures are those of the fitted loans. Each book ends with whether every neighbour pair is
separated (higher bad rate above, 95% Wilson intervals apart) and the segmenter's note (how
many segments the data supported, and why).

Usage: python benchmarks/bench_segments.py [--data DIR] [--skip-gmsc]
(``--data`` defaults to ../shared/data; the books found there are added to the built-in one.)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pandas as pd  # noqa: E402

from loanrecovery.contract.book import validate_book  # noqa: E402
from loanrecovery.inputs import builtin_book  # noqa: E402
from loanrecovery.modeling import prepare_table, train_scoring_model  # noqa: E402
from loanrecovery.risk import resolve_target  # noqa: E402
from loanrecovery.risk_model import fit_book_risk  # noqa: E402
from loanrecovery.segmentation import RiskSegmenter, separated  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"


def show(name: str, segmenter: RiskSegmenter, seconds: float) -> None:
    """Print one book's segments."""
    table = segmenter.table()
    print(f"\n{name}  ({seconds:.0f} s to fit)")
    head = f"{'segment':<14} {'PD range':>17} {'loans':>8} {'bad':>6} {'bad rate':>9}"
    print(f"  {head}  95% interval")
    for seg, row in table.iterrows():
        print(
            f"  {seg!s:<14} {row['PD from']:>7.4f}-{row['PD to']:<9.4f} {int(row['Loans']):>8,} "
            f"{int(row['Bad outcomes']):>6,} {row['Bad rate']:>9.2%}  "
            f"{row['95% low']:.2%} - {row['95% high']:.2%}"
        )
    apart = separated(segmenter.bads_, segmenter.counts_)
    print(f"  neighbours separated: {bool(apart.all())} ({int(apart.sum())}/{len(apart)} pairs)")
    print(f"  {segmenter.note_}")


def book_risk(name: str, loans_book) -> None:  # noqa: ANN001
    """The risk stage of ``run`` on a validated book."""
    start = time.perf_counter()
    target = resolve_target(loans_book.loans)
    if target is None:
        print(f"\n{name}: no target")
        return
    fit = fit_book_risk(loans_book.loans, target, random_state=42)
    show(f"{name} ({target.name})", fit.model.segmenter, time.perf_counter() - start)


def any_table(name: str, path: Path, target: str, positive: str | None) -> None:
    """The model of ``train`` on any table."""
    start = time.perf_counter()
    frame = pd.read_csv(path)
    prepared = prepare_table(frame, target=target, positive=positive)
    model = train_scoring_model(
        prepared, input_columns=list(frame.columns), id_columns=[], folds=5, n_jobs=2
    )
    show(f"{name} ({target})", model.segmenter, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-gmsc", action="store_true", help="leave out the 150,000 rows")
    options = parser.parse_args()
    book_risk("built-in book (10,000 loans, seed 42)", builtin_book())
    data = options.data
    german = data / "german_credit.csv.gz"
    if german.exists():
        any_table("German credit", german, "creditability", "bad")
    gmsc = data / "give_me_some_credit.csv.gz"
    if gmsc.exists() and not options.skip_gmsc:
        any_table("Give Me Some Credit", gmsc, "SeriousDlqin2yrs", None)
    original = data / "loan-recovery.csv"
    if original.exists():
        book_risk("loan-recovery.csv", validate_book(pd.read_csv(original), source=str(original)))


if __name__ == "__main__":
    main()
