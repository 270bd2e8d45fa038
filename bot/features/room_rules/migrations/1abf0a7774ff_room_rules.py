"""群规: a room's rules text.

Revision ID: 1abf0a7774ff
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1abf0a7774ff"
down_revision = '0011'
branch_labels = ('room_rules',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roomrules",
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room"),
    )


def downgrade() -> None:
    op.drop_table("roomrules")
