"""The reject guardrail: stop when too large a share of a table's rows breaks the contract.

A file read with the wrong delimiter, decimal mark or mapping usually does not fail: most of
its rows are rejected one by one, and what is left is scored as if nothing happened. Every
command that reads a table therefore checks, per table, the share of rejected rows against
:data:`DEFAULT_MAX_REJECT_SHARE` (``[limits] max_reject_share`` in the project file,
``--max-reject-share`` on the command line) and raises :class:`TooManyRejectsError` above it,
with the top reject reasons and the first values seen for each. ``--accept-rejects`` goes on
regardless.

Typical use::

    check_reject_share(book.counts(), book.rejects, max_share=0.20)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from loanrecovery.exceptions import LoanRecoveryError

__all__ = [
    "DEFAULT_MAX_REJECT_SHARE",
    "EXIT_TOO_MANY_REJECTS",
    "RejectReason",
    "TooManyRejectsError",
    "top_reasons",
    "check_reject_share",
]

#: Largest share of a table's rows that may be rejected before a command stops.
DEFAULT_MAX_REJECT_SHARE = 0.20
#: Exit code of the command line when :class:`TooManyRejectsError` stops a command.
EXIT_TOO_MANY_REJECTS = 3
_TOP = 5
_EXAMPLES = 3


@dataclass(frozen=True)
class RejectReason:
    """One reason rows were rejected: the column, the reason, how many rows, first values."""

    column: str
    reason: str
    rows: int
    examples: tuple[str, ...]

    def describe(self) -> str:
        """``Interest_Rate: decimal comma ... (290 rows; first values '12,39', '8,5')``."""
        shown = ", ".join(repr(value) for value in self.examples)
        values = f"; first values {shown}" if shown else ""
        return f"{self.column}: {self.reason} ({self.rows:,} rows{values})"


def top_reasons(
    rejects: pd.DataFrame, *, top: int = _TOP, examples: int = _EXAMPLES
) -> list[RejectReason]:
    """The most frequent reject reasons of a rejects table, most rows first.

    Parameters
    ----------
    rejects : DataFrame
        ``Loan_ID, Row, Column, Value, Reason`` (the contract's rejects layout).
    top : int
        Reasons to return.
    examples : int
        Distinct values to show per reason, in the order they were seen in the file.

    Returns
    -------
    list of RejectReason
    """
    if rejects is None or len(rejects) == 0:
        return []
    frame = rejects.assign(
        Column=rejects["Column"].astype(str).fillna(""),
        Reason=rejects["Reason"].astype(str).fillna(""),
    )
    if "Row" in frame.columns:
        frame = frame.sort_values("Row", kind="stable")
    out = []
    for (column, reason), group in frame.groupby(["Column", "Reason"], sort=False):
        values = group["Value"] if "Value" in group.columns else pd.Series(dtype=object)
        seen = values.dropna().astype(str).drop_duplicates().head(examples)
        rows = int(group["Row"].nunique()) if "Row" in group.columns else len(group)
        out.append(RejectReason(str(column), str(reason), rows, tuple(seen)))
    out.sort(key=lambda r: -r.rows)
    return out[:top]


class TooManyRejectsError(LoanRecoveryError, ValueError):
    """More than the allowed share of a table's rows was rejected.

    Parameters
    ----------
    source : str
        The file (or table) concerned.
    table : str
        The table's name (``loans``, ``payments``, ``collections``, ``data``).
    rejected, rows_in : int
        Rows rejected and rows read.
    max_share : float
        The allowed share.
    reasons : list of RejectReason
        The top reasons.

    Attributes
    ----------
    exit_code : int
        :data:`EXIT_TOO_MANY_REJECTS`; the command line exits with it.
    """

    exit_code = EXIT_TOO_MANY_REJECTS

    def __init__(
        self,
        source: str,
        table: str,
        rejected: int,
        rows_in: int,
        max_share: float,
        reasons: list[RejectReason],
    ) -> None:
        self.source = source
        self.table = table
        self.rejected = rejected
        self.rows_in = rows_in
        self.max_share = max_share
        self.reasons = reasons
        share = rejected / rows_in if rows_in else 1.0
        lines = [
            f"{source}: {rejected:,} of {rows_in:,} rows of the {table} table rejected "
            f"({share:.1%}), more than the {max_share:.0%} allowed; is the delimiter, the "
            "decimal mark (--decimal) or the mapping right? Top reasons:",
            *(f"  - {reason.describe()}" for reason in reasons),
            "Raise the limit with --max-reject-share (or [limits] max_reject_share in "
            "loanrecovery.toml), or go on anyway with --accept-rejects.",
        ]
        super().__init__("\n".join(lines))


def check_reject_share(
    counts: Mapping[str, Mapping[str, int]],
    rejects: Mapping[str, pd.DataFrame],
    *,
    max_share: float = DEFAULT_MAX_REJECT_SHARE,
    sources: Mapping[str, str] | None = None,
) -> None:
    """Raise :class:`TooManyRejectsError` for the first table whose rejected share is too high.

    Parameters
    ----------
    counts : mapping
        Per table, ``{"in": rows read, "rejected": rows rejected}`` (:meth:`Book.counts`).
    rejects : mapping of str to DataFrame
        Per table, its rejects (for the reasons in the message).
    max_share : float
        Largest allowed share of rejected rows, in [0, 1].
    sources : mapping, optional
        The file of each table, for the message.

    Raises
    ------
    TooManyRejectsError
    ValueError
        ``max_share`` is outside [0, 1].
    """
    if not 0.0 <= max_share <= 1.0:
        raise ValueError(f"max_share must be in [0, 1], got {max_share!r}")
    for table, count in counts.items():
        rows_in, rejected = int(count.get("in", 0)), int(count.get("rejected", 0))
        if rows_in and rejected / rows_in > max_share:
            raise TooManyRejectsError(
                (sources or {}).get(table, table),
                table,
                rejected,
                rows_in,
                max_share,
                top_reasons(rejects.get(table, pd.DataFrame())),
            )
