"""Qunguan (群管): the bot's I/O side: settings, events, adapters, pipeline, store, commands."""
