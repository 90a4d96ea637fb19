"""Which column of any loan table holds the days past due, guessed carefully.

`train` uses a days-past-due column for the rules that need one (90+ days: already in
default; the strategy ladder's ``dpd_at_least``). A name such as
``NumberOfTime30-59DaysPastDueNotWorse`` mentions days past due but counts late payments: read
as days past due it would put every borrower with a few late payments below 30 days and
nobody in default. So:

* a column named exactly like days past due (``Days_Past_Due``, ``DPD``, ``days past due``,
  ``current_dpd`` ...) is taken, and the guess is *certain*;
* a column that only mentions it (``days_late``, ``dpd_max``) is taken, but the guess is
  *uncertain*: the command prints it, and ``--dpd-column`` confirms or overrides it;
* a column whose name says it is a count (``number of``, ``times``, ``count``, a day range
  such as ``30-59``) is never taken;
* ``--dpd-column NAME`` names the column; ``--dpd-column none`` says there is none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from loanrecovery.exceptions import OptionError

__all__ = ["DpdGuess", "guess_dpd_column", "NO_DPD"]

#: The ``--dpd-column`` value meaning "this table has no days-past-due column".
NO_DPD = "none"

_EXACT = re.compile(
    r"^(current[\s_.-]*)?(days?[\s_.-]*past[\s_.-]*due|dpd)([\s_.-]*(now|current|days))?$",
    re.IGNORECASE,
)
_MENTIONS = re.compile(
    r"days?.?past.?due|(^|[^a-z])dpd([^a-z]|$)|days?.?late|days?.?delinquent|days?.?overdue",
    re.IGNORECASE,
)
_COUNT = re.compile(
    r"number|num[\s_.-]|^num|count|cnt|times?[\s_.-]*\d|times|^n[\s_.-]|no[\s_.-]of|"
    r"\d+\s*[-_to]+\s*\d+|\d+\s*\+|worse|ever|freq",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DpdGuess:
    """The days-past-due column of a table, and how sure the guess is.

    Attributes
    ----------
    column : str or None
        The column (None: the table has none, or none could be told apart).
    certain : bool
        Named exactly like days past due, or given with ``--dpd-column``.
    passed_over : tuple of str
        Columns that mention days past due but count late payments (never taken).
    """

    column: str | None
    certain: bool
    passed_over: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the terminal: what was taken and how to confirm or override it."""
        skipped = (
            f"; not taken (counts of late payments): {', '.join(self.passed_over)}"
            if self.passed_over
            else ""
        )
        if self.column is None:
            return f"days-past-due column: none found{skipped} (--dpd-column NAME names one)"
        if self.certain:
            return f"days-past-due column: {self.column}{skipped}"
        return (
            f"days-past-due column guessed: {self.column} (uncertain; confirm with "
            f"--dpd-column {self.column!r} or override with --dpd-column NAME / none){skipped}"
        )


def guess_dpd_column(columns: Sequence[object], given: str | None = None) -> DpdGuess:
    """The days-past-due column among ``columns`` (see the module docstring).

    Parameters
    ----------
    columns : sequence
        The feature columns (numeric ones: a categorical column is never days past due).
    given : str, optional
        ``--dpd-column``: a column name, or ``"none"``.

    Returns
    -------
    DpdGuess

    Raises
    ------
    OptionError
        ``given`` names a column that is not among ``columns``.
    """
    names = [str(c) for c in columns]
    passed_over = tuple(n for n in names if _MENTIONS.search(n) and _COUNT.search(n))
    if given is not None:
        if given.strip().lower() == NO_DPD:
            return DpdGuess(None, True, passed_over)
        if given not in names:
            raise OptionError(
                "--dpd-column",
                f"{given!r} is not a numeric feature column of the table; expected one of "
                f"{', '.join(names[:20])} (or 'none')",
            )
        return DpdGuess(given, True, tuple(n for n in passed_over if n != given))
    exact = [n for n in names if _EXACT.match(n.strip())]
    if exact:
        return DpdGuess(exact[0], len(exact) == 1, passed_over)
    mentions = [n for n in names if _MENTIONS.search(n) and n not in passed_over]
    if mentions:
        return DpdGuess(mentions[0], False, passed_over)
    return DpdGuess(None, False, passed_over)
