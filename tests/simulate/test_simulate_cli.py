"""`loanrecovery simulate` writes the four files."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.simulate import BOOK_FILES


def test_cli_writes_four_files(tmp_path: Path) -> None:
    out = tmp_path / "book"
    result = CliRunner().invoke(
        app, ["simulate", "--loans", "120", "--months", "6", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*BOOK_FILES, "run.json"])
    assert all((out / name).stat().st_size > 0 for name in BOOK_FILES)


def test_cli_rejects_a_file_as_output(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = CliRunner().invoke(
        app, ["simulate", "--loans", "20", "--months", "3", "--out", str(target)]
    )
    assert result.exit_code == 2
    assert "not a directory" in result.output
