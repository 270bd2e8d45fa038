"""Errors that chat commands answer with a Chinese reply instead of a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input to a command; the text says what was wrong. The usage line is appended
    unless the text already shows the right form (`show_usage=False`)."""

    def __init__(self, text: str, *, show_usage: bool = True) -> None:
        super().__init__(text)
        self.show_usage = show_usage


class Refused(Exception):
    """The sender may not run this command."""
