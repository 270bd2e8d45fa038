"""guard rooms exemptions ad words strikes blocklist

Revision ID: 65ea90c55e05
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "65ea90c55e05"
down_revision = "0011"
branch_labels = ("guard",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guardroom",
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=True),
        sa.Column("changed_at", sa.BigInteger(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("admins", sa.String(), nullable=False),
        sa.Column("roles_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("room"),
    )
    op.create_table(
        "guardexempt",
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room", "member"),
    )
    op.create_table(
        "guardpattern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=100), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pattern"),
    )
    op.create_table(
        "guardstrike",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_guardstrike_member_at", "guardstrike", ["member", "at"])
    op.create_table(
        "guardblock",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("member"),
    )


def downgrade() -> None:
    op.drop_table("guardblock")
    op.drop_table("guardstrike")
    op.drop_table("guardpattern")
    op.drop_table("guardexempt")
    op.drop_table("guardroom")
