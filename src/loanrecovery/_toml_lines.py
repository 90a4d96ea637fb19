"""Line numbers of TOML array-of-tables entries and keys, for errors that name the line."""

from __future__ import annotations

import re

__all__ = ["table_lines", "key_line"]


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
