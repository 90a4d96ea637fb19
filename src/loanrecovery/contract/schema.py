"""Column specifications of the loan data contract.

The canonical input is the 21 columns of the original "Smart Loan Recovery" data. Each
column declares its kind, its allowed range or levels, its role and whether it is required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from loanrecovery.actions import ACTIONS, NO_ACTION, ORIGINAL_COLLECTION_METHODS

__all__ = [
    "Role",
    "Kind",
    "ColumnSpec",
    "LOAN_COLUMNS",
    "LOAN_SPECS",
    "COLLECTION_SPECS",
    "PAYMENT_SPECS",
    "ID_COLUMN",
    "FEATURE_ROLES",
    "normalize_level",
    "columns_with_role",
]


class Role(StrEnum):
    """What a column is for; only borrower, loan and behaviour columns may be features."""

    IDENTIFIER = "identifier"
    BORROWER = "borrower"
    LOAN = "loan"
    BEHAVIOUR = "behaviour"
    TREATMENT = "treatment"
    OUTCOME = "outcome"
    PROTECTED = "protected"


class Kind(StrEnum):
    """How a column's text is parsed."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    CATEGORY = "category"


#: Roles whose columns may feed a model.
FEATURE_ROLES = frozenset({Role.BORROWER, Role.LOAN, Role.BEHAVIOUR})


def normalize_level(value: str) -> str:
    """Fold case, spaces, underscores and hyphens so that "on time" matches "On-Time"."""
    return re.sub(r"[\s_\-]+", "", value.strip().casefold())


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a data contract.

    Parameters
    ----------
    name : str
        Canonical column name.
    kind : Kind
        How the text is parsed.
    role : Role
        What the column is for.
    required : bool
        The column must be present in the file.
    nullable : bool
        Empty values are allowed (otherwise a missing value rejects the row).
    minimum, maximum : float, optional
        Inclusive bounds for numbers.
    exclusive_minimum : bool
        The lower bound itself is not allowed (e.g. amounts that must be > 0).
    levels : tuple of str
        Allowed levels of a category, in canonical spelling.
    aliases : dict
        Other spellings accepted for a level (normalized spelling -> canonical level).
    description : str
        What the column holds, for documentation and error messages.
    """

    name: str
    kind: Kind
    role: Role
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    levels: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    description: str = ""

    def expected(self) -> str:
        """Describe the allowed values in words, for error messages."""
        if self.kind is Kind.CATEGORY:
            return "one of " + ", ".join(repr(level) for level in self.levels)
        if self.kind is Kind.TEXT:
            return "a non-empty text"
        what = "a whole number" if self.kind is Kind.INTEGER else "a number"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{'>' if self.exclusive_minimum else '>='} {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum:g}")
        return what + (" " + " and ".join(bounds) if bounds else "")

    def level_lookup(self) -> dict[str, str]:
        """Map every accepted normalized spelling to its canonical level."""
        lookup = {normalize_level(level): level for level in self.levels}
        lookup.update({normalize_level(k): v for k, v in self.aliases.items()})
        return lookup


_YES_NO = ("Yes", "No")
_YES_NO_ALIASES = {"y": "Yes", "n": "No", "true": "Yes", "false": "No", "1": "Yes", "0": "No"}
_COLLECTION_METHODS = tuple(dict.fromkeys((*ORIGINAL_COLLECTION_METHODS, *ACTIONS, NO_ACTION)))
_MONEY_MAX = 1e12

LOAN_SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec("Borrower_ID", Kind.TEXT, Role.IDENTIFIER, description="borrower identifier"),
    ColumnSpec("Age", Kind.INTEGER, Role.BORROWER, minimum=18, maximum=100),
    ColumnSpec(
        "Gender",
        Kind.CATEGORY,
        Role.PROTECTED,
        required=False,
        nullable=True,
        levels=("Male", "Female", "Other"),
        aliases={"m": "Male", "f": "Female"},
        description="protected attribute: used only for fairness reporting, never as a feature",
    ),
    ColumnSpec(
        "Employment_Type",
        Kind.CATEGORY,
        Role.BORROWER,
        levels=("Salaried", "Self-Employed", "Business Owner", "Unemployed"),
    ),
    ColumnSpec("Monthly_Income", Kind.NUMBER, Role.BORROWER, minimum=0, maximum=_MONEY_MAX),
    ColumnSpec("Num_Dependents", Kind.INTEGER, Role.BORROWER, minimum=0, maximum=20),
    ColumnSpec("Loan_ID", Kind.TEXT, Role.IDENTIFIER, description="unique loan identifier"),
    ColumnSpec(
        "Loan_Amount",
        Kind.NUMBER,
        Role.LOAN,
        minimum=0,
        exclusive_minimum=True,
        maximum=_MONEY_MAX,
    ),
    ColumnSpec("Loan_Tenure", Kind.INTEGER, Role.LOAN, minimum=1, maximum=600),
    ColumnSpec("Interest_Rate", Kind.NUMBER, Role.LOAN, minimum=0, maximum=100),
    ColumnSpec(
        "Loan_Type",
        Kind.CATEGORY,
        Role.LOAN,
        levels=("Personal", "Home", "Auto", "Business", "Education"),
    ),
    ColumnSpec("Collateral_Value", Kind.NUMBER, Role.LOAN, minimum=0, maximum=_MONEY_MAX),
    ColumnSpec(
        "Outstanding_Loan_Amount", Kind.NUMBER, Role.BEHAVIOUR, minimum=0, maximum=_MONEY_MAX
    ),
    ColumnSpec(
        "Monthly_EMI",
        Kind.NUMBER,
        Role.LOAN,
        minimum=0,
        exclusive_minimum=True,
        maximum=_MONEY_MAX,
    ),
    ColumnSpec(
        "Payment_History",
        Kind.CATEGORY,
        Role.BEHAVIOUR,
        levels=("On-Time", "Delayed", "Missed"),
    ),
    ColumnSpec("Num_Missed_Payments", Kind.INTEGER, Role.BEHAVIOUR, minimum=0, maximum=600),
    ColumnSpec("Days_Past_Due", Kind.INTEGER, Role.BEHAVIOUR, minimum=0, maximum=20000),
    ColumnSpec(
        "Recovery_Status",
        Kind.CATEGORY,
        Role.OUTCOME,
        required=False,
        nullable=True,
        levels=("Fully Recovered", "Partially Recovered", "Written Off"),
    ),
    ColumnSpec(
        "Collection_Attempts",
        Kind.INTEGER,
        Role.TREATMENT,
        required=False,
        nullable=True,
        minimum=0,
        maximum=10000,
    ),
    ColumnSpec(
        "Collection_Method",
        Kind.CATEGORY,
        Role.TREATMENT,
        required=False,
        nullable=True,
        levels=_COLLECTION_METHODS,
    ),
    ColumnSpec(
        "Legal_Action_Taken",
        Kind.CATEGORY,
        Role.TREATMENT,
        required=False,
        nullable=True,
        levels=_YES_NO,
        aliases=_YES_NO_ALIASES,
    ),
)

#: The 21 canonical column names, in the original file's order.
LOAN_COLUMNS: tuple[str, ...] = tuple(spec.name for spec in LOAN_SPECS)

#: The key column of the loan table.
ID_COLUMN = "Loan_ID"


def columns_with_role(*roles: Role) -> list[str]:
    """Canonical columns having any of ``roles``, in canonical order."""
    return [spec.name for spec in LOAN_SPECS if spec.role in roles]


#: The collection history (one row per action on a delinquent loan), ``collections.csv``.
COLLECTION_SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec("Loan_ID", Kind.TEXT, Role.IDENTIFIER, description="the loan acted on"),
    ColumnSpec("Month", Kind.INTEGER, Role.TREATMENT, minimum=-10000, maximum=10000),
    ColumnSpec("Action", Kind.CATEGORY, Role.TREATMENT, levels=ACTIONS),
    ColumnSpec("Cost", Kind.NUMBER, Role.TREATMENT, minimum=0, maximum=_MONEY_MAX),
    ColumnSpec("Recovered_Amount", Kind.NUMBER, Role.OUTCOME, minimum=0, maximum=_MONEY_MAX),
)

#: The monthly payment panel (one row per loan per active month), ``payments.csv``.
PAYMENT_SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec("Loan_ID", Kind.TEXT, Role.IDENTIFIER, description="loan identifier"),
    ColumnSpec("Month", Kind.INTEGER, Role.IDENTIFIER, description="month index or YYYY-MM"),
    ColumnSpec("Amount_Due", Kind.NUMBER, Role.BEHAVIOUR, minimum=0),
    ColumnSpec("Amount_Paid", Kind.NUMBER, Role.BEHAVIOUR, minimum=0),
    ColumnSpec("Days_Past_Due", Kind.NUMBER, Role.BEHAVIOUR, minimum=0),
    ColumnSpec("Outstanding_Balance", Kind.NUMBER, Role.BEHAVIOUR, minimum=0),
)
