"""The API routers, one per resource, all mounted under ``/api/v1``."""

from fastapi import APIRouter

from loanrecovery.service.api import (
    alerts,
    arrangements,
    audit,
    cases,
    comms,
    held_messages,
    loans,
    ops,
    payments,
    users,
)

__all__ = ["api_router", "ops"]

api_router = APIRouter(prefix="/api/v1")
for _module in (payments, loans, cases, arrangements, alerts, audit, users, comms, held_messages):
    api_router.include_router(_module.router)
