"""The stored daily jobs point at the 0.2.0 scheduler entry point.

Release 0.1.0 stored its APScheduler jobs as references to `bot.scheduler:daily_tags` and
`bot.scheduler:daily_followup`; 0.2.0 has one entry point, `bot.core.scheduler:run_job`,
which takes the job's id. The jobs are rewritten in place, keeping their next run time, so
a run that was due while the bot was being upgraded still fires once. The table belongs to
APScheduler, which creates it on first start: a store that never ran the scheduler has none.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "scheduled_jobs"
OLD = {"bot.scheduler:daily_tags": "daily_tags", "bot.scheduler:daily_followup": "daily_followup"}
NEW = "bot.core.scheduler:run_job"


def _jobs() -> Iterator[tuple[str, dict[str, Any], Callable[[dict[str, Any]], None]]]:
    """Each stored job: its id, APScheduler's unpickled job state, and a way to store it back."""
    conn = op.get_bind()
    if not sa.inspect(conn).has_table(TABLE):
        return
    jobs = sa.table(TABLE, sa.column("id", sa.String), sa.column("job_state", sa.LargeBinary))
    for job_id, blob in conn.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        def store(state: dict[str, Any], job_id: str = job_id) -> None:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(job_state=pickle.dumps(state)))
        yield job_id, pickle.loads(blob), store  # our own table, written by APScheduler


def upgrade() -> None:
    for _, state, store in _jobs():
        if state.get("func") in OLD:
            store(state | {"func": NEW, "args": (OLD[state["func"]],)})


def downgrade() -> None:
    back = {job: ref for ref, job in OLD.items()}
    for _, state, store in _jobs():
        if state.get("func") == NEW and state.get("args") and state["args"][0] in back:
            store(state | {"func": back[state["args"][0]], "args": ()})
