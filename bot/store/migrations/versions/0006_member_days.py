"""Member days: the daily counters summed over rooms, per member and day, so the
community-wide reads (RFM, stages, grades, types, the follow-up list) need no DISTINCT
and no sort. Filled from the existing counters.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memberday",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("checkins", sa.Integer(), nullable=False),
        sa.Column("commands", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("member", "day"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO memberday (member, day, messages, counted, checkins, commands, visits)"
        " SELECT member, day, sum(messages), sum(counted), sum(checkins), sum(commands), sum(visits)"
        " FROM dailyactivity GROUP BY member, day"
    )


def downgrade() -> None:
    op.drop_table("memberday")
