"""Checks at the door: options, output paths, text files, and JSON that stays JSON.

Every command checks what it is given before any work, with one message naming the option or
file, the value and what was expected (:class:`~loanrecovery.exceptions.OptionError` or
:class:`~loanrecovery.exceptions.DataFileError`, exit code 2 on the command line).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.exceptions import DataFileError, OptionError

__all__ = [
    "finite_option",
    "seed_option",
    "parse_capacities",
    "output_file",
    "output_dir",
    "read_text_file",
    "read_json_file",
    "finite_json",
    "dumps_json",
    "write_rejects",
    "MAX_SEED",
]

logger = logging.getLogger(__name__)

#: Largest seed numpy's generators accept.
MAX_SEED = 2**32 - 1


def finite_option(
    value: float | None,
    option: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """``value`` if it is a finite number within the bounds (``None`` passes).

    Raises
    ------
    OptionError
        ``inf``, ``nan`` or a number out of bounds.
    """
    if value is None:
        return None
    if not math.isfinite(value):
        raise OptionError(option, f"{value} is not a finite number; expected a number")
    if minimum is not None and value < minimum:
        raise OptionError(option, f"{value:g} is below {minimum:g}")
    if maximum is not None and value > maximum:
        raise OptionError(option, f"{value:g} is above {maximum:g}")
    return value


def seed_option(value: int, option: str = "--seed") -> int:
    """A seed numpy accepts: a whole number from 0 to 2**32 - 1."""
    if not 0 <= value <= MAX_SEED:
        raise OptionError(option, f"{value} is not a seed; expected a whole number 0..{MAX_SEED}")
    return value


def parse_capacities(text: str | None, option: str = "--capacity") -> dict[str, float] | None:
    """``"Legal Action=20,Field Visit=50"`` -> ``{"Legal Action": 20.0, ...}``.

    Raises
    ------
    OptionError
        An item is not ``ACTION=N`` with a finite ``N >= 0``, or an action is given twice.
    """
    if text is None or not text.strip():
        return None
    out: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name or not math.isfinite(number) or number < 0:
            raise OptionError(
                option, f"expected ACTION=N with a finite N >= 0, got {item.strip()!r}"
            )
        if name in out:
            raise OptionError(option, f"{name!r} is given twice; give each action once")
        out[name] = number
    return out


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


def finite_json(value: Any, where: str = "$", notes: list[str] | None = None) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (its place noted)."""
    if isinstance(value, Mapping):
        return {str(k): finite_json(v, f"{where}.{k}", notes) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v, f"{where}[{i}]", notes) for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist(), where, notes)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        if notes is not None:
            notes.append(f"{where} was {value}")
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def dumps_json(payload: Any, *, indent: int | None = 2) -> str:
    """Valid JSON (never ``NaN``/``Infinity``): non-finite figures are written as ``null``,
    and a dict payload gets a ``non_finite_as_null`` list saying where."""
    notes: list[str] = []
    clean = finite_json(payload, "$", notes)
    if notes:
        logger.warning("non-finite figures written as null: %s", "; ".join(notes[:10]))
        if isinstance(clean, dict):
            clean["non_finite_as_null"] = notes
    return json.dumps(clean, indent=indent, default=str, allow_nan=False)


def write_rejects(rejects: pd.DataFrame, path: Path) -> Path:
    """Write a rejects table (CSV), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rejects.to_csv(path, index=False)
    return path
