"""the monthly refresh (issue 12): one row per ``loanrecovery refresh`` run (bundle, as-of,
counts) and one per loan it changed (entered or left the watchlist, recommended action
changed); the current plan item of a loan on a partial index (the queue's join and the
refresh read it for every loan).

Revision ID: 0005_refresh_runs
Revises: 0004_queue_indexes
Create Date: 2026-12-01 07:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_refresh_runs"
down_revision = "0004_queue_indexes"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COUNTS = (
    "months_added",
    "loans_aged",
    "loans_in",
    "loans_scored",
    "loans_rejected",
    "scores_stored",
    "entered_watchlist",
    "left_watchlist",
    "action_changed",
    "alerts_raised",
)


def upgrade() -> None:
    op.create_table(
        "refresh_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("bundle_id", sa.String(length=64), nullable=False),
        sa.Column("previous_bundle_id", sa.String(length=64), nullable=True),
        sa.Column("refitted", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.Integer(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "refresh_changes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("before", sa.String(length=64), nullable=True),
        sa.Column("after", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["refresh_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_refresh_changes_run_id"), "refresh_changes", ["run_id"])
    op.create_index(op.f("ix_refresh_changes_loan_id"), "refresh_changes", ["loan_id"])
    op.create_index(
        "ix_plan_items_current_loan", "plan_items", ["loan_id"],
        sqlite_where=sa.text("current"), postgresql_where=sa.text("current"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_plan_items_current_loan", table_name="plan_items")
    op.drop_index(op.f("ix_refresh_changes_loan_id"), table_name="refresh_changes")
    op.drop_index(op.f("ix_refresh_changes_run_id"), table_name="refresh_changes")
    op.drop_table("refresh_changes")
    op.drop_table("refresh_runs")
