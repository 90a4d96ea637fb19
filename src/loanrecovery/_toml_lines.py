"""The project's TOML files (policy, action catalogue): reading them, and the line numbers of
their array-of-tables entries and keys, for errors that name the line."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from loanrecovery.exceptions import PolicyError

__all__ = ["read_toml", "table_lines", "key_line"]


def read_toml(
    path: str | Path | None, builtin: tuple[str, ...], what: str
) -> tuple[str, str, dict[str, Any]]:
    """Text, source name and parsed content of a TOML file (the built-in one without ``path``).

    Parameters
    ----------
    path : path, optional
        The user's file.
    builtin : tuple of str
        Package, then the path parts of the built-in file inside it.
    what : str
        What the file is, for the "not found" message (e.g. ``"policy"``).

    Raises
    ------
    PolicyError
        The file is missing or not valid TOML.
    """
    if path is None:
        package, *parts = builtin
        text = resources.files(package).joinpath(*parts).read_text("utf-8")
        source = f"<built-in {parts[-1]}>"
    else:
        source = str(path)
        if not Path(path).is_file():
            raise PolicyError(source, f"{what} file not found")
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PolicyError(
                source, f"not UTF-8 text (byte {exc.start}); expected a TOML {what} file"
            ) from None
        except OSError as exc:
            raise PolicyError(source, f"cannot read the {what} file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, f"not valid TOML ({exc})") from None
    return text, source, data


def table_lines(text: str, header: str) -> list[int]:
    """1-based line of every ``[[header]]`` entry, in file order."""
    pattern = re.compile(rf"^\s*\[\[\s*{re.escape(header)}\s*\]\]")
    return [i + 1 for i, line in enumerate(text.splitlines()) if pattern.match(line)]


def key_line(text: str, start: int, key: str) -> int:
    """Line of ``key = ...`` in the table whose header is at line ``start`` (else ``start``)."""
    lines = text.splitlines()
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for index in range(max(start, 0), len(lines)):
        if lines[index].lstrip().startswith("["):
            break
        if pattern.match(lines[index]):
            return index + 1
    return start
