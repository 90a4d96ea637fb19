"""Exceptions and warnings raised by loanrecovery.

Every error a user can cause subclasses :class:`LoanRecoveryError` and a built-in
error, and says what was found, where, and what was expected. The command line
turns these into one line on stderr and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "LoanRecoveryError",
    "DataFileError",
    "NoValidRowsError",
    "MappingError",
    "PolicyError",
    "ModelFileError",
    "OptionError",
    "DataQualityWarning",
]


class LoanRecoveryError(Exception):
    """Base class of every error that a user's input can cause."""


class DataFileError(LoanRecoveryError, ValueError):
    """A data file cannot be used at all (file-level problem).

    Parameters
    ----------
    path : str or Path
        The file.
    message : str
        What is wrong and what was expected.
    column : str, optional
        The column concerned, when there is one.
    """

    def __init__(self, path: str | Path, message: str, *, column: str | None = None) -> None:
        self.path = str(path)
        self.column = column
        self.message = message
        where = f"{self.path}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


class NoValidRowsError(DataFileError):
    """Every row of a file was rejected; ``rejects`` holds the reasons.

    Parameters
    ----------
    path : str or Path
        The file.
    rejects : DataFrame
        The rejects.
    written : str or Path, optional
        Where the rejects were written (default: "rejects.csv", which the caller writes).
    """

    def __init__(
        self, path: str | Path, rejects: object, *, written: str | Path | None = None
    ) -> None:
        self.rejects = rejects
        count = len(rejects)  # type: ignore[arg-type]
        where = "rejects.csv" if written is None else str(written)
        super().__init__(path, f"no row passed the data contract ({count} rejected; see {where})")


class MappingError(LoanRecoveryError, ValueError):
    """A column-mapping file is malformed or maps onto unknown columns."""


class PolicyError(LoanRecoveryError, ValueError):
    """A policy or action-catalogue file is invalid.

    Parameters
    ----------
    path : str or Path
        The policy file.
    message : str
        What is wrong and what was expected.
    line : int, optional
        1-based line number in the file, when known.
    """

    def __init__(self, path: str | Path, message: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


class ModelFileError(LoanRecoveryError, ValueError):
    """A model file is missing, tampered with, or holds untrusted types."""


class OptionError(LoanRecoveryError, ValueError):
    """A command option (or a library argument given as one) is not acceptable.

    Parameters
    ----------
    option : str
        The option, e.g. ``"--budget"``.
    message : str
        What is wrong and what was expected.
    """

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(f"{option}: {message}")


class DataQualityWarning(UserWarning):
    """Input data is usable but something about it deserves attention."""
