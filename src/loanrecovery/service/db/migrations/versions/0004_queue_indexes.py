"""queue speed (issue 13): the current action and segment copied onto the open case (and
its champion/challenger arm), indexes
for one collector's queue and each filter in priority order, promises by status, loans by
borrower, and the borrower name keys searched by prefix. Existing rows are filled in.

Revision ID: 0004_queue_indexes
Revises: 0003_communications
Create Date: 2026-12-01 04:10:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_queue_indexes"
down_revision = "0003_communications"
branch_labels = None
depends_on = None

_FILTERS = ("assigned_to", "action", "segment")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("action", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("segment", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("arm", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE cases SET action = (SELECT p.action FROM plan_items p WHERE p.loan_id = "
        "cases.loan_id AND p.current ORDER BY p.id DESC LIMIT 1), segment = (SELECT s.segment "
        "FROM scores s WHERE s.loan_id = cases.loan_id ORDER BY s.id DESC LIMIT 1) WHERE is_open"
    )
    for column in _FILTERS:
        op.create_index(
            f"ix_cases_open_{column}_priority", "cases", [column, sa.text("priority DESC"), "id"],
            sqlite_where=sa.text("is_open"), postgresql_where=sa.text("is_open"),
        )  # fmt: skip
    op.create_index("ix_promises_status_case", "promises", ["status", "case_id"])
    op.create_index(op.f("ix_loans_borrower_id"), "loans", ["borrower_id"], unique=False)
    op.create_table(
        "borrower_names",
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.borrower_id"]),
        sa.PrimaryKeyConstraint("borrower_id", "key"),
    )
    op.create_index(
        "ix_borrower_names_key", "borrower_names", ["key"],
        postgresql_ops={"key": "text_pattern_ops"},
    )  # fmt: skip
    _fill_names()


def _keys(personal: dict[str, Any] | None) -> list[str]:
    """``models.name_keys`` as of this revision (a migration keeps its own copy)."""
    words = str((personal or {}).get("name") or "").lower().split()
    return sorted({" ".join(words[i:])[:200] for i in range(len(words))})


def _fill_names() -> None:
    bind = op.get_bind()
    borrowers = sa.table(
        "borrowers", sa.column("borrower_id", sa.String()), sa.column("personal", sa.JSON())
    )
    names = sa.table("borrower_names", sa.column("borrower_id"), sa.column("key"))
    rows = [
        {"borrower_id": bid, "key": key}
        for bid, personal in bind.execute(sa.select(borrowers.c.borrower_id, borrowers.c.personal))
        for key in _keys(personal)
    ]
    if rows:
        bind.execute(sa.insert(names), rows)


def downgrade() -> None:
    op.drop_index("ix_borrower_names_key", table_name="borrower_names")
    op.drop_table("borrower_names")
    op.drop_index(op.f("ix_loans_borrower_id"), table_name="loans")
    op.drop_index("ix_promises_status_case", table_name="promises")
    for column in reversed(_FILTERS):
        op.drop_index(f"ix_cases_open_{column}_priority", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("arm")
        batch.drop_column("segment")
        batch.drop_column("action")
