"""One file per schema change, applied in order by bot.store.migrate.

To change the schema: change bot/store/models.py, then add `NNNN_what_changed.py` here with
`revision = "NNNN"` (the file's number, one more than the last) and `down_revision` the
previous number, writing the operations out with `op.*`. The revision is the file's number
because bot.store.migrate reads the head from the file names, without loading alembic, on
every start; tests/test_migrations.py checks that convention and that models and
migrations agree.
"""
