"""Issue 11 item 7: --version, -v after the command, flags shown as flags, help on every option,
`mapping-template` and `model-card`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import typer
from tests.modeling.conftest import make_table
from typer.testing import CliRunner

from loanrecovery import __version__
from loanrecovery.cli import app
from loanrecovery.cli._app import _hoist_verbose
from loanrecovery.contract.mapping import apply_mapping, load_mapping
from loanrecovery.contract.schema import LOAN_COLUMNS
from loanrecovery.contract.validate import validate_loans

runner = CliRunner()


def test_version() -> None:
    done = runner.invoke(app, ["--version"])
    assert done.exit_code == 0
    assert done.output.strip() == f"loanrecovery {__version__}"


def test_verbose_after_the_command_is_moved_before_it() -> None:
    commands = ["run", "score"]
    assert _hoist_verbose(["run", "--out", "x", "-vv"], commands) == ["-vv", "run", "--out", "x"]
    assert _hoist_verbose(["-v", "score", "--verbose"], commands) == [
        "--verbose",
        "-v",
        "score",
    ]
    assert _hoist_verbose(["run", "--", "-v"], commands) == ["run", "--", "-v"]
    done = runner.invoke(app, ["simulate", "--help", "-v"])
    assert done.exit_code == 0, done.output


def _commands() -> dict[str, typer.core.TyperCommand]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def test_every_option_has_help_and_flags_show_as_flags() -> None:
    missing = set()
    for name, command in _commands().items():
        assert command.help, name
        for param in command.params:
            if not getattr(param, "help", None):
                missing.add((name, param.opts[-1]))
        done = runner.invoke(app, [name, "--help"], terminal_width=200)
        assert done.exit_code == 0, done.output
        assert "<bool>" not in done.output, name
    assert missing == set()
    root = runner.invoke(app, ["--help"], terminal_width=200)
    assert "<bool>" not in root.output and "<int>" not in root.output
    assert "mapping-template" in root.output and "model-card" in root.output


def test_mapping_template_guesses_columns_and_levels(tmp_path: Path) -> None:
    from tests.conftest import make_loans

    loans = make_loans(n=60, seed=2).drop(columns=["Recovery_Status"])
    theirs = loans.rename(
        columns={
            "Loan_ID": "Acct No",
            "Days_Past_Due": "DPD",
            "Monthly_EMI": "instalment",
            "Employment_Type": "employment status",
            "Interest_Rate": "interest rate",
        }
    )
    theirs["employment status"] = theirs["employment status"].replace(
        {"Salaried": "salaried", "Self-Employed": "SELF EMPLOYED"}
    )
    theirs["branch"] = "north"
    data = tmp_path / "their.csv"
    theirs.to_csv(data, index=False)
    out = tmp_path / "mapping.toml"
    done = runner.invoke(app, ["mapping-template", "--data", str(data), "--out", str(out)])
    assert done.exit_code == 0, done.output
    text = out.read_text()
    parsed = tomllib.loads(text)
    assert parsed["columns"]["Acct No"] == "Loan_ID"
    assert parsed["columns"]["DPD"] == "Days_Past_Due"
    assert parsed["columns"]["instalment"] == "Monthly_EMI"
    assert '# "branch" = ""' in text  # no guess, said so
    assert parsed["values"]["Employment_Type"]["SELF EMPLOYED"] == "Self-Employed"
    # the template works as it is: every loan accepted after the mapping
    mapped = apply_mapping(pd.read_csv(data, dtype=str), load_mapping(out))
    assert set(LOAN_COLUMNS) - {"Recovery_Status"} <= set(mapped.columns)
    result = validate_loans(mapped, source=str(data))
    assert result.n_accepted == len(loans)
    again = runner.invoke(app, ["mapping-template", "--data", str(data), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output


def test_model_card_prints_the_card(tmp_path: Path) -> None:
    data = tmp_path / "loans.csv"
    make_table(n=300, seed=5).to_csv(data, index=False)
    model = tmp_path / "model.lrm"
    args = ["train", "--data", str(data), "--target", "TARGET_LABEL_BAD=1", "--folds", "2"]
    assert runner.invoke(app, [*args, "--model-out", str(model)]).exit_code == 0
    done = runner.invoke(app, ["model-card", str(model)], terminal_width=200)
    assert done.exit_code == 0, done.output
    assert "champion:" in done.output and "out-of-fold AUC" in done.output
    assert "TARGET_LABEL_BAD=1" in done.output
    as_json = runner.invoke(app, ["model-card", str(model), "--json"])
    assert '"model_sha256"' in as_json.output
    broken = tmp_path / "broken.lrm"
    broken.write_bytes(b"not a zip")
    failed = runner.invoke(app, ["model-card", str(broken)])
    assert failed.exit_code == 2
