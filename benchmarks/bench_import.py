"""Time and peak memory of ``loanrecovery import`` on a large book, SQLite or PostgreSQL.

Reads a book folder (``loanrecovery simulate --loans 1000000 --months 12 --out DIR``) through
the contract, creates/migrates the database, imports the book in one transaction (as the
``import`` command does) and prints the seconds and peak resident memory of each step, the
rows stored per table and rows in = imported + rejected. A second import of the same book
is timed with ``--twice`` (it must insert nothing). The database is kept (``--db``), so that
``bench_service.py --db URL`` can reuse it.

Usage: python benchmarks/bench_import.py --data DIR --db URL [--twice]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from loanrecovery.service.audit import SYSTEM
from loanrecovery.service.books import read_validated_book
from loanrecovery.service.db import make_engine, make_sessionmaker, redact, transaction, upgrade
from loanrecovery.service.importer import import_book


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import(factory, book) -> tuple[float, object]:
    start = time.perf_counter()
    with transaction(factory) as session:
        report = import_book(
            session, book.loans, book.payments, book.collections, source=book.source,
            actor=SYSTEM, capacity=200,
        )  # fmt: skip
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--twice", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    start = time.perf_counter()
    book = read_validated_book(args.data)
    print(f"read + validate: {time.perf_counter() - start:.1f} s, peak RSS {_peak_mb():,.0f} MB")
    for table, counts in book.counts().items():
        print(f"  {table}: {counts['in']:,} in = {counts['accepted']:,} accepted "
              f"+ {counts['rejected']:,} rejected")  # fmt: skip
    engine = make_engine(args.db)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    seconds, report = _import(factory, book)
    print(f"import into {redact(args.db)}: {seconds:.1f} s, peak RSS {_peak_mb():,.0f} MB")
    print(f"  inserted {report.inserted}, unchanged {report.unchanged}, "
          f"cases opened {report.cases_opened}")  # fmt: skip
    if args.twice:
        seconds, again = _import(factory, book)
        print(f"second import: {seconds:.1f} s, peak RSS {_peak_mb():,.0f} MB, "
              f"inserted {again.inserted}, updated {again.updated}")  # fmt: skip
    print(f"load average {os.getloadavg()}")
    engine.dispose()


if __name__ == "__main__":
    main()
