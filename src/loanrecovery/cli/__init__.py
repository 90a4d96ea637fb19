"""The ``loanrecovery`` command line.

Each subcommand lives in its own module and registers itself on :data:`app`;
this module only imports them and provides :func:`main`, the console entry point.
"""

from __future__ import annotations

import sys

from loanrecovery.cli import run as _run  # noqa: F401  (registers `run`)
from loanrecovery.cli import simulate as _simulate  # noqa: F401  (registers `simulate`)
from loanrecovery.cli._app import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the command line; ``argv`` defaults to ``sys.argv[1:]``."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="loanrecovery")
