"""FastAPI dependencies, defined once: the database session, the services and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.service.auth import PERMISSIONS, user_for_token
from loanrecovery.service.db.models import User
from loanrecovery.service.ledger import Ledger
from loanrecovery.service.metrics import Metrics
from loanrecovery.service.scoring import Scorer
from loanrecovery.service.settings import Settings

__all__ = [
    "Services",
    "get_services",
    "get_db",
    "current_user",
    "require",
    "DbSession",
    "WriteSession",
    "get_writer",
    "CurrentUser",
    "ServicesDep",
]


@dataclass
class Services:
    """What the routers share, built once by the app."""

    settings: Settings
    factory: sessionmaker[Session]
    reader: sessionmaker[Session]
    lookup: sessionmaker[Session]
    ledger: Ledger
    scorer: Scorer | None
    metrics: Metrics
    dialect: str


async def get_services(request: Request) -> Services:
    """The app's shared services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_db(services: ServicesDep) -> AsyncIterator[Session]:
    """A read-only session for one request.

    Opening a session connects to nothing (its first query does, in the endpoint's worker
    thread), so it is opened here on the event loop; closing it only talks to the database
    when a transaction is still open, and then runs in a worker thread. A synchronous
    generator would cost two extra hops to the thread pool on every request."""
    session = services.reader()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


DbSession = Annotated[Session, Depends(get_db)]


async def get_writer(services: ServicesDep) -> AsyncIterator[Session]:
    """A session for a request that writes (open its transaction with ``begin``); opened and
    closed as :func:`get_db` opens and closes its session."""
    session = services.factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


WriteSession = Annotated[Session, Depends(get_writer)]

_bearer = HTTPBearer(auto_error=False, description="An API token from `loanrecovery users add`.")


def current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user holding the request's bearer token (401 without a valid, live one)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with services.lookup() as session:  # one statement, no transaction to open or end
        user = user_for_token(session, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "token unknown or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: str) -> Callable[..., Any]:
    """A dependency letting through only the roles that hold ``permission`` (403 otherwise)."""
    allowed = PERMISSIONS[permission]

    async def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {user.role!r} may not {permission}"
            )
        return user

    return check
