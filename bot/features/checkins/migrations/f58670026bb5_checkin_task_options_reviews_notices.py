"""Check-in task options (media, public_missing, remind_missing, excellent_points, roundup),
reviews (点评 / 优秀) and the reminders and roundups sent.

Revision ID: f58670026bb5
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f58670026bb5"
down_revision = "0011"
branch_labels = ('checkins',)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkintask") as batch:
        batch.add_column(sa.Column("media", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("public_missing", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("remind_missing", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("excellent_points", sa.Integer(), nullable=False, server_default="20"))
        batch.add_column(sa.Column("roundup", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "checkinreview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("excellent", sa.Boolean(), nullable=False),
        sa.Column("text", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_checkinreview_task", "checkinreview", ["task_id", "day"])
    op.create_table(
        "checkinnotice",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "room", "day", "kind"),
    )


def downgrade() -> None:
    op.drop_table("checkinnotice")
    op.drop_index("ix_checkinreview_task", table_name="checkinreview")
    op.drop_table("checkinreview")
    with op.batch_alter_table("checkintask") as batch:
        for name in ("roundup", "excellent_points", "remind_missing", "public_missing", "media"):
            batch.drop_column(name)
