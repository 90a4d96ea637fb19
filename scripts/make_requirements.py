"""Print requirements.txt from pyproject.toml (run by `make requirements`; never edit by hand).

``pip install -r requirements.txt && python main.py`` then works as in the original write-up.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def render() -> str:
    """The requirements file text for the project's runtime dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [
        "# Generated from pyproject.toml by `make requirements` (scripts/make_requirements.py).",
        "# Do not edit by hand.",
        *project["dependencies"],
        "# the package itself, so that `python main.py` finds it",
        "-e .",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
