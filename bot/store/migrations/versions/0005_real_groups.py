"""Real groups: rosters (room roster time, group aliases, members there before the bot),
welcomes, check-in notes and reply modes, daily check-in summaries, reply priority.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("room") as t:
        t.add_column(sa.Column("roster_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("membership") as t:
        t.add_column(sa.Column("room_alias", sa.String(), nullable=True))
        t.add_column(sa.Column("pre_existing", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("checkin") as t:
        t.add_column(sa.Column("note", sa.String(), nullable=True))
        t.add_column(sa.Column("quiet", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_checkin_task_day", "checkin", ["task_id", "day", "room"])
    with op.batch_alter_table("checkintask") as t:
        t.add_column(sa.Column("min_note", sa.Integer(), nullable=True))
        t.add_column(sa.Column("reply", sa.String(length=10), nullable=False, server_default="auto"))
    with op.batch_alter_table("outbox") as t:
        # Rows queued before the upgrade have no way to tell; they go out as bulk.
        t.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
    op.create_index("ix_outbox_room_created", "outbox", ["room", "created_at"])
    op.create_table(
        "checkinreply",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("reply", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "room"),
    )
    op.create_table(
        "checkinsummary",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "room", "day"),
    )
    op.create_table(
        "roomwelcome",
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("last_sent_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("room"),
    )
    op.create_table(
        "pendingwelcome",
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("joined_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room", "member"),
    )


def downgrade() -> None:
    for table in ("pendingwelcome", "roomwelcome", "checkinsummary", "checkinreply"):
        op.drop_table(table)
    op.drop_index("ix_outbox_room_created", "outbox")
    with op.batch_alter_table("outbox") as t:
        t.drop_column("priority")
    with op.batch_alter_table("checkintask") as t:
        t.drop_column("reply")
        t.drop_column("min_note")
    op.drop_index("ix_checkin_task_day", "checkin")
    with op.batch_alter_table("checkin") as t:
        t.drop_column("quiet")
        t.drop_column("note")
    with op.batch_alter_table("membership") as t:
        t.drop_column("pre_existing")
        t.drop_column("room_alias")
    with op.batch_alter_table("room") as t:
        t.drop_column("roster_at")
