"""API tokens and roles.

A token is 32 random bytes shown once; the database holds only its SHA-256 hash (a slow
hash adds nothing for a random 256-bit secret). Roles:

- ``admin``: manages users and tokens, and can do what a manager can;
- ``manager``: sees everything, posts payments, assigns cases, works any case;
- ``collector``: sees and changes only the cases assigned to them;
- ``auditor``: reads the audit log, the alerts and loans, and changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from loanrecovery.service.db.models import ApiToken, User
from loanrecovery.service.errors import ServiceInputError

__all__ = [
    "ROLES",
    "PERMISSIONS",
    "hash_token",
    "new_token",
    "create_user",
    "issue_token",
    "revoke_tokens",
    "user_for_token",
]

ROLES = ("admin", "manager", "collector", "auditor")

#: Which roles may do what. Collectors' access is further limited to their own cases by the
#: routers; the role-matrix test reads this table.
PERMISSIONS: dict[str, frozenset[str]] = {
    "payments.write": frozenset({"admin", "manager"}),
    "payments.read": frozenset({"admin", "manager", "auditor"}),
    "loans.read": frozenset({"admin", "manager", "auditor", "collector"}),
    "watchlist.read": frozenset({"admin", "manager", "auditor"}),
    "queue.read": frozenset({"manager", "collector"}),
    "cases.work": frozenset({"manager", "collector"}),
    "cases.assign": frozenset({"admin", "manager"}),
    "alerts.read": frozenset({"admin", "manager", "auditor"}),
    "audit.read": frozenset({"admin", "manager", "auditor"}),
    "users.manage": frozenset({"admin"}),
    "metrics.read": frozenset({"admin", "manager"}),
    "sweep.run": frozenset({"admin", "manager"}),
    # the web pages and the endpoints behind them (issue 13)
    "console.read": frozenset({"admin", "manager"}),
    "arrangements.propose": frozenset({"manager", "collector"}),
    "arrangements.read": frozenset({"admin", "manager", "auditor"}),
    "settlements.decide": frozenset({"admin", "manager"}),
    "policy.read": frozenset({"admin", "manager", "auditor"}),
    "policy.write": frozenset({"admin", "manager"}),
    "comms.read": frozenset({"admin", "manager", "auditor", "collector"}),
    "comms.write": frozenset({"admin", "manager", "collector"}),
    "comms.summary": frozenset({"admin", "manager", "auditor"}),
    # a held message (in doubt after a crash) is decided by a person: arrived, resend, cancel
    "comms.release": frozenset({"admin", "manager"}),
}
_PREFIX = "lr_"


def hash_token(token: str) -> str:
    """SHA-256 hex of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token."""
    return _PREFIX + secrets.token_urlsafe(32)


def create_user(session: Session, name: str, role: str, *, capacity: int | None = None) -> User:
    """Add a user (no token yet).

    Raises
    ------
    ServiceInputError
        If the role is unknown, the name empty or already taken.
    """
    name = name.strip()
    if role not in ROLES:
        raise ServiceInputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not name:
        raise ServiceInputError("user name is empty")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ServiceInputError(f"user {name!r} already exists")
    user = User(name=name, role=role, capacity=capacity, active=True, created_at=_now())
    session.add(user)
    session.flush()
    return user


def issue_token(session: Session, user: User) -> str:
    """Store a new token's hash for ``user`` and return the token (shown once)."""
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=_now()))
    session.flush()
    return token


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every live token of ``user``; returns how many."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = _now()
    for tok in tokens:
        tok.revoked_at = now
    session.flush()
    return len(tokens)


#: Built once: every API request runs it.
_USER_FOR_HASH = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.active.is_(True),
    )
)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user holding a live ``token``, or None."""
    return session.execute(_USER_FOR_HASH, {"token_hash": hash_token(token)}).scalar_one_or_none()


def _now() -> datetime:
    return datetime.now(UTC)
