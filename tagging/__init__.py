"""Tagging logic: keyword and count rules, matching, tag decisions and reasons (pure, no I/O)."""
