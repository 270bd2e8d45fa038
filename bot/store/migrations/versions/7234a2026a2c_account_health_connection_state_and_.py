"""Account health: each run's connection state and heartbeat on its bot account (read by
/healthz and `qunguan status`).

Revision ID: 7234a2026a2c
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7234a2026a2c"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("botaccount") as batch:
        batch.add_column(sa.Column("connected", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("state_at", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("alive_at", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("event_at", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("leading", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("botaccount") as batch:
        for column in ("leading", "event_at", "alive_at", "state_at", "connected"):
            batch.drop_column(column)
