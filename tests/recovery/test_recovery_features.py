"""Decision features: the static columns come from the contract, never treatment or outcome."""

from __future__ import annotations

from loanrecovery.contract.schema import FEATURE_ROLES, LOAN_COLUMNS, LOAN_SPECS, Kind, Role
from loanrecovery.recovery.features import _CATEGORICAL, STATIC_COLUMNS


def test_static_columns_are_contract_borrower_and_loan_columns_plus_opt_out() -> None:
    roles = {spec.name: spec.role for spec in LOAN_SPECS}
    contract = [c for c in STATIC_COLUMNS if c in roles]
    extra = [c for c in STATIC_COLUMNS if c not in roles]
    assert contract == [c for c in LOAN_COLUMNS if roles[c] in {Role.BORROWER, Role.LOAN}]
    assert all(roles[c] in FEATURE_ROLES for c in contract)
    assert extra == ["Contact_Opt_Out"]


def test_categorical_columns_are_the_static_categories() -> None:
    kinds = {spec.name: spec.kind for spec in LOAN_SPECS}
    expected = [c for c in STATIC_COLUMNS if kinds.get(c) is Kind.CATEGORY]
    assert list(_CATEGORICAL) == [*expected, "Contact_Opt_Out"]
