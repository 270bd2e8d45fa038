"""Feature packages: each owns its service, pipeline hook, commands, pages and report fields."""
