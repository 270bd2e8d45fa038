"""The outbox page: bot messages that may not have arrived (unknown) or did not (failed)."""
