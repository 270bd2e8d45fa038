"""Several bot accounts on one store: the account that received each event, the account that
sends each outbox row, which account reaches which member where, and the accounts themselves.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eventlog") as t:
        t.add_column(sa.Column("account", sa.String(length=200), nullable=True))
    with op.batch_alter_table("outbox") as t:
        # Rows queued before the upgrade go out through whichever process takes them.
        t.add_column(sa.Column("account", sa.String(length=200), nullable=True))
    op.create_table(
        "accountreach",
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "member", "room"),
    )
    op.create_index("ix_accountreach_member", "accountreach", ["member"])
    op.create_index("ix_accountreach_room", "accountreach", ["room"])
    op.create_table(
        "botaccount",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("botaccount")
    op.drop_index("ix_accountreach_room", table_name="accountreach")
    op.drop_index("ix_accountreach_member", table_name="accountreach")
    op.drop_table("accountreach")
    with op.batch_alter_table("outbox") as t:
        t.drop_column("account")
    with op.batch_alter_table("eventlog") as t:
        t.drop_column("account")
