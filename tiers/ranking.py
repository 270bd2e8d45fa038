"""Points rankings: who is on the board, in which order, and with which rank."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RankEntry:
    member: str
    name: str
    points: int
    rank: int


def rank(
    points: Mapping[str, int],
    names: Mapping[str, str],
    *,
    limit: int = 10,
) -> list[RankEntry]:
    """The top `limit` members by points, with competition ranks ("1224").

    Members with 0 points or fewer are left out: a board of zeros helps nobody. Ties
    share a rank and the next rank skips; within a tie the order is by name, then by
    member id, so the board is the same on every run. The cut is exactly `limit`
    entries, even if it falls inside a tie. A member without a known name is shown by id.
    """
    if limit <= 0:
        return []
    scored = ((-p, names.get(m, m), m) for m, p in points.items() if p > 0)
    top = heapq.nsmallest(limit, scored)
    board: list[RankEntry] = []
    for i, (neg, name, member) in enumerate(top):
        tied = bool(board) and board[-1].points == -neg
        position = board[-1].rank if tied else i + 1
        board.append(RankEntry(member, name, -neg, position))
    return board
