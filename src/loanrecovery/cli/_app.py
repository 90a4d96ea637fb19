"""The Typer application, logging set-up and error handling shared by every subcommand."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from loanrecovery import __version__
from loanrecovery.exceptions import LoanRecoveryError

_VERBOSE = re.compile(r"-v+|--verbose")


def _hoist_verbose(args: Sequence[str], commands: Sequence[str]) -> list[str]:
    """``-v``/``--verbose`` given after the command moved before it (where the root reads them).

    Arguments after ``--`` are left alone.
    """
    args = list(args)
    command = next((i for i, a in enumerate(args) if a in commands), None)
    if command is None:
        return args
    end = args.index("--") if "--" in args[command:] else len(args)
    moved = [a for a in args[command + 1 : end] if _VERBOSE.fullmatch(a)]
    if not moved:
        return args
    rest = [a for a in args[command + 1 : end] if not _VERBOSE.fullmatch(a)]
    return [*moved, *args[: command + 1], *rest, *args[end:]]


def _flags_as_flags(params: Sequence[Any]) -> None:
    """Boolean flags and counters take no value: show no ``<bool>``/``<int>`` after them."""
    for param in params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""


class _Group(TyperGroup):
    """The root group: verbosity accepted anywhere, flags shown as flags in every help."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _hoist_verbose(args, list(self.commands)))

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _flags_as_flags(params)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _flags_as_flags(command.get_params(ctx))
        return command


app = typer.Typer(
    cls=_Group,
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


def _print_version(value: bool) -> None:
    if value:
        console.print(f"loanrecovery {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        help="More log output (-vv: debug); accepted before or after the command.",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version and exit.",
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


@contextmanager
def stage_status(first: str) -> Iterator[Callable[[str], None]]:
    """A spinner naming the current stage and the time it has taken (on the terminal only);
    yields a function that moves it to the next stage."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(first, total=None)
        yield lambda name: progress.update(task, description=name)


def handle_errors(func: F) -> F:
    """Turn a :class:`LoanRecoveryError` into its message on stderr and exit code 2 (or the
    error's own ``exit_code``: 3 for too many rejected rows).

    Anything else is a bug and is left to propagate with its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LoanRecoveryError as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False)
            raise typer.Exit(getattr(exc, "exit_code", EXIT_INPUT_ERROR)) from None

    return wrapper  # type: ignore[return-value]
