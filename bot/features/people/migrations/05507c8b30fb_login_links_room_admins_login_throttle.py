"""The people feature's tables: one-time login links, per-room admins, the shared login throttle.

Revision ID: 05507c8b30fb
Revises: 288d5b1b375f
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "05507c8b30fb"
down_revision = '288d5b1b375f'
branch_labels = ('people',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loginlink",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("next_path", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_loginlink_member", "loginlink", ["member"])
    op.create_table(
        "roomadmin",
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room", "member"),
    )
    op.create_table(
        "loginthrottle",
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("until", sa.BigInteger(), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("run_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("client"),
    )


def downgrade() -> None:
    op.drop_table("loginthrottle")
    op.drop_table("roomadmin")
    op.drop_index("ix_loginlink_member", table_name="loginlink")
    op.drop_table("loginlink")
