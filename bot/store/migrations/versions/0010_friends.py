"""Private accounts: friendships (requests, acceptance, channel, welcome, invitations) and
account actions in the outbox (accepting a friend, adding a friend to a group).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as t:
        t.add_column(sa.Column("action", sa.String(length=20), nullable=True))
    op.create_table(
        "friendship",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.Column("hello", sa.String(), nullable=True),
        sa.Column("requested_at", sa.BigInteger(), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("accepted_by", sa.String(length=200), nullable=True),
        sa.Column("accepted_at", sa.BigInteger(), nullable=True),
        sa.Column("removed_at", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("pre_existing", sa.Boolean(), nullable=False),
        sa.Column("welcomed_at", sa.BigInteger(), nullable=True),
        sa.Column("invite_room", sa.String(length=200), nullable=True),
        sa.Column("invited_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("member"),
    )
    op.create_index("ix_friendship_n", "friendship", ["n"])


def downgrade() -> None:
    op.drop_index("ix_friendship_n", table_name="friendship")
    op.drop_table("friendship")
    with op.batch_alter_table("outbox") as t:
        t.drop_column("action")
