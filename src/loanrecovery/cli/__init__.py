"""The ``loanrecovery`` command line.

Each subcommand lives in its own module and registers itself on :data:`app`;
this module only imports them and provides :func:`main`. The process entry point (the
``loanrecovery`` console script and ``python -m loanrecovery``) is
:mod:`loanrecovery.__main__`, which sets up the process before importing this module.
"""

from __future__ import annotations

import sys

from loanrecovery.cli import apply as _apply  # noqa: F401
from loanrecovery.cli import comms as _comms  # noqa: F401  (registers `comms schedule|worker`)
from loanrecovery.cli import db as _db  # noqa: F401  (registers `db upgrade`)
from loanrecovery.cli import early_warning as _early_warning  # noqa: F401
from loanrecovery.cli import evaluate as _evaluate  # noqa: F401
from loanrecovery.cli import fit as _fit  # noqa: F401
from loanrecovery.cli import import_book as _import_book  # noqa: F401  (registers `import`)
from loanrecovery.cli import mapping_template as _mapping_template  # noqa: F401
from loanrecovery.cli import model_card as _model_card  # noqa: F401
from loanrecovery.cli import optimize as _optimize  # noqa: F401
from loanrecovery.cli import refresh as _refresh  # noqa: F401  (registers `refresh`)
from loanrecovery.cli import run as _run  # noqa: F401  (registers `run`)
from loanrecovery.cli import score as _score  # noqa: F401
from loanrecovery.cli import serve as _serve  # noqa: F401
from loanrecovery.cli import simulate as _simulate  # noqa: F401  (registers `simulate`)
from loanrecovery.cli import train as _train  # noqa: F401
from loanrecovery.cli import users as _users  # noqa: F401  (registers `users add|revoke`)
from loanrecovery.cli._app import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the command line; ``argv`` defaults to ``sys.argv[1:]``."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="loanrecovery")
