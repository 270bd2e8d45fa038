"""Recalls (撤回): a recalled message stops counting."""
