"""faq entries cooldowns unanswered dm questions

Revision ID: 1a87138999eb
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1a87138999eb"
down_revision = "0011"
branch_labels = ("faq",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faqentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("keywords", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "faqsent",
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entry", "place"),
    )
    op.create_table(
        "dmquestion",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_dmquestion_member", "dmquestion", ["member"])


def downgrade() -> None:
    op.drop_table("dmquestion")
    op.drop_table("faqsent")
    op.drop_table("faqentry")
