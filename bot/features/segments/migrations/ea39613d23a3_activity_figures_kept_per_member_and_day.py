"""activity figures kept per member and day

Revision ID: ea39613d23a3
Revises: 288d5b1b375f
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ea39613d23a3"
down_revision = '288d5b1b375f'
branch_labels = ('segments',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activityfigures",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shape", sa.BigInteger(), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("last_counting", sa.Date(), nullable=True),
        sa.Column("last_any", sa.Date(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("recent", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=False),
        sa.Column("before", sa.Integer(), nullable=False),
        sa.Column("login_days", sa.Integer(), nullable=False),
        sa.Column("speaking", sa.Integer(), nullable=False),
        sa.Column("churn_recent", sa.Integer(), nullable=False),
        sa.Column("churn_before", sa.Integer(), nullable=False),
        sa.Column("last_spoke", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("day", "shape", "member"),
    )


def downgrade() -> None:
    op.drop_table("activityfigures")
