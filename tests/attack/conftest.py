"""Shared pieces of the attack tests: a small simulated book, the CLI run in-process, and
Hypothesis strategies that break tables (cells, rows, columns, records).

Every door's test asserts the same contract: exit code 0, 2 or 3 only; no traceback; rows
conserved; outputs finite; and, where it applies, the same result under row shuffles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import strategies as st
from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.simulate import simulate_portfolio, write_book

ALLOWED_EXIT_CODES = {0, 2, 3}


@dataclass(frozen=True)
class Outcome:
    """A command's exit code, stdout and stderr."""

    exit_code: int
    stdout: str
    stderr: str


def invoke(args: list[str]) -> Outcome:
    """Run the CLI in-process and check the door's contract (exit code, no traceback)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"{args}: {type(result.exception).__name__}: {result.exception}"
    stderr = result.stderr or ""
    assert "Traceback" not in stderr and "Traceback" not in result.stdout, stderr
    assert result.exit_code in ALLOWED_EXIT_CODES, (result.exit_code, stderr, result.stdout)
    if result.exit_code == 2:
        # One line on stderr (after any log warnings): the error itself.
        errors = [
            line for line in stderr.splitlines() if line.startswith(("error:", "Error", "Usage"))
        ]
        assert errors, stderr
    return Outcome(result.exit_code, result.stdout, stderr)


@pytest.fixture(scope="session")
def book_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 loans x 18 months, written as the simulator writes them (read-only for tests)."""
    out = tmp_path_factory.mktemp("attack_book")
    write_book(simulate_portfolio(300, 18, seed=5, default_draws=16, outcome_draws=4), out)
    return out


#: Values that do not belong in a numeric or month column, generated around hostile themes.
hostile_cells = st.one_of(
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "NaN",
            "Infinity",
            "",
            " ",
            "n/a",
            "1.5",
            "2024-03",
            "999999",
            "-999999",
            "12,39",
            "215.422,00",
            "1e400",
            "-0",
            "(5)",
            "$12",
            "12%",
            "id",
            "Month",
            "\u00a0",
            "0x10",
            "1_000",
            "TRUE",
            "None",
            "\x00",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\"'"),
        max_size=12,
    ),
)


@st.composite
def broken_table(draw: st.DrawFn, table: pd.DataFrame, *, max_edits: int = 8) -> pd.DataFrame:
    """``table`` (as text) with generated damage: bad cells, duplicated and shuffled rows."""
    frame = table.astype(str).copy()
    n = len(frame)
    for _ in range(draw(st.integers(0, max_edits))):
        kind = draw(st.sampled_from(["cell", "cell", "cell", "duplicate", "conflict", "header"]))
        row = draw(st.integers(0, n - 1))
        if kind == "cell":
            column = draw(st.sampled_from(list(frame.columns)))
            frame.iat[row, frame.columns.get_loc(column)] = draw(hostile_cells)
        elif kind == "duplicate":
            frame = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
        elif kind == "conflict":
            copy = frame.iloc[[row]].copy()
            column = draw(st.sampled_from(list(frame.columns)))
            copy.iat[0, frame.columns.get_loc(column)] = draw(hostile_cells)
            frame = pd.concat([frame, copy], ignore_index=True)
        else:
            header = pd.DataFrame([list(frame.columns)], columns=frame.columns)
            frame = pd.concat([frame.iloc[:row], header, frame.iloc[row:]], ignore_index=True)
    if draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 2**16)))
    return frame.reset_index(drop=True)


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same rows in another order."""
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
