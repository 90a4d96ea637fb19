"""Alembic environment: runs online against the engine passed in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from loanrecovery.service.db.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations in one transaction on the configured engine."""
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


# Alembic loads this file under a name of its own and runs it; imported as a module of the
# package (as the layering test does), it only defines its function.
if __name__ != "loanrecovery.service.db.migrations.env":
    run_migrations_online()
