"""The core: events, the pipeline, the outbox, settings, commands and the scheduler."""
