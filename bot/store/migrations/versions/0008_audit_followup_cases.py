"""Audit log; follow-up cases (age, snooze, reassign, escalation), operators' daily caps and
member notes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=10), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auditentry_at", "auditentry", ["at"])
    op.create_index("ix_auditentry_actor", "auditentry", ["actor"])
    op.create_table(
        "followupcase",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("opened", sa.Date(), nullable=False),
        sa.Column("last_listed", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("escalated_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("member", "kind"),
    )
    with op.batch_alter_table("followupitem") as t:
        t.add_column(sa.Column("age", sa.Integer(), nullable=False, server_default="1"))
        t.add_column(sa.Column("escalated_from", sa.String(length=200), nullable=True))
    op.create_table(
        "operatorcap",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("member"),
    )
    op.create_table(
        "membernote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_membernote_member", "membernote", ["member"])


def downgrade() -> None:
    op.drop_index("ix_membernote_member", "membernote")
    op.drop_table("membernote")
    op.drop_table("operatorcap")
    with op.batch_alter_table("followupitem") as t:
        t.drop_column("escalated_from")
        t.drop_column("age")
    op.drop_table("followupcase")
    op.drop_index("ix_auditentry_actor", "auditentry")
    op.drop_index("ix_auditentry_at", "auditentry")
    op.drop_table("auditentry")
