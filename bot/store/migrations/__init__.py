"""The alembic migrations of the store: env.py and versions/, run by bot.store.migrate."""
