"""Same seed, same bytes; another seed, other bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanrecovery.simulate import (
    BOOK_FILES,
    SimulationParameterError,
    simulate_portfolio,
    write_book,
)


def _write(tmp: Path, seed: int) -> dict[str, bytes]:
    book = simulate_portfolio(150, 8, seed=seed, default_draws=16, outcome_draws=4)
    paths = write_book(book, tmp / f"seed{seed}")
    return {name: path.read_bytes() for name, path in paths.items()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = _write(tmp_path / "a", 3)
    second = _write(tmp_path / "b", 3)
    assert set(first) == set(BOOK_FILES)
    for name in BOOK_FILES:
        assert first[name] == second[name], name


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    first = _write(tmp_path, 3)
    other = _write(tmp_path, 4)
    for name in BOOK_FILES:
        assert first[name] != other[name], name


def test_truth_flag_does_not_change_tables() -> None:
    full = simulate_portfolio(120, 6, seed=5, default_draws=8, outcome_draws=2)
    light = simulate_portfolio(120, 6, seed=5, truth=False)
    assert full.loans.equals(light.loans)
    assert full.payments.equals(light.payments)
    assert full.collections.equals(light.collections)
    assert "default_probability" not in light.truth


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"n_loans": 0}, "n_loans"), ({"n_months": -1}, "n_months"), ({"seed": 1.5}, "seed")],
)
def test_bad_parameters_are_named(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(SimulationParameterError, match=name):
        simulate_portfolio(**kwargs)  # type: ignore[arg-type]


def test_write_book_refuses_a_file_as_directory(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    book = simulate_portfolio(20, 3, seed=1, truth=False)
    with pytest.raises(ValueError, match="not a directory"):
        write_book(book, target)
