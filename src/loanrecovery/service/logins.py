"""Web log-in: argon2 password hashes, lock-out after repeated failures, browser sessions
with a CSRF token each, and an audit row for every attempt.

The session cookie holds 32 random bytes; the database holds only their SHA-256 (as for API
tokens). A password is hashed with argon2id (``argon2-cffi``'s defaults), slow on purpose.
After :data:`MAX_FAILURES` wrong passwords in a row the user is locked for
:data:`LOCK_MINUTES` minutes; a correct password during the lock is refused too.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service import audit
from loanrecovery.service.db.models import User, WebSession
from loanrecovery.service.errors import ServiceInputError
from loanrecovery.service.promises import as_utc

__all__ = [
    "MAX_FAILURES",
    "LOCK_MINUTES",
    "SESSION_HOURS",
    "MIN_PASSWORD",
    "LoginResult",
    "set_password",
    "log_in",
    "session_for",
    "end_session",
]

#: Wrong passwords in a row before the lock-out.
MAX_FAILURES = 5
#: How long a lock-out lasts.
LOCK_MINUTES = 15
#: How long a browser session lives.
SESSION_HOURS = 8
#: Shortest password accepted.
MIN_PASSWORD = 10

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so both cases take the same time (hashed
    at the first log-in, not when the module is imported: argon2 is slow on purpose)."""
    return _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class LoginResult:
    """Outcome of :func:`log_in`: the cookie value and the session, or why not."""

    ok: bool
    reason: str = ""
    cookie: str = ""
    session: WebSession | None = None
    user: User | None = None


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def set_password(session: Session, user: User, password: str, *, actor: str) -> None:
    """Store the argon2 hash of ``password`` for ``user`` and clear any lock-out.

    Raises
    ------
    ServiceInputError
        If the password is shorter than :data:`MIN_PASSWORD` characters.
    """
    if len(password) < MIN_PASSWORD:
        raise ServiceInputError(
            f"password for user {user.name!r} has {len(password)} characters; "
            f"at least {MIN_PASSWORD} expected"
        )
    user.password_hash = _HASHER.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="user.password_set", entity="user", entity_id=user.id)


def log_in(
    session: Session, name: str, password: str, *, now: datetime | None = None
) -> LoginResult:
    """Check a user name and password; on success open a session. One audit row per attempt
    (the attempted name is recorded only when it is a known user's)."""
    now = now or datetime.now(UTC)
    user = session.scalar(select(User).where(User.name == name.strip()).with_for_update())
    if user is None or not user.active or user.password_hash is None:
        try:
            _HASHER.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        audit.record(
            session, actor="anonymous", action="login.failed", entity="user",
            entity_id="unknown" if user is None else user.id, after={"reason": "unknown user"},
        )  # fmt: skip
        return LoginResult(False, "wrong user name or password")
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        audit.record(
            session, actor=user.name, action="login.refused", entity="user", entity_id=user.id,
            after={"reason": "locked", "locked_until": as_utc(user.locked_until).isoformat()},
        )  # fmt: skip
        return LoginResult(False, f"too many failed log-ins: locked for {LOCK_MINUTES} minutes")
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        after: dict[str, object] = {"failures": user.failed_logins}
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            after["locked_until"] = user.locked_until.isoformat()
        audit.record(
            session, actor=user.name, action="login.failed", entity="user", entity_id=user.id,
            after=after,
        )  # fmt: skip
        if "locked_until" in after:
            return LoginResult(False, f"too many failed log-ins: locked for {LOCK_MINUTES} minutes")
        return LoginResult(False, "wrong user name or password")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.failed_logins, user.locked_until = 0, None
    cookie = secrets.token_urlsafe(32)
    web = WebSession(
        token_hash=_sha(cookie), user_id=user.id, csrf=secrets.token_urlsafe(32),
        created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS),
    )  # fmt: skip
    session.add(web)
    session.flush()
    audit.record(
        session, actor=user.name, action="login.succeeded", entity="user", entity_id=user.id,
        after={"session_id": web.id},
    )  # fmt: skip
    return LoginResult(True, cookie=cookie, session=web, user=user)


def session_for(
    session: Session, cookie: str, *, now: datetime | None = None
) -> tuple[User, WebSession] | None:
    """The active user and live session of a cookie value, or None."""
    now = now or datetime.now(UTC)
    row = session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == _sha(cookie), WebSession.ended_at.is_(None), User.active)
    ).first()
    if row is None or as_utc(row[1].expires_at) <= now:
        return None
    return row[0], row[1]


def end_session(session: Session, cookie: str, *, actor: str) -> None:
    """Log out: end the cookie's session (audited)."""
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _sha(cookie)))
    if web is not None and web.ended_at is None:
        web.ended_at = datetime.now(UTC)
        audit.record(
            session, actor=actor, action="logout", entity="user", entity_id=web.user_id,
            after={"session_id": web.id},
        )  # fmt: skip
