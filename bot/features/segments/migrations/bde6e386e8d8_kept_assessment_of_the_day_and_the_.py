"""kept assessment of the day and the members changed since

Revision ID: bde6e386e8d8
Revises: ea39613d23a3
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bde6e386e8d8"
down_revision = 'ea39613d23a3'
branch_labels = None
depends_on = None


# (table, the column naming the member whose assessment a write changes, the columns an update must set
# to change it): orders and refunds, tags (given, removed, since or expiry moved: not a count rule's
# count), referrals (the inviter's count), grade pins. Rarely written tables only: never the counters,
# the event log, the points ledger or the member table, which every message writes. An update marks the
# member the row is of after it: a row moves from one member to another only when the first is gone
# (merged into their wxid, or erased: whose id must then be nowhere).
WATCHED = (
    ("purchase", "member", ("member", "day", "amount_fen", "refund_of")),
    ("membertag", "member", ("member", "tag", "since", "expires_at")),
    ("referral", "inviter", ("inviter", "member")),
    ("gradepin", "member", ("member", "grade", "reason")),
)
# The kept rows themselves: the job only inserts and deletes them; a merge moves a member's row onto
# another's (or combines the two), which must not pass for that member's kept inputs.
KEPT = ("keptassessment", "member", ())


def upgrade() -> None:
    op.create_table(
        "keptassessment",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shape", sa.BigInteger(), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.Column("first_at", sa.BigInteger(), nullable=True),
        sa.Column("groups", sa.Integer(), nullable=True),
        sa.Column("before_bot", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("result", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "shape", "member"),
    )
    op.create_table(
        "keptresult",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shape", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("grade", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("day", "shape", "id"),
    )
    op.create_table(
        "assessmentchange",
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("member"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column, columns in (*WATCHED, KEPT):
        changes = "UPDATE" + (f" OF {', '.join(columns)}" if columns else "")
        if postgres:
            op.execute(f"""
                CREATE FUNCTION assessment_change_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO assessmentchange (member)
                    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.{column} ELSE NEW.{column} END)
                    ON CONFLICT DO NOTHING;
                    RETURN NULL;
                END $$""")
            events = changes if not columns else f"INSERT OR DELETE OR {changes}"
            op.execute(f"CREATE TRIGGER assessment_change_{table} AFTER {events} ON {table} FOR EACH ROW "
                       f"EXECUTE FUNCTION assessment_change_{table}()")
        else:
            marks: tuple[tuple[str, str], ...] = ((changes, "NEW"),)
            if columns:
                marks += (("INSERT", "NEW"), ("DELETE", "OLD"))
            for event, row in marks:
                # no OR IGNORE: the statement that fires the trigger (an upsert) would impose its own policy
                op.execute(f"CREATE TRIGGER assessment_change_{table}_{event.split()[0].lower()} AFTER {event} "
                           f"ON {table} FOR EACH ROW BEGIN INSERT INTO assessmentchange (member) SELECT {row}.{column} "
                           f"WHERE NOT EXISTS (SELECT 1 FROM assessmentchange WHERE member = {row}.{column}); END")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, _, columns in (*WATCHED, KEPT):
        if postgres:
            op.execute(f"DROP TRIGGER assessment_change_{table} ON {table}")
            op.execute(f"DROP FUNCTION assessment_change_{table}()")
        else:
            for event in ("insert", "delete", "update") if columns else ("update",):
                op.execute(f"DROP TRIGGER assessment_change_{table}_{event}")
    op.drop_table("assessmentchange")
    op.drop_table("keptresult")
    op.drop_table("keptassessment")
