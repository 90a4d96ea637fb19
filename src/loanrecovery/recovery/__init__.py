"""Recovery strategies that pay: action effects, policy engine, optimizer, champion/challenger.

Entry points: :func:`run_recovery` (effects from history and the three plans) and
:func:`recovery_section` (the report section).
"""

from loanrecovery.recovery.catalogue import Catalogue, load_catalogue
from loanrecovery.recovery.challenger import assign_arms, compare_strategies
from loanrecovery.recovery.compliance import check_plan, eligibility
from loanrecovery.recovery.effects import ActionEffectEstimator
from loanrecovery.recovery.optimizer import Assignment, optimize_assignment
from loanrecovery.recovery.policy import load_validated_policy
from loanrecovery.recovery.runner import RecoveryResult, recovery_json, run_recovery
from loanrecovery.recovery.section import recovery_section

__all__ = [
    "ActionEffectEstimator",
    "Assignment",
    "Catalogue",
    "RecoveryResult",
    "assign_arms",
    "check_plan",
    "compare_strategies",
    "eligibility",
    "load_catalogue",
    "load_validated_policy",
    "optimize_assignment",
    "recovery_json",
    "recovery_section",
    "run_recovery",
]
