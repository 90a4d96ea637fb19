"""Message templates: Jinja2, versioned, per channel and language (``templates.toml``).

The catalogue is stored in ``comm_templates`` by :func:`sync_templates`; a message is
rendered from the newest version for its channel and the borrower's language (English when
there is none) and records the name and version used. E-mails and texts always end with the
profile's opt-out footer (12 CFR 1006.6(e)).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.comms.errors import CommsInputError
from loanrecovery.comms.policy import Profile
from loanrecovery.service.db.models import CommTemplate

__all__ = ["Rendered", "catalogue", "sync_templates", "render", "DEFAULT_LANGUAGE"]

DEFAULT_LANGUAGE = "en"
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class Rendered:
    """A rendered message and the template it came from."""

    template: str
    version: int
    language: str
    subject: str
    body: str


def catalogue() -> list[dict[str, Any]]:
    """The shipped templates, one entry per (name, version, language) with its channels.

    Raises
    ------
    CommsInputError
        If an entry lacks a key or its text is not valid Jinja2 (naming the entry).
    """
    text = (resources.files("loanrecovery.comms") / "templates.toml").read_text("utf-8")
    entries = tomllib.loads(text).get("template", [])
    for i, entry in enumerate(entries):
        for key in ("name", "version", "language", "channels", "body"):
            if key not in entry:
                raise CommsInputError(f"templates.toml: template {i + 1} has no {key!r}")
        try:
            _ENV.parse(entry["body"])
            _ENV.parse(entry.get("subject", ""))
        except TemplateError as exc:
            raise CommsInputError(
                f"templates.toml: template {entry['name']!r} v{entry['version']} "
                f"({entry['language']}): {exc}"
            ) from exc
    return entries


def sync_templates(session: Session) -> int:
    """Store the catalogue's templates that are not stored yet; returns how many were added
    (a stored version is never changed: new wording needs a new version)."""
    have = {
        tuple(row)
        for row in session.execute(
            select(CommTemplate.name, CommTemplate.version, CommTemplate.channel,
                   CommTemplate.language)
        )
    }  # fmt: skip
    added = 0
    now = datetime.now(UTC)
    for entry in catalogue():
        for channel in entry["channels"]:
            key = (entry["name"], int(entry["version"]), channel, entry["language"])
            if key in have:
                continue
            session.add(
                CommTemplate(
                    name=key[0],
                    version=key[1],
                    channel=channel,
                    language=key[3],
                    subject=entry.get("subject", ""),
                    body=entry["body"],
                    created_at=now,
                )  # fmt: skip
            )
            added += 1
    session.flush()
    return added


def _newest(session: Session, name: str, channel: str, language: str) -> CommTemplate | None:
    return session.scalar(
        select(CommTemplate)
        .where(
            CommTemplate.name == name,
            CommTemplate.channel == channel,
            CommTemplate.language == language,
        )
        .order_by(CommTemplate.version.desc())
        .limit(1)
    )


def render(
    session: Session,
    profile: Profile,
    *,
    name: str,
    channel: str,
    language: str | None,
    context: dict[str, Any],
) -> Rendered:
    """Render the newest template ``name`` for ``channel`` in ``language`` (else English),
    with the profile's opt-out footer on e-mails and texts.

    Raises
    ------
    CommsInputError
        If no such template is stored or a variable is missing.
    """
    wanted = language or DEFAULT_LANGUAGE
    row = _newest(session, name, channel, wanted)
    if row is None and wanted != DEFAULT_LANGUAGE:
        row = _newest(session, name, channel, DEFAULT_LANGUAGE)
    if row is None:
        raise CommsInputError(f"no template {name!r} for channel {channel!r} (language {wanted})")
    try:
        subject = _ENV.from_string(row.subject).render(**context)
        body = _ENV.from_string(row.body).render(**context)
    except TemplateError as exc:
        raise CommsInputError(f"template {name!r} v{row.version}: {exc}") from exc
    footer = profile.footer.get(channel)
    if footer:
        body = f"{body}\n{footer}"
    return Rendered(row.name, row.version, row.language, subject, body)
