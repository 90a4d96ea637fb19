"""Early warning from monthly payment histories (issue 4).

Read and validate a payment panel, build point-in-time loan-month features, train horizon
models of 90+ days past due within 3 and 6 months out of time, compare them with a rule
and a snapshot model at an alert budget, give a months-to-default view per segment, and
rank the current book on a watchlist.

Typical use::

    result = run_early_warning(loans, payments, alert_budget=0.10)
    result.watchlist.to_csv("watchlist.csv", index=False)
    section = early_warning_section(result)
"""

from loanrecovery.contract.payments import (
    PANEL_COLUMNS,
    PanelValidation,
    read_panel,
    validate_panel,
)
from loanrecovery.early_warning.features import build_features
from loanrecovery.early_warning.horizon import HorizonClassifiers
from loanrecovery.early_warning.model_choice import MODEL_CHOICES, ModelChoice, choose_model
from loanrecovery.early_warning.run import (
    EarlyWarningDataError,
    EarlyWarningResult,
    run_early_warning,
)
from loanrecovery.early_warning.section import early_warning_section, no_panel_section
from loanrecovery.early_warning.sequence import DeepExtraMissingError, SequenceClassifier
from loanrecovery.early_warning.targets import make_targets

__all__ = [
    "PANEL_COLUMNS",
    "PanelValidation",
    "read_panel",
    "validate_panel",
    "build_features",
    "make_targets",
    "HorizonClassifiers",
    "SequenceClassifier",
    "DeepExtraMissingError",
    "MODEL_CHOICES",
    "ModelChoice",
    "choose_model",
    "EarlyWarningDataError",
    "EarlyWarningResult",
    "run_early_warning",
    "early_warning_section",
    "no_panel_section",
]
