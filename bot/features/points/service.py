"""The points ledger: every change is a row, and the member's cached total moves with it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.pipeline import Batch
from bot.features.points.models import PointsEntry
from bot.store.db import bulk_rows, first_row, values_of
from bot.store.models import NO_ROOM, Member, table_of
from tiers.levels import DEFAULT_LEVELS, Benefits, Level, levels_crossed


class Award(NamedTuple):
    """One ledger row to write (a tuple: a long import writes tens of thousands)."""

    member: str
    delta: int
    kind: str  # checkin | streak_bonus | speaking | manual | makeup
    ts: int
    day: date
    room: str | None = None
    reason: str | None = None
    ref: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class PointsChange:
    """One member's points before and after an award, and the levels reached on the way."""

    member: str
    before: int
    after: int
    reached: tuple[Level, ...]  # levels crossed upwards, lowest first
    room: str | None  # where the last award of the batch happened (None: 1:1)
    unlocked: tuple[str, ...] = ()  # benefits (权益) of the levels reached


_INSERT = table_of(PointsEntry).insert()
_ENTRY_COLUMNS = ("member", "ts", "day", "delta", "kind", "reason", "room", "ref", "by")
_ADD_POINTS = (update(table_of(Member)).where(table_of(Member).c.id == bindparam("mid"))
               .values(points=table_of(Member).c.points + bindparam("d")))
_m = table_of(Member).c
# Speaking's last counted time, stored with the total where an award moves it: one write of the row.
_ADD_POINTS_COUNTED = _ADD_POINTS.values(last_counted_at=bindparam("at"))
_SET_COUNTED = update(table_of(Member)).where(_m.id == bindparam("mid")).values(last_counted_at=bindparam("at"))
_ADD_POINTS_ONE = _ADD_POINTS.returning(_m.points)
_POINTS_OF_ONE = select(_m.points).where(_m.id == bindparam("mid"))
# Spending takes the points only where they are there: the check and the change are one
# statement, so two spends at once (two processes on PostgreSQL) cannot both pass it.
_SPEND = (update(table_of(Member)).where(_m.id == bindparam("mid"), _m.points >= bindparam("cost"))
          .values(points=_m.points - bindparam("cost")))


class Ledger:
    def __init__(self, levels: Sequence[Level] = DEFAULT_LEVELS, benefits: Benefits | None = None) -> None:
        self.levels = tuple(levels)
        self.benefits: Benefits = dict(benefits or {})
        # Called with the members about to be awarded, before their totals are read: points
        # a hook still keeps in memory (this batch's speaking) are paid first, so an award
        # never starts from a total that misses points earned earlier in the batch.
        self.settle: Callable[[Batch, Sequence[str]], None] | None = None

    def spend(self, conn: Connection, member: str, cost: int, *, kind: str, ts: int, day: date,
              room: str | None = None, reason: str | None = None, ref: str | None = None,
              by: str | None = None) -> PointsChange | None:
        """Take `cost` points (> 0) from a member, never below zero: None when the member has
        too few, and then nothing was written."""
        if cost <= 0:
            raise ValueError("cost must be positive")
        result = conn.execute(_SPEND, {"mid": member, "cost": cost})
        if result.rowcount != 1:
            return None
        conn.execute(_INSERT, {"member": member, "ts": ts, "day": day, "delta": -cost, "kind": kind,
                               "reason": reason, "room": room or NO_ROOM, "ref": ref, "by": by})
        after = self.points_of(conn, [member]).get(member, 0)
        return PointsChange(member, after + cost, after, (), room)

    def points_of(self, conn: Connection, members: Sequence[str]) -> dict[str, int]:
        if len(members) == 1:  # a check-in's: one statement compiled once, not an IN list
            found = first_row(conn, _POINTS_OF_ONE, {"mid": members[0]})
            return {} if found is None else {members[0]: found[0]}
        return values_of(conn, col(Member.id), col(Member.points), members)

    def award(self, batch: Batch, awards: Sequence[Award], *,
              counted_at: Mapping[str, int | None] | None = None) -> dict[str, PointsChange]:
        """Write ledger rows and move totals; returns each member's change. `counted_at` are
        members' last counted times (speaking's anti-farming) to store as well: with the total,
        in the same statement, where it moves.

        Members must already be stored (the batch flushes them first)."""
        conn = batch.conn
        counted = dict(counted_at or {})
        awards = [a for a in awards if a.delta]
        if not awards:
            bulk_rows(conn, _SET_COUNTED, ("mid", "at"), list(counted.items()))
            return {}
        members = sorted({a.member for a in awards})
        if self.settle is not None:
            self.settle(batch, members)
        delta: dict[str, int] = {}
        where: dict[str, str | None] = {}
        for a in awards:
            delta[a.member] = delta.get(a.member, 0) + a.delta
            where[a.member] = a.room
        if len(members) == 1:  # a check-in's: the total moves and is read in one statement
            (m,) = members
            after = first_row(conn, _ADD_POINTS_ONE, {"mid": m, "d": delta[m]})
            before = {} if after is None else {m: after[0] - delta[m]}
        else:
            before = self.points_of(conn, members)
            paired: list[tuple[str, int, int | None]] = []  # with a last counted time to store
            alone: list[tuple[str, int]] = []
            for m, d in delta.items():
                if m in counted:
                    paired.append((m, d, counted.pop(m)))
                else:
                    alone.append((m, d))
            bulk_rows(conn, _ADD_POINTS_COUNTED, ("mid", "d", "at"), paired)
            bulk_rows(conn, _ADD_POINTS, ("mid", "d"), alone)
        bulk_rows(conn, _SET_COUNTED, ("mid", "at"), list(counted.items()))  # the members without an award
        bulk_rows(conn, _INSERT, _ENTRY_COLUMNS, [
            (a.member, a.ts, a.day, a.delta, a.kind, a.reason, a.room or NO_ROOM, a.ref, a.by) for a in awards])
        out = {}
        for m in members:
            old = before.get(m, 0)
            new = old + delta[m]
            reached = tuple(levels_crossed(old, new, self.levels))
            unlocked = tuple(b for lv in reached for b in self.benefits.get(lv.n, ()))
            out[m] = PointsChange(m, old, new, reached, where[m], unlocked)
        return out
