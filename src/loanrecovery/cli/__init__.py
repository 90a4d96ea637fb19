"""The ``loanrecovery`` command line.

Each subcommand lives in its own module and registers itself on :data:`app`;
this module only imports them and provides :func:`main`, the console entry point.
"""

from __future__ import annotations

import os
import sys

# LightGBM's OpenMP threads spin while idle by default, which starves the other core on a
# 2-core machine; set before any library starts its thread pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from loanrecovery.cli import apply as _apply  # noqa: E402, F401
from loanrecovery.cli import early_warning as _early_warning  # noqa: E402, F401
from loanrecovery.cli import evaluate as _evaluate  # noqa: E402, F401
from loanrecovery.cli import fit as _fit  # noqa: E402, F401
from loanrecovery.cli import optimize as _optimize  # noqa: E402, F401
from loanrecovery.cli import run as _run  # noqa: E402, F401  (registers `run`)
from loanrecovery.cli import score as _score  # noqa: E402, F401
from loanrecovery.cli import simulate as _simulate  # noqa: E402, F401  (registers `simulate`)
from loanrecovery.cli import train as _train  # noqa: E402, F401
from loanrecovery.cli._app import app  # noqa: E402

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the command line; ``argv`` defaults to ``sys.argv[1:]``."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="loanrecovery")
