"""The segments feature's migrations: its own alembic branch (see bot/store/migrations/versions/__init__.py)."""
