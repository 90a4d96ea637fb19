"""docs/data-contract.md lists every column exactly as the contract declares it."""

from __future__ import annotations

from pathlib import Path

from loanrecovery.contract import LOAN_SPECS

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def test_doc_table_matches_specs():
    text = DOC.read_text(encoding="utf-8")
    for spec in LOAN_SPECS:
        required = "yes" if spec.required else "no"
        if spec.nullable:
            required += " (may be empty)"
        cells = [spec.name, spec.role.value, required, spec.kind.value, spec.expected()]
        row = "| " + " | ".join(cells) + " |"
        assert row in text, f"docs/data-contract.md is out of date for {spec.name}"
