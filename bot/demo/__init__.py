"""The demo: a generated sample community, replayed, reported and served."""
