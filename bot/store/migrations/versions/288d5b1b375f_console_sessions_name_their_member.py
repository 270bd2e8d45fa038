"""Console sessions name their member (each person logs in as themselves).

Revision ID: 288d5b1b375f
Revises: 7234a2026a2c
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "288d5b1b375f"
down_revision = '7234a2026a2c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A session of 0.2.0 (the shared password) names nobody: the console treats it as logged out.
    with op.batch_alter_table("websession") as batch:
        batch.add_column(sa.Column("member", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("websession") as batch:
        batch.drop_column("member")
