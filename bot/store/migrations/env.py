"""The alembic environment: runs on the connection bot.store.migrate hands over, never on its own.

There is no alembic.ini: bot.store.migrate builds the Config, opens a transaction on the
connection (under its lock) and passes the connection in `config.attributes["connection"]`.
Because that transaction is already open, alembic runs inside it and leaves commit or
rollback to the caller, so a failed migration changes nothing.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from bot.store.migrate import load_models

load_models()  # every table, for autogenerate's comparisons

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through bot.store.migrate (or `qunguan db upgrade`), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
)
with context.begin_transaction():
    context.run_migrations()
