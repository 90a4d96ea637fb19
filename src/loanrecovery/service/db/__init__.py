"""Storage of the service: table models, engines and the Alembic migrations."""

from loanrecovery.service.db.engine import (
    autovacuum_off,
    is_sqlite,
    make_engine,
    make_lookup_sessionmaker,
    make_read_sessionmaker,
    make_sessionmaker,
    redact,
    transaction,
)
from loanrecovery.service.db.migrate import current_revision, upgrade

__all__ = [
    "current_revision",
    "is_sqlite",
    "make_engine",
    "autovacuum_off",
    "make_lookup_sessionmaker",
    "make_read_sessionmaker",
    "make_sessionmaker",
    "redact",
    "transaction",
    "upgrade",
]
