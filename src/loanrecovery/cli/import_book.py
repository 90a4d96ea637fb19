"""``loanrecovery import``: load a book into the service's database through the contract."""

from __future__ import annotations

from pathlib import Path

import typer

from loanrecovery.bundle import load_bundle
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli._service_options import DB_OPTION, settings_for
from loanrecovery.service.audit import SYSTEM
from loanrecovery.service.books import read_validated_book
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.importer import import_book
from loanrecovery.service.ledger import Ledger

_REJECT_FILES = {
    "loans": "rejects.csv",
    "payments": "payment_rejects.csv",
    "collections": "collection_rejects.csv",
}


@app.command("import")
@handle_errors
def import_command(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Folder with loans.csv (+ payments.csv, collections.csv), or a "
        "loans file; default: the built-in book.",
    ),  # fmt: skip
    db: str | None = DB_OPTION,
    rejects: Path = typer.Option(
        Path("import-rejects"), "--rejects", help="Folder for the rejects files (as `run`)."
    ),
    bundle: Path | None = typer.Option(
        None,
        "--bundle",
        help="The bundle whose challenger share and seed give each new "
        "case its champion/challenger arm (as in plan.csv).",
    ),  # fmt: skip
) -> None:
    """Import a book (validated by the data contract; importing it twice changes nothing)."""

    settings = settings_for(db)
    share, seed = 0.0, 0
    if bundle is not None:
        config = load_bundle(bundle).config
        share = config.limits.challenger_share if config.challenger is not None else 0.0
        seed = config.seed
    book = read_validated_book(data)
    engine = make_engine(settings.db)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            report = import_book(
                session, book.loans, book.payments, book.collections,
                source=book.source, actor=SYSTEM, capacity=settings.collector_capacity,
                challenger_share=share, seed=seed,
            )  # fmt: skip
        ledger = Ledger(factory, scorer=None, capacity=settings.collector_capacity)
        released = ledger.release_suspense(actor=SYSTEM)
    finally:
        engine.dispose()
    for table, counts in book.counts().items():
        n_rej = counts["rejected"]
        console.print(
            f"{table}: {counts['in']} rows in, {counts['accepted']} accepted, {n_rej} rejected"
        )
        if n_rej:
            rejects.mkdir(parents=True, exist_ok=True)
            book.rejects[table].to_csv(rejects / _REJECT_FILES[table], index=False)
            console.print(f"  rejects: {rejects / _REJECT_FILES[table]}")
    console.print(
        f"stored: inserted {report.inserted}, updated {report.updated}; "
        f"cases opened {report.cases_opened}, assigned {report.cases_assigned}; "
        f"suspense payments applied {released}"
    )
    if not report.changed:
        console.print("nothing changed (this book was already imported)")
