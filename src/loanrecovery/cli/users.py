"""``loanrecovery users add|revoke|set-password``: the service's users, their API tokens and
their web log-in passwords."""

from __future__ import annotations

import sys

import typer
from sqlalchemy import select

from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli._service_options import DB_OPTION, settings_for
from loanrecovery.service import audit
from loanrecovery.service.auth import create_user, issue_token, revoke_tokens
from loanrecovery.service.cases import assign_open_cases
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction
from loanrecovery.service.db.models import User
from loanrecovery.service.errors import ServiceInputError
from loanrecovery.service.logins import set_password

users_app = typer.Typer(help="Users of the service and their API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
@handle_errors
def add(
    name: str = typer.Argument(..., help="User name (no personal data needed)."),
    role: str = typer.Option(..., "--role", help="admin, manager, collector or auditor."),
    capacity: int | None = typer.Option(
        None, "--capacity", min=0, help="Open cases this collector can hold."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read a web log-in password from the first line of stdin."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Add a user and print a new API token, once, as the last line (only its hash is kept)."""

    password = _read_password() if password_stdin else None
    settings = settings_for(db)
    engine = make_engine(settings.db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            user = create_user(session, name, role, capacity=capacity)
            token = issue_token(session, user)
            audit.record(
                session, actor=audit.SYSTEM, action="user.added", entity="user",
                entity_id=user.id, after={"name": user.name, "role": role, "capacity": capacity},
            )  # fmt: skip
            user_id = user.id
            if password is not None:
                set_password(session, user, password, actor=audit.SYSTEM)
            if role == "collector":
                assign_open_cases(session, capacity=settings.collector_capacity, actor=audit.SYSTEM)
    finally:
        engine.dispose()
    console.print(f"user {name!r} (id {user_id}, {role}) added; its token (shown only now):")
    typer.echo(token)


@users_app.command("revoke")
@handle_errors
def revoke(
    name: str = typer.Argument(..., help="User name."),
    db: str | None = DB_OPTION,
) -> None:
    """Revoke every API token of a user."""

    engine = make_engine(settings_for(db).db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                raise ServiceInputError(f"no user named {name!r}")
            count = revoke_tokens(session, user)
            audit.record(
                session, actor=audit.SYSTEM, action="user.tokens_revoked", entity="user",
                entity_id=user.id, after={"revoked": count},
            )  # fmt: skip
    finally:
        engine.dispose()
    console.print(f"{count} token(s) of {name!r} revoked")


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@users_app.command("set-password")
@handle_errors
def set_password_command(
    name: str = typer.Argument(..., help="User name."),
    password_stdin: bool = typer.Option(
        True, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Set a user's web log-in password (argon2 hash stored) and lift any lock-out."""

    password = _read_password()
    engine = make_engine(settings_for(db).db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                raise ServiceInputError(f"no user named {name!r}")
            set_password(session, user, password, actor=audit.SYSTEM)
    finally:
        engine.dispose()
    console.print(f"password of {name!r} set")
