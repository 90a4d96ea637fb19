"""web log-in: passwords and lock-out on users, browser sessions, policy versions,
arrangements (plans, settlements, hardship reviews)

Revision ID: 0002_web_login
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_web_login"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", _TS, nullable=True))
    op.create_index(
        "ix_cases_open_priority", "cases", [sa.text("priority DESC"), "id"],
        sqlite_where=sa.text("is_open"), postgresql_where=sa.text("is_open"),
    )  # fmt: skip
    op.create_table(
        "web_sessions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "policy_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_table(
        "arrangements",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("instalments", sa.Integer(), nullable=True),
        sa.Column("discount", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("decided_by", _ID, nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_arrangements_case_id"), "arrangements", ["case_id"], unique=False)
    op.create_index(op.f("ix_arrangements_loan_id"), "arrangements", ["loan_id"], unique=False)
    op.create_index(op.f("ix_arrangements_status"), "arrangements", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_arrangements_status"), table_name="arrangements")
    op.drop_index(op.f("ix_arrangements_loan_id"), table_name="arrangements")
    op.drop_index(op.f("ix_arrangements_case_id"), table_name="arrangements")
    op.drop_table("arrangements")
    op.drop_table("policy_versions")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_cases_open_priority", table_name="cases")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("password_hash")
