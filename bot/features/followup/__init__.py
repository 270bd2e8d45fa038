"""Follow-up: operators, the daily list, and what was followed up."""
