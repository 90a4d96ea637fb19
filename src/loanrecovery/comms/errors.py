"""Errors of borrower communications a user can cause (profiles, templates, channels)."""

from __future__ import annotations

from loanrecovery.exceptions import LoanRecoveryError

__all__ = ["CommsInputError", "ChannelError"]


class CommsInputError(LoanRecoveryError, ValueError):
    """A profile, template, channel setting or request is not valid (names what and where)."""


class ChannelError(LoanRecoveryError, RuntimeError):
    """A channel could not hand a message over (the worker retries with backoff)."""
