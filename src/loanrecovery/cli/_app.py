"""The Typer application, logging set-up and error handling shared by every subcommand."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler

from loanrecovery.exceptions import LoanRecoveryError

app = typer.Typer(
    name="loanrecovery",
    help="Default risk, early warning and recovery strategies for collections teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Console for human-facing output (tables, progress). Errors go to ``err_console``.
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INPUT_ERROR = 2


@app.callback()
def _root(
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-vv: debug)."
    ),
) -> None:
    """Configure logging once, at the entry point."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )


def handle_errors(func: F) -> F:
    """Turn a :class:`LoanRecoveryError` into one line on stderr and exit code 2.

    Anything else is a bug and is left to propagate with its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LoanRecoveryError as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False)
            raise typer.Exit(EXIT_INPUT_ERROR) from None

    return wrapper  # type: ignore[return-value]
