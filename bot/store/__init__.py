"""The store: SQLModel tables in SQLite (default) or any SQLAlchemy database."""
