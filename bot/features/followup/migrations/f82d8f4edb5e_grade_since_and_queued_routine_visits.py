"""grade since and queued routine visits: since when a member is in the grade the last scheduled
list saw (their routine visit is due one cadence after it), and how many routine visits a list
left waiting for room.

Existing snapshots get no grade: the next scheduled list records each member's grade as held
since the bot first saw them (what the lists assumed before, minus the "never followed up means
due today"), and a grade that changes after that counts from the list that saw it change.

Revision ID: f82d8f4edb5e
Revises: 288d5b1b375f
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f82d8f4edb5e"
down_revision = '288d5b1b375f'
branch_labels = ('followup',)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membersnapshot") as batch:
        batch.add_column(sa.Column("grade", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("grade_since", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("followuplist") as batch:
        batch.add_column(sa.Column("queued", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("followuplist") as batch:
        batch.drop_column("queued")
    with op.batch_alter_table("membersnapshot") as batch:
        batch.drop_column("grade_since")
        batch.drop_column("grade")
