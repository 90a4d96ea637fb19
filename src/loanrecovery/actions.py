"""Canonical names of collection actions, shared by the simulator, the contract, the
strategy ladder and the optimizer.

The order runs from the mildest to the harshest action.
"""

from __future__ import annotations

__all__ = ["ACTIONS", "ORIGINAL_COLLECTION_METHODS", "NO_ACTION", "REMINDER_ACTIONS"]

#: The action catalogue, mildest first.
ACTIONS: tuple[str, ...] = (
    "Automated Reminder",
    "SMS",
    "Call",
    "Settlement Offer",
    "Restructured Plan",
    "Field Visit",
    "Agency Placement",
    "Legal Notice",
    "Legal Action",
)

#: Collection_Method levels used by the original write-up's data.
ORIGINAL_COLLECTION_METHODS: tuple[str, ...] = (
    "Calls",
    "Legal Notice",
    "Debt Collectors",
    "Settlement Offer",
)

#: The value meaning "no collection action was taken".
NO_ACTION = "None"

#: Reminders: they ask a borrower to pay an instalment, which is no recovery action for an
#: account already in default (never planned for one).
REMINDER_ACTIONS: tuple[str, ...] = ("Automated Reminder", "SMS")
