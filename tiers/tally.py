"""Counting members per category, every category present and in its own order."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def tally(categories: Iterable[K], found: Iterable[K]) -> dict[K, int]:
    """How many of `found` fall in each category; 0 for the categories none fall in."""
    counts = dict.fromkeys(categories, 0)
    for key in found:
        counts[key] += 1
    return counts
