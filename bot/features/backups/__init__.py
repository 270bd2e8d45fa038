"""Nightly backups of the store, in the run that leads the daily jobs."""
