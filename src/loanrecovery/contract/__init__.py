"""The loan data contract: column specs, mapping files and validation."""

from loanrecovery.contract.collections import validate_collections
from loanrecovery.contract.mapping import ColumnMapping, apply_mapping, load_mapping
from loanrecovery.contract.numbers import ParsedNumbers, parse_numbers
from loanrecovery.contract.payments import (
    PANEL_COLUMNS,
    PanelValidation,
    month_index,
    read_panel,
    validate_panel,
)
from loanrecovery.contract.schema import (
    COLLECTION_SPECS,
    FEATURE_ROLES,
    ID_COLUMN,
    LOAN_COLUMNS,
    LOAN_SPECS,
    PAYMENT_SPECS,
    ColumnSpec,
    Kind,
    Role,
    columns_with_role,
    normalize_level,
)
from loanrecovery.contract.validate import (
    REJECT_COLUMNS,
    ValidationResult,
    match_columns,
    validate_frame,
    validate_loans,
)

__all__ = [
    "ParsedNumbers",
    "parse_numbers",
    "PANEL_COLUMNS",
    "PanelValidation",
    "month_index",
    "read_panel",
    "validate_panel",
    "COLLECTION_SPECS",
    "ColumnMapping",
    "ColumnSpec",
    "FEATURE_ROLES",
    "ID_COLUMN",
    "Kind",
    "LOAN_COLUMNS",
    "LOAN_SPECS",
    "PAYMENT_SPECS",
    "REJECT_COLUMNS",
    "Role",
    "ValidationResult",
    "apply_mapping",
    "columns_with_role",
    "load_mapping",
    "match_columns",
    "normalize_level",
    "validate_collections",
    "validate_frame",
    "validate_loans",
]
