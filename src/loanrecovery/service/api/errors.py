"""Errors shaped like FastAPI's own validation errors, so every 422 names its field the same
way (``detail[].loc``) and matches the documented schema."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError

__all__ = ["invalid"]


def invalid(*loc: str | int, message: str) -> RequestValidationError:
    """A 422 for the value at ``loc`` (e.g. ``"body", "promised_date"``)."""
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])
