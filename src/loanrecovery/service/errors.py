"""Errors of the service a user can cause (bad settings, bad URLs, unknown users)."""

from __future__ import annotations

from loanrecovery.exceptions import LoanRecoveryError

__all__ = ["ServiceConfigError", "ServiceInputError"]


class ServiceConfigError(LoanRecoveryError, ValueError):
    """A setting of the service (database URL, bundle file, port) cannot be used."""


class ServiceInputError(LoanRecoveryError, ValueError):
    """A command's input (user name, role, token) is not valid."""
