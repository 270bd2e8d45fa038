"""synonym words: the words managers add to synonym sets (/synonym add 价格 学费)

Revision ID: 5635743aed3a
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5635743aed3a"
down_revision = '0011'
branch_labels = ('tags',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "synonymword",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concept", sa.String(length=50), nullable=False),
        sa.Column("word", sa.String(length=50), nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("word"),
    )


def downgrade() -> None:
    op.drop_table("synonymword")
