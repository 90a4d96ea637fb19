"""The project's TOML files (policy, action catalogue): reading them, and the line numbers of
their array-of-tables entries and keys, for errors that name the line."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from loanrecovery.exceptions import PolicyError

__all__ = ["read_toml", "read_text", "builtin_text", "parse_toml", "table_lines", "key_line"]


def read_text(path: str | Path, what: str) -> tuple[str, str]:
    """Text and source name of a user's TOML file (UTF-8, an optional BOM).

    Raises
    ------
    PolicyError
        The file is missing, a folder, or not UTF-8 text.
    """
    source = str(path)
    if not Path(path).is_file():
        raise PolicyError(source, f"{what} file not found")
    try:
        return Path(path).read_bytes().decode("utf-8-sig"), source
    except UnicodeDecodeError as exc:
        raise PolicyError(
            source, f"{what} file is not UTF-8 text (byte {exc.start}); save it as UTF-8 TOML"
        ) from None


def builtin_text(builtin: tuple[str, ...]) -> tuple[str, str]:
    """Text and source name (``<built-in NAME>``) of a TOML file shipped in the package."""
    package, *parts = builtin
    return resources.files(package).joinpath(*parts).read_text("utf-8"), f"<built-in {parts[-1]}>"


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error names the source and line.

    Raises
    ------
    PolicyError
        Not valid TOML.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, f"not valid TOML ({exc})") from None


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
        The file is missing, not UTF-8 text, or not valid TOML.
    """
    text, source = builtin_text(builtin) if path is None else read_text(path, what)
    return text, source, parse_toml(text, source)


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
