"""Counting members per category (every category present, in order), and medians."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def tally(categories: Iterable[K], found: Iterable[K]) -> dict[K, int]:
    """How many of `found` fall in each category; 0 for the categories none fall in."""
    counts = dict.fromkeys(categories, 0)
    for key in found:
        counts[key] += 1
    return counts


def median(sorted_values: Sequence[float]) -> float:
    """The median of values already sorted; 0 when there are none."""
    n = len(sorted_values)
    if n == 0:
        return 0.0
    mid = n // 2
    if n % 2:
        return float(sorted_values[mid])
    return (sorted_values[mid - 1] + sorted_values[mid]) / 2
