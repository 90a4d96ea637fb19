"""Writing a simulated book to disk, byte-for-byte reproducibly."""

from __future__ import annotations

import json
from pathlib import Path

from loanrecovery.exceptions import DataFileError
from loanrecovery.simulate._book import SimulatedBook

__all__ = ["write_book", "BOOK_FILES"]

#: File names written by :func:`write_book`.
BOOK_FILES: tuple[str, ...] = ("loans.csv", "payments.csv", "collections.csv", "truth.json")


def write_book(book: SimulatedBook, out_dir: str | Path) -> dict[str, Path]:
    """Write ``loans.csv``, ``payments.csv``, ``collections.csv`` and ``truth.json``.

    Money is written with two decimals, JSON with sorted keys and no timestamps, so the
    same book always gives the same bytes.

    Parameters
    ----------
    book : SimulatedBook
        The output of :func:`simulate_portfolio`.
    out_dir : str or Path
        Directory, created if missing.

    Returns
    -------
    dict of str to Path
        File name -> path written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataFileError(
            out, "exists and is not a directory; expected a directory to write the book into"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFileError(out, f"cannot create the output directory ({exc.strerror})") from None
    paths = {name: out / name for name in BOOK_FILES}
    tables = {
        "loans.csv": book.loans,
        "payments.csv": book.payments,
        "collections.csv": book.collections,
    }
    for name, frame in tables.items():
        frame.to_csv(paths[name], index=False, float_format="%.2f", lineterminator="\n")
    text = json.dumps(book.truth, sort_keys=True, separators=(",", ":"))
    paths["truth.json"].write_text(text + "\n", encoding="utf-8")
    return paths
