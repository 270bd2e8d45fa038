"""Referrals: when the inviter was paid for a referral who stayed a week and spoke.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral") as t:
        t.add_column(sa.Column("rewarded_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral") as t:
        t.drop_column("rewarded_at")
