"""Options shared by the commands that read a book (``run``, ``fit``, ``apply``) and build a
configuration, declared once so that they are spelled, explained and checked the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loanrecovery.config import Config, load_config, parse_capacities
from loanrecovery.contract.book import Book, read_book
from loanrecovery.contract.rejects import check_reject_share
from loanrecovery.exceptions import OptionError
from loanrecovery.inputs import builtin_book
from loanrecovery.strategy import load_policy

__all__ = [
    "DataOption",
    "MappingOption",
    "DelimiterOption",
    "PaymentsOption",
    "CollectionsOption",
    "ConfigOption",
    "PolicyOption",
    "BudgetOption",
    "CapacityOption",
    "AlertBudgetOption",
    "AlertMinProbabilityOption",
    "FormatOption",
    "SeedOption",
    "DecimalOption",
    "MaxRejectShareOption",
    "AcceptRejectsOption",
    "EarlyWarningModelOption",
    "book_from_options",
    "check_rejects",
    "config_from_options",
]

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Loan file (CSV/Parquet) or a folder with loans.csv (+ payments.csv, "
        "collections.csv). Default: the built-in 10,000-loan book.",
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option("--mapping", help="TOML file mapping your column names onto the canonical ones."),
]
DelimiterOption = Annotated[
    str | None, typer.Option("--delimiter", help="CSV delimiter of the loan file (default ',').")
]
PaymentsOption = Annotated[
    Path | None, typer.Option("--payments", help="Monthly payment panel (payments.csv layout).")
]
CollectionsOption = Annotated[
    Path | None,
    typer.Option("--collections", help="Collection history (collections.csv layout)."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Project file (default: loanrecovery.toml in the working folder, if any).",
    ),
]
PolicyOption = Annotated[
    Path | None, typer.Option("--policy", help="Strategy policy TOML file (overrides --config).")
]
BudgetOption = Annotated[
    float | None, typer.Option("--budget", help="Total expected cost of a plan (USD).")
]
CapacityOption = Annotated[
    str | None,
    typer.Option(
        "--capacity", help="Accounts per action per plan, e.g. 'Legal Action=20,Field Visit=50'."
    ),
]
AlertBudgetOption = Annotated[
    float | None,
    typer.Option(
        "--alert-budget",
        help="Largest share of performing accounts alerted per month (0-1]: a cap, not a quota.",
    ),
]
AlertMinProbabilityOption = Annotated[
    float | None,
    typer.Option(
        "--alert-min-probability",
        help="Lowest 3-month probability of default alerted [0-1] (default 0.05).",
    ),
]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        help="Also write accounts.parquet with 'parquet' (accounts.csv is always written).",
    ),
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", help="Seed of every random step (default 42).")
]
DecimalOption = Annotated[
    str,
    typer.Option(
        "--decimal",
        help="Decimal mark of the files' numbers: '.' (default) or ',' (then '.' groups "
        "thousands: 215.422,00). Numbers in the other format are rejected, never misread.",
    ),
]
MaxRejectShareOption = Annotated[
    float | None,
    typer.Option(
        "--max-reject-share",
        help="Stop (exit code 3) when more than this share of a table's rows is rejected "
        "(default 0.20, or [limits] max_reject_share in the project file).",
    ),
]
AcceptRejectsOption = Annotated[
    bool,
    typer.Option(
        "--accept-rejects",
        help="Go on however many rows are rejected (they are still written to the rejects).",
    ),
]


def check_decimal(decimal: str) -> str:
    """The ``--decimal`` option checked: ``'.'`` or ``','``."""
    if decimal not in (".", ","):
        raise OptionError("--decimal", f"expected '.' or ',', got {decimal!r}")
    return decimal


def check_rejects(book: Book, max_share: float, *, accept: bool = False) -> None:
    """Stop with :class:`~loanrecovery.contract.rejects.TooManyRejectsError` (exit code 3) when
    a table of ``book`` has more than ``max_share`` of its rows rejected, unless ``accept``."""
    if not 0 <= max_share <= 1:
        raise OptionError("--max-reject-share", f"expected a share in [0, 1], got {max_share:g}")
    if not accept:
        check_reject_share(book.counts(), book.rejects, max_share=max_share, sources=book.sources)


EarlyWarningModelOption = Annotated[
    str | None,
    typer.Option(
        "--early-warning-model",
        help="gbm | sequence | blend | auto: the early-warning model kept in the bundle and "
        "scoring the watchlist (default gbm; auto keeps gbm unless the sequence model or the "
        "blend beats it on validation months by 0.003 AUC at every horizon; sequence, blend "
        "and auto need pip install 'loanrecovery[deep]'; see docs/sequences.md).",
    ),
]


def config_from_options(
    config: Path | None,
    *,
    policy: Path | None = None,
    budget: float | None = None,
    capacity: str | None = None,
    alert_budget: float | None = None,
    alert_min_probability: float | None = None,
    seed: int | None = None,
    max_reject_share: float | None = None,
    early_warning_model: str | None = None,
) -> Config:
    """The project file's configuration with the command's options laid over it."""
    return load_config(config).with_overrides(
        policy=None if policy is None else load_policy(policy),
        budget=budget,
        capacities=parse_capacities(capacity),
        alert_budget=alert_budget,
        alert_min_probability=alert_min_probability,
        seed=seed,
        max_reject_share=max_reject_share,
        early_warning_model=early_warning_model,
    )


def book_from_options(
    data: Path | None,
    *,
    mapping: Path | None = None,
    delimiter: str | None = None,
    payments: Path | None = None,
    collections: Path | None = None,
    decimal: str = ".",
) -> Book:
    """The book named by the options, or the built-in book without ``--data``."""
    if data is None:
        return builtin_book()
    return read_book(
        data,
        mapping=mapping,
        delimiter=delimiter,
        payments=payments,
        collections=collections,
        decimal=check_decimal(decimal),
    )
