"""SQLite's partial indexes on a boolean (open cases, current plan items) say ``= 1``.

SQLAlchemy writes a boolean filter as ``cases.is_open = 1`` on SQLite (no native boolean),
and SQLite uses a partial index only when the query's WHERE holds the index's WHERE term as
written: with ``WHERE is_open`` the queue's index (``ix_cases_open_assigned_to_priority``)
was never used, and ``GET /queue`` on the 1,000,000-loan database read and sorted all of a
collector's 66,546 open cases per request (p50 884 ms). Recreated here with ``is_open = 1``
and ``"current" = 1``; PostgreSQL, where the filter is written ``cases.is_open``, keeps its
indexes (nothing is done there).

Revision ID: 0006_sqlite_partial_indexes
Revises: 0005_refresh_runs
Create Date: 2026-12-01 11:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sqlite_partial_indexes"
down_revision = "0005_refresh_runs"
branch_labels = None
depends_on = None

#: (name, table, columns, unique, the WHERE column as the models write it) of each partial
#: index on a boolean.
_INDEXES = (
    ("uq_one_open_case_per_loan", "cases", ("loan_id",), True, "is_open"),
    ("ix_cases_open_priority", "cases", ("priority DESC", "id"), False, "is_open"),
    *(
        (f"ix_cases_open_{c}_priority", "cases", (c, "priority DESC", "id"), False, "is_open")
        for c in ("assigned_to", "action", "segment")
    ),
    ("ix_plan_items_current_loan", "plan_items", ("loan_id",), False, '"current"'),
)


def _recreate(where: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table, columns, unique, column in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(
            name, table, [sa.text(c) if " " in c else c for c in columns], unique=unique,
            sqlite_where=sa.text(where.format(column=column)),
        )  # fmt: skip


def upgrade() -> None:
    _recreate("{column} = 1")


def downgrade() -> None:
    _recreate("{column}")
