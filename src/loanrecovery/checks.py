"""Checks at the door: options, output paths and the text and JSON files a user gives.

Every command checks what it is given before any work, with one message naming the option or
file, the value and what was expected (:class:`~loanrecovery.exceptions.OptionError` or
:class:`~loanrecovery.exceptions.DataFileError`, exit code 2 on the command line).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from loanrecovery.exceptions import DataFileError, OptionError

__all__ = [
    "output_file",
    "output_dir",
    "read_text_file",
    "read_json_file",
    "write_rejects",
]

logger = logging.getLogger(__name__)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def output_file(path: Path, option: str, inputs: Iterable[Path | None] = ()) -> Path:
    """Refuse, before any work, an output file that is a directory or one of the inputs.

    Raises
    ------
    OptionError
        ``path`` is a directory, its parent is a file, or it is one of ``inputs``.
    """
    if path.is_dir():
        raise OptionError(option, f"{path} is a directory; expected a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OptionError(option, f"{parent} is a file, so {path} cannot be written")
            break
    for source in inputs:
        if source is not None and _same(path, Path(source)):
            raise OptionError(
                option, f"{path} is also an input; refusing to overwrite it (choose another name)"
            )
    return path


def output_dir(path: Path, option: str, inputs: Iterable[Path | None] = ()) -> Path:
    """Refuse, before any work, an output folder that is an existing file or an input file."""
    if path.exists() and not path.is_dir():
        raise OptionError(option, f"{path} exists and is not a directory; expected a folder")
    for source in inputs:
        if source is not None and Path(source).is_file() and _same(path, Path(source)):
            raise OptionError(option, f"{path} is an input file; expected a folder")
    return path


def read_text_file(path: str | Path, what: str, *, encoding: str = "utf-8-sig") -> str:
    """The text of a configuration file, or one line saying why it cannot be read.

    Raises
    ------
    DataFileError
        The file is missing, a directory, unreadable, or not UTF-8 text.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(
            path, f"{what} file not found" + (" (a directory)" if path.is_dir() else "")
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, f"cannot read the {what} file ({exc.strerror})") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataFileError(
            path,
            f"the {what} file is not UTF-8 text (byte {exc.start}); expected a UTF-8 text file",
        ) from None
    if "\x00" in text:
        raise DataFileError(path, f"the {what} file holds NUL bytes; expected a UTF-8 text file")
    return text


def read_json_file(path: str | Path, what: str) -> Any:
    """Parsed JSON of a file, or one line naming the file and the problem."""
    text = read_text_file(path, what)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise DataFileError(path, f"the {what} file is not valid JSON ({exc})") from None
    except RecursionError:
        raise DataFileError(path, f"the {what} file nests too deeply to be read") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def write_rejects(rejects: pd.DataFrame, path: Path) -> Path:
    """Write a rejects table (CSV), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rejects.to_csv(path, index=False)
    return path
