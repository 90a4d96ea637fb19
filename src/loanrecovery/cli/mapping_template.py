"""``loanrecovery mapping-template``: a starter mapping file for a lender's loan table."""

from __future__ import annotations

from pathlib import Path

import typer

from loanrecovery.cli import _table_options as opts
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.contract.template import guess_mapping, mapping_template
from loanrecovery.exceptions import DataFileError
from loanrecovery.io import read_table

__all__ = ["mapping_template_command"]


@app.command("mapping-template")
@handle_errors
def mapping_template_command(
    data: opts.DataOption,
    out: Path = typer.Option(
        Path("mapping.toml"), "--out", help="Where to write the starter mapping (TOML)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    delimiter: opts.DelimiterOption = None,
) -> None:
    """Write a starter mapping: guessed column names and the levels found, to check and edit."""
    if out.exists() and not force:
        raise DataFileError(str(out), "already exists; choose another --out or add --force")
    frame = read_table(data, as_text=True, delimiter=delimiter)
    guess = guess_mapping(frame)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(mapping_template(guess, data.name), encoding="utf-8")
    console.print(
        f"{len(guess.columns)} of {frame.shape[1]} columns matched, "
        f"{len(guess.missing)} required canonical columns not found; "
        f"levels listed for {len(guess.levels)} categorical columns",
        markup=False,
        highlight=False,
    )
    console.print(f"mapping written to {out}", markup=False, highlight=False)
