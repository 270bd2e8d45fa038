"""Orders, referrals, grade pins, lifecycle transitions, the points shop and its redemptions;
the member snapshot remembers the lifecycle stage.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("membersnapshot", sa.Column("stage", sa.String(length=20), nullable=True))
    op.create_table(
        "purchase",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=True),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("refund_of", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_purchase_member_day", "purchase", ["member", "day"])
    op.create_index("ix_purchase_day", "purchase", ["day"])
    op.create_index("ix_purchase_refund_of", "purchase", ["refund_of"])
    op.create_table(
        "referral",
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("inviter", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room", "member"),
    )
    op.create_index("ix_referral_inviter", "referral", ["inviter"])
    op.create_table(
        "gradepin",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member"),
    )
    op.create_table(
        "stagechange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("before", sa.String(length=20), nullable=True),
        sa.Column("after", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stagechange_at", "stagechange", ["at"])
    op.create_table(
        "shopitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "redemption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=30), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_at", sa.BigInteger(), nullable=True),
        sa.Column("done_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redemption_member", "redemption", ["member"])
    op.create_index("ix_redemption_status", "redemption", ["status"])


def downgrade() -> None:
    for table in ("redemption", "shopitem", "stagechange", "gradepin", "referral", "purchase"):
        op.drop_table(table)
    op.drop_column("membersnapshot", "stage")
