"""Adapters: where events come from and where replies go."""
