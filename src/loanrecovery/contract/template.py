"""A starter mapping file for a lender's table: which of its columns is which canonical column.

:func:`guess_mapping` matches each column name of the file to a canonical column of the loan
contract (same name once case, spaces and underscores are folded; a known synonym; or a close
spelling), and for every categorical column it matched, the levels found in the data against
the contract's levels. :func:`mapping_template` writes that as a TOML mapping file
(:mod:`loanrecovery.contract.mapping`) with comments where it could not guess, for the user to
check and complete.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field

import pandas as pd

from loanrecovery.contract.schema import LOAN_SPECS, Kind, Role, normalize_level

__all__ = ["MappingGuess", "guess_mapping", "mapping_template", "MAX_LEVELS"]

#: Levels listed per categorical column at most (the most frequent first).
MAX_LEVELS = 40
#: Other names lenders use for the canonical columns (normalized spelling -> canonical).
_SYNONYMS: dict[str, str] = {
    normalize_level(k): v
    for k, v in {
        "customer id": "Borrower_ID",
        "cust id": "Borrower_ID",
        "client id": "Borrower_ID",
        "borrower": "Borrower_ID",
        "account id": "Loan_ID",
        "account number": "Loan_ID",
        "acct no": "Loan_ID",
        "loan number": "Loan_ID",
        "contract id": "Loan_ID",
        "sex": "Gender",
        "employment": "Employment_Type",
        "employment status": "Employment_Type",
        "income": "Monthly_Income",
        "monthly salary": "Monthly_Income",
        "dependents": "Num_Dependents",
        "principal": "Loan_Amount",
        "amount": "Loan_Amount",
        "loan amnt": "Loan_Amount",
        "term": "Loan_Tenure",
        "tenure": "Loan_Tenure",
        "term months": "Loan_Tenure",
        "rate": "Interest_Rate",
        "int rate": "Interest_Rate",
        "interest": "Interest_Rate",
        "product": "Loan_Type",
        "purpose": "Loan_Type",
        "collateral": "Collateral_Value",
        "balance": "Outstanding_Loan_Amount",
        "outstanding": "Outstanding_Loan_Amount",
        "outstanding balance": "Outstanding_Loan_Amount",
        "emi": "Monthly_EMI",
        "instalment": "Monthly_EMI",
        "installment": "Monthly_EMI",
        "monthly payment": "Monthly_EMI",
        "payment status": "Payment_History",
        "missed payments": "Num_Missed_Payments",
        "dpd": "Days_Past_Due",
        "days late": "Days_Past_Due",
        "days delinquent": "Days_Past_Due",
    }.items()
}
_CANONICAL = {normalize_level(s.name): s.name for s in LOAN_SPECS}


@dataclass(frozen=True)
class MappingGuess:
    """What :func:`guess_mapping` found.

    Attributes
    ----------
    columns : dict
        Their column -> canonical column, for the columns it could match.
    how : dict
        Their column -> how it was matched ("same name", "synonym", "close spelling").
    unmatched : list of str
        Their columns it could not match.
    missing : list of str
        Required canonical columns no column was matched to.
    levels : dict
        Their column -> {their level: canonical level or "" when unknown}, for matched
        categorical columns.
    counts : dict
        Their column -> {their level: rows}.
    """

    columns: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    levels: dict[str, dict[str, str]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def _match(name: str, taken: set[str]) -> tuple[str, str] | None:
    key = normalize_level(name)
    if key in _CANONICAL and _CANONICAL[key] not in taken:
        return _CANONICAL[key], "same name"
    if key in _SYNONYMS and _SYNONYMS[key] not in taken:
        return _SYNONYMS[key], "synonym"
    free = [k for k, v in _CANONICAL.items() if v not in taken]
    close = difflib.get_close_matches(key, free, n=1, cutoff=0.85)
    return (_CANONICAL[close[0]], "close spelling") if close else None


def guess_mapping(frame: pd.DataFrame) -> MappingGuess:
    """Match the columns and levels of ``frame`` (read as text) to the loan contract."""
    guess = MappingGuess()
    taken: set[str] = set()
    for column in frame.columns:
        found = _match(str(column), taken)
        if found is None:
            guess.unmatched.append(str(column))
            continue
        guess.columns[str(column)], guess.how[str(column)] = found
        taken.add(found[0])
    specs = {s.name: s for s in LOAN_SPECS}
    guess.missing.extend(s.name for s in LOAN_SPECS if s.required and s.name not in taken)
    for theirs, canonical in guess.columns.items():
        spec = specs[canonical]
        if spec.kind is not Kind.CATEGORY:
            continue
        counts = frame[theirs].dropna().astype(str).str.strip().value_counts().head(MAX_LEVELS)
        lookup = spec.level_lookup()
        guess.levels[theirs] = {
            str(level): lookup.get(normalize_level(str(level)), "") for level in counts.index
        }
        guess.counts[theirs] = {str(k): int(v) for k, v in counts.items()}
    return guess


def _key(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string is a JSON string


def mapping_template(guess: MappingGuess, source: str) -> str:
    """The TOML text of a starter mapping file (loads with ``load_mapping`` as it is)."""
    specs = {s.name: s for s in LOAN_SPECS}
    lines = [
        f"# Starter mapping for {source}, written by `loanrecovery mapping-template`.",
        "# Check every guess, complete what is missing, then: loanrecovery run --data FILE "
        "--mapping THIS_FILE",
        "",
        "[columns]   # their column = canonical column",
    ]
    for theirs, canonical in guess.columns.items():
        lines.append(f"{_key(theirs)} = {_key(canonical)}   # {guess.how[theirs]}")
    for theirs in guess.unmatched:
        lines.append(f'# {_key(theirs)} = ""   # no guess: map it, or leave it out (ignored)')
    if guess.missing:
        lines.append("")
        lines.append("# Required canonical columns that no column was matched to:")
        for name in guess.missing:
            spec = specs[name]
            role = "" if spec.role is Role.IDENTIFIER else f" ({spec.role.value})"
            lines.append(f"#   {name}{role}: {spec.expected()}")
    for theirs, levels in guess.levels.items():
        canonical = guess.columns[theirs]
        lines.append("")
        lines.append(
            f"[values.{_key(canonical)}]   # levels of {_key(theirs)}: their level = canonical "
            f"level; allowed: {', '.join(specs[canonical].levels)}"
        )
        for level, target in levels.items():
            rows = guess.counts[theirs][level]
            if target:
                lines.append(f"{_key(level)} = {_key(target)}   # {rows:,} rows")
            else:
                lines.append(f'# {_key(level)} = ""   # {rows:,} rows; no guess')
    return "\n".join(lines) + "\n"
