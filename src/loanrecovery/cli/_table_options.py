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

import pandas as pd
import typer

from loanrecovery.contract.rejects import DEFAULT_MAX_REJECT_SHARE, check_reject_share
from loanrecovery.exceptions import OptionError

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
    "DecimalOption",
    "MaxRejectShareOption",
    "AcceptRejectsOption",
    "check_table_rejects",
    "check_count_rejects",
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
DecimalOption = Annotated[
    str,
    typer.Option(
        "--decimal",
        help="Decimal mark of the file's numbers: '.' (default) or ',' (then '.' groups "
        "thousands: 215.422,00).",
    ),
]
MaxRejectShareOption = Annotated[
    float,
    typer.Option(
        "--max-reject-share",
        help="Stop (exit code 3) when more than this share of the rows is rejected.",
    ),
]
AcceptRejectsOption = Annotated[
    bool,
    typer.Option("--accept-rejects", help="Go on however many rows are rejected."),
]


def check_table_rejects(
    source: str,
    rows_in: int,
    rejects: pd.DataFrame,
    *,
    max_share: float = DEFAULT_MAX_REJECT_SHARE,
    accept: bool = False,
) -> None:
    """Stop with exit code 3 when more than ``max_share`` of a table's ``rows_in`` rows are in
    ``rejects`` (:func:`~loanrecovery.contract.rejects.check_reject_share`), unless ``accept``."""
    if not 0 <= max_share <= 1:
        raise OptionError("--max-reject-share", f"expected a share in [0, 1], got {max_share:g}")
    if accept or rejects is None or not len(rejects):
        return
    rejected = int(rejects["Row"].nunique()) if "Row" in rejects.columns else len(rejects)
    check_reject_share(
        {"data": {"in": rows_in, "rejected": rejected}},
        {"data": rejects},
        max_share=max_share,
        sources={"data": source},
    )


def check_count_rejects(
    source: str, rows_in: int, rejected: int, *, max_share: float = DEFAULT_MAX_REJECT_SHARE
) -> None:
    """:func:`check_table_rejects` from counts alone (a table scored partition by partition,
    whose rejects are in per-partition files)."""
    if not 0 <= max_share <= 1:
        raise OptionError("--max-reject-share", f"expected a share in [0, 1], got {max_share:g}")
    check_reject_share(
        {"data": {"in": rows_in, "rejected": rejected}},
        {},
        max_share=max_share,
        sources={"data": source},
    )
