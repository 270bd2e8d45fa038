"""Outreach (群发 campaigns and messages, 退订), check-in reminders, rank opt-out, deletion
requests.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outreachcampaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("selection", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("selected", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "outreachmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("send_at", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outreach_member_at", "outreachmessage", ["member", "send_at"])
    op.create_index("ix_outreach_account_day", "outreachmessage", ["account", "day"])
    op.create_table(
        "outreachoptout",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member"),
    )
    op.create_table(
        "remindertask",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_table(
        "checkinreminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("broke_on", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member", "task_id", "broke_on", "n"),
    )
    op.create_table(
        "rankoptout",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member"),
    )
    op.create_table(
        "deletionrequest",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("asked_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member"),
    )


def downgrade() -> None:
    for table in ("deletionrequest", "rankoptout", "checkinreminder", "remindertask", "outreachoptout"):
        op.drop_table(table)
    op.drop_index("ix_outreach_account_day", "outreachmessage")
    op.drop_index("ix_outreach_member_at", "outreachmessage")
    op.drop_table("outreachmessage")
    op.drop_table("outreachcampaign")
