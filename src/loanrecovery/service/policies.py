"""The strategy policy kept in the database: versioned TOML text, validated before it is
saved (the ladder's own checks and the action catalogue's), every save audited.

The newest version is the policy in force for the pages and the API; without any saved
version the built-in ``data/policy.toml`` is shown. A bundle keeps applying the policy it
was fitted with until it is refitted.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanrecovery._toml_lines import builtin_text
from loanrecovery.recovery.catalogue import load_catalogue
from loanrecovery.recovery.policy import validate_policy
from loanrecovery.service import audit
from loanrecovery.service.db.models import PolicyVersion
from loanrecovery.strategy import DEFAULT_POLICY, parse_policy

__all__ = ["current_policy", "save_policy", "check_policy_text", "MAX_POLICY_CHARS"]

MAX_POLICY_CHARS = 100_000


def current_policy(session: Session) -> tuple[int, str]:
    """The version in force and its text (version 0: the built-in policy)."""
    row = session.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    if row is None:
        text, _ = builtin_text(("loanrecovery.data", DEFAULT_POLICY))
        return 0, text
    return row.version, row.text


def check_policy_text(text: str, source: str = "policy (edited)") -> None:
    """Parse and validate a policy's text.

    Raises
    ------
    PolicyError
        Invalid TOML, an unknown key or action, overlapping or gapped thresholds; the message
        names the line.
    """
    validate_policy(parse_policy(text, source), load_catalogue())


def save_policy(session: Session, text: str, *, actor: str) -> PolicyVersion:
    """Validate ``text`` and save it as the next version, audited (before/after versions and
    the text's SHA-256).

    Raises
    ------
    PolicyError
        When the text is invalid (nothing is saved).
    """
    version = int(session.scalar(select(func.max(PolicyVersion.version))) or 0) + 1
    check_policy_text(text, f"policy version {version}")
    row = PolicyVersion(version=version, text=text, created_by=actor, created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="policy.saved", entity="policy", entity_id=version,
        before={"version": version - 1},
        after={"version": version, "sha256": hashlib.sha256(text.encode()).hexdigest(),
               "characters": len(text)},
    )  # fmt: skip
    return row
