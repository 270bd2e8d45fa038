"""type split values per scope and day

Revision ID: a6002d38d569
Revises: 288d5b1b375f
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a6002d38d569"
down_revision = '288d5b1b375f'
branch_labels = ('member_types',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "typesplit",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("login_days", sa.Float(), nullable=False),
        sa.Column("speaking", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "window_days", "day"),
    )


def downgrade() -> None:
    op.drop_table("typesplit")
