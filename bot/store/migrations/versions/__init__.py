"""The core chain of schema migrations; each feature has its own branch beside it.

Where a migration goes:

- A change to a shared table (bot/store/models.py: members, rooms, memberships, the event
  log, daily counters, outbox, accounts, sessions, the audit log) goes here, in the core
  chain. A change to a feature's tables (bot/features/<feature>/models.py) goes in that
  feature's own folder, bot/features/<feature>/migrations/: one alembic branch per feature,
  labelled with the feature's name, whose first revision builds on the core revision that
  was newest when it was written. A migration that needs another feature's tables names that
  revision in `depends_on`.
- Never write a revision id by hand. `qunguan db revision --feature <feature> -m "what"`
  (or without `--feature` for the core) writes the file with a generated id (alembic's
  `command.revision`) at the end of the right branch; write its `op.*` operations. Two
  engineers adding migrations to different features never collide; two adding to the same
  feature or to the core get two heads there, which tests/test_migrations.py refuses (the
  later one sets its `down_revision` to the other's id).
- 0001..0011 are frozen history: release 0.1.0 and 0.2.0 stores are stamped with these
  hand-numbered ids. Never renumber or edit them.

bot.store.migrate finds the locations (this folder and every bot/features/*/migrations/),
reads each file's `revision`, `down_revision`, `depends_on` and `branch_labels` without
loading alembic, and upgrades a store to every head ("heads") only when its version table
differs from them; tests/test_migrations.py checks that reading against alembic's, one head
per location, every revision in its place, and that models and migrations agree.
"""
