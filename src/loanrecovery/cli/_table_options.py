"""Options shared by the commands that read any loan table (``evaluate``, ``train``).

Each alias is an ``Annotated`` type carrying its :func:`typer.Option`, declared once here so
that the commands spell, explain and check these options the same way. A required option
takes no default in the command signature; an optional one gets its default there::

    from loanrecovery.cli import _table_options as opts

    def evaluate(data: opts.DataOption, positive: opts.PositiveOption = None) -> None: ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "DataOption",
    "TargetOption",
    "PositiveOption",
    "NegativeOption",
    "IdOption",
    "DropOption",
    "AllowProtectedOption",
    "DelimiterOption",
    "StrictOption",
]

DataOption = Annotated[Path, typer.Option("--data", help="Loan table (CSV or Parquet).")]
TargetOption = Annotated[str, typer.Option("--target", help="Target column.")]
PositiveOption = Annotated[
    str | None,
    typer.Option("--positive", help="Target value meaning the bad outcome (default 1 for 0/1)."),
]
NegativeOption = Annotated[
    str | None,
    typer.Option(
        "--negative",
        help="Target value(s) meaning the good outcome, comma-separated (default: every other "
        "value); the rest (e.g. loans still running) are left out.",
    ),
]
IdOption = Annotated[
    str | None, typer.Option("--id", help="Identifier column(s), comma-separated.")
]
DropOption = Annotated[
    str | None, typer.Option("--drop", help="Columns to leave out, comma-separated.")
]
AllowProtectedOption = Annotated[
    bool, typer.Option("--allow-protected", help="Keep protected attributes as features.")
]
DelimiterOption = Annotated[
    str | None,
    typer.Option("--delimiter", help="CSV delimiter (default ','; e.g. ';', tab)."),
]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Reject rows with a value that is not a finite number in a numeric column "
        "(default: count and report them, read them as missing).",
    ),
]
